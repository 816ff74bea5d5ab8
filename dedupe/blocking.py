"""Blocking: which record pairs are worth scoring, so that the work grows with the records.

A pair is a candidate when the two records share any blocking key:

- ``siret``, ``phone`` (any of a record's numbers), ``email``, ``website`` domain;
- ``postcode + name token`` and ``town + name token`` for each name word that is not too
  common across all records (a platform without postcodes still names the town);
- ``house number + street word`` (the longest word of the street), which catches records from a
  platform that gives no postcode;
- ``geo cell + name token``: a ~200 m grid; a record meets the records of its own and the eight
  neighbouring cells that share one of its rarer name words (any word when it has no rare one).

Blocks larger than ``max_block_size`` are skipped (counted in the stats): a key that many
records share does not identify anything and would make the pair count quadratic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from dedupe.prepare import Prepared

_METRES_PER_DEGREE = 111_320.0
#: Longitude cells are sized for mainland France's middle latitude.
_REFERENCE_LATITUDE = 46.0
#: Street words too generic to block on.
_STREET_TYPES = frozenset(
    [
        "rue",
        "avenue",
        "boulevard",
        "place",
        "chemin",
        "route",
        "impasse",
        "allee",
        "faubourg",
        "cours",
        "quai",
        "square",
        "lotissement",
        "residence",
        "passage",
        "promenade",
        "esplanade",
        "hameau",
        "saint",
        "sainte",
        "grande",
        "grand",
    ]
)


@dataclass(frozen=True)
class BlockingRules:
    """Knobs of blocking. Defaults keep candidate pairs near-linear in the records."""

    max_block_size: int = 100
    #: A name word in more than this share of records (and at least ``common_token_min``) is
    #: too common to pair records on with their postcode.
    common_token_share: float = 0.005
    common_token_min: int = 30
    cell_m: float = 200.0


@dataclass
class Blocks:
    """Candidate pairs as two parallel row lists (``a[k] < b[k]``), sorted, plus counts."""

    a: list[int]
    b: list[int]
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.a)


def candidate_pairs(prepared: Prepared, rules: BlockingRules | None = None) -> Blocks:
    """Every pair of rows sharing a blocking key, each once."""
    rules = rules or BlockingRules()
    n = len(prepared)
    common = _common_tokens(prepared, rules)
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, key in _keys(prepared, common):
        blocks[key].append(i)
    pairs: set[int] = set()
    stats: Counter[str] = Counter()
    for key, rows in blocks.items():
        if len(rows) < 2:
            continue
        rule = key.split("|", 1)[0]
        if len(rows) > rules.max_block_size:
            stats[f"skipped_blocks_{rule}"] += 1
            continue
        before = len(pairs)
        _add_all_pairs(pairs, rows, n)
        stats[f"pairs_{rule}"] += len(pairs) - before
    before = len(pairs)
    _add_geo_pairs(pairs, prepared, rules, n, common)
    stats["pairs_geo"] += len(pairs) - before
    ordered = sorted(pairs)
    stats["pairs"] = len(ordered)
    return Blocks([p // n for p in ordered], [p % n for p in ordered], dict(stats))


def _common_tokens(prepared: Prepared, rules: BlockingRules) -> frozenset[str]:
    counts: Counter[str] = Counter()
    for tokens in prepared.name_tokens:
        counts.update(tokens)
    limit = max(rules.common_token_min, rules.common_token_share * len(prepared))
    return frozenset(token for token, count in counts.items() if count > limit)


def _keys(prepared: Prepared, common: frozenset[str]) -> Iterator[tuple[int, str]]:
    for i in range(len(prepared)):
        if prepared.sirets[i]:
            yield i, f"siret|{prepared.sirets[i]}"
        for phone in prepared.phones[i]:
            yield i, f"phone|{phone}"
        if prepared.emails[i]:
            yield i, f"email|{prepared.emails[i]}"
        if prepared.domains[i]:
            yield i, f"website|{prepared.domains[i]}"
        places = [p for p in (prepared.postcodes[i], prepared.cities[i]) if p]
        for place in places:
            for token in prepared.name_tokens[i]:
                if token not in common:
                    yield i, f"name|{place}|{token}"
        number, street = prepared.numbers[i], prepared.streets[i]
        if number and street:
            words = [w for w in street.split() if len(w) > 2 and w not in _STREET_TYPES]
            if words:
                yield i, f"address|{number.split()[0]}|{max(words, key=len)}"


def _add_all_pairs(pairs: set[int], rows: list[int], n: int) -> None:
    rows = sorted(set(rows))
    for x, i in enumerate(rows):
        base = i * n
        pairs.update(base + j for j in rows[x + 1 :])


def _add_geo_pairs(
    pairs: set[int], prepared: Prepared, rules: BlockingRules, n: int, common: frozenset[str]
) -> None:
    """Pairs within neighbouring ~``cell_m`` cells that share a name word.

    Every word is indexed, but a record looks its neighbours up by its rarer words only
    ("ange" of "Boulangerie Ange"), or by all its words when it has no rare one ("Boulangerie").
    """
    dlat = rules.cell_m / _METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(_REFERENCE_LATITUDE))
    cells: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    located: list[tuple[int, int, int]] = []
    for i in range(len(prepared)):
        lat, lon = prepared.lats[i], prepared.lons[i]
        if lat is None or lon is None or not prepared.name_tokens[i]:
            continue
        ci, cj = math.floor(lat / dlat), math.floor(lon / dlon)
        located.append((i, ci, cj))
        for token in prepared.name_tokens[i]:
            cells[(ci, cj, token)].append(i)
    limit = rules.max_block_size
    for i, ci, cj in located:
        tokens = prepared.name_tokens[i]
        query = [t for t in tokens if t not in common] or tokens
        for token in query:
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    rows = cells.get((ci + di, cj + dj, token))
                    if not rows or len(rows) > limit:
                        continue
                    pairs.update(i * n + j if i < j else j * n + i for j in rows if j != i)
