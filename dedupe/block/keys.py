"""Blocking keys: which record pairs are worth scoring, so that the work grows with the records.

A pair is a candidate when the two records share any blocking key:

- ``siret``, ``phone`` (any of a record's numbers), ``email``, ``website`` domain (identifiers
  shared too widely are already blanked, see :mod:`dedupe.golden.shared_identifiers`);
- ``name``: postcode + name word, and ``town``: town + name word, for each name word that is
  not too common across all records (a platform without postcodes still names the town; town
  blocks only pair a record without postcode or without position with another);
- ``address``: house number + longest street word + département (or town), and ``street``:
  the same alone for records with neither postcode nor town; they catch
  records whose names differ ("Chez Paul" / "Restaurant Chez Paul" are caught by ``name``,
  "Le Fournil" / "Boulangerie Léa" at one address by this);
- ``geo``: a ~400 m cell + name word (up to two words per record), on four grids shifted by
  half a cell, so that any two points less than 200 m apart share a cell on one grid;
- ``word``: a name word alone, anywhere, pairing a record with neither postcode nor
  coordinates with any other without coordinates ("Monumento Lázaro Cárdenas" without any
  place and "Monumento a Lázaro Cárdenas" in 77090);
- ``whole``: the whole name without its spaces, anywhere, between records without
  coordinates, when at most ``max_whole_block_size`` records hold it ("MakiMori" / "Maki
  Mori", "Va Va Vooom" / "VaVaVooom"; scripts written without spaces);
- ``same``: the whole name and the postcode's first three digits, however common the name's
  words, and ``same_town``: the whole name and the town, for a record without postcode
  ("Starbucks" in 16801 and 16802, or twice in Calgary), when at most
  ``max_same_block_size`` records hold it (a chain's local branches);
- ``near``: a ~80 m cell alone, on four shifted grids: two points within 40 m meet whatever
  their names ("Dance Base" / "Dancebase", "Sambuca" / "Sambucca");
- ``wide``: the whole name, or its first letters when not common, on ~1.6 km cells on four
  shifted grids: one place geocoded up to 800 m apart by two platforms ("Relish" at a
  street's two ends, "WHSmith" / "W H Smith").

Blocks larger than the rule's limit are skipped and counted: a key many records share does not
identify anything and would make the pair count quadratic. Every key depends only on its own
record and on whether a name word is *common* (``common_limit`` records or more), so an
incremental run recomputes the keys of changed records only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import chain

import numpy as np

from dedupe.prepare.arrays import isin
from dedupe.prepare.text import key_tokens, word_length

_METRES_PER_DEGREE = 111_320.0
#: Longitude cells are sized for mainland France's middle latitude.
_REFERENCE_LATITUDE = 46.0
RULES: tuple[str, ...] = (
    "siret", "phone", "email", "website", "name", "town", "address", "street", "geo", "near",
    "whole", "word", "same", "same_town", "wide",
)  # fmt: skip
RULE_CODE = {rule: code for code, rule in enumerate(RULES)}


def pair_filters(prepared) -> dict[int, np.ndarray]:  # noqa: ANN001
    """Rules whose blocks pair only records of which at least one has the flag: ``town``
    pairs need a record without postcode (with postcodes, ``name`` pairs them) or without
    position (two postcodes of one town, "65060-645" / "65052-050" in São Luís, and no point
    to meet by), ``same_town`` one without postcode (``same`` pairs the others), ``street``
    one with neither postcode nor town, ``word`` one with neither postcode nor position."""
    no_postcode = prepared.postcode < 0
    return {
        RULE_CODE["town"]: no_postcode | np.isnan(prepared.lat),
        RULE_CODE["same_town"]: no_postcode,
        RULE_CODE["street"]: no_postcode & (prepared.city_hash == 0),
        RULE_CODE["word"]: no_postcode & np.isnan(prepared.lat),
    }


@dataclass(frozen=True)
class BlockingRules:
    """Knobs of blocking. Defaults keep candidate pairs near-linear in the records."""

    max_block_size: int = 100
    #: Geographic blocks are denser (every shop of a street): a smaller limit.
    max_geo_block_size: int = 40
    #: A whole name held anywhere by more records than this is a chain's or a common one.
    max_whole_block_size: int = 6
    #: The whole name in one postcode area or town: more records are a chain's, not a place.
    max_same_block_size: int = 12
    #: A name word in more than this share of records (and more than ``common_token_min``)
    #: is too common to pair records on.
    common_token_share: float = 0.002
    common_token_min: int = 30
    #: The resolved limit (records) for a common word: fixed by the first full run, kept by
    #: incremental runs so that their keys stay those of a full run with the same rules.
    common_limit: int | None = None
    cell_m: float = 400.0
    #: Cell of the ``wide`` rule (name words and whole name over a district).
    wide_m: float = 1600.0
    #: Cell of the ``near`` rule (no name word): small, its blocks are every shop around.
    near_m: float = 80.0
    #: Rules switched off (for measuring what each one adds).
    disabled: frozenset[str] = frozenset()

    def resolve(self, n_records: int) -> BlockingRules:
        if self.common_limit is not None:
            return self
        limit = max(self.common_token_min, int(self.common_token_share * n_records))
        return replace(self, common_limit=limit)

    def limit(self, rule_code: int) -> int:
        if rule_code == RULE_CODE["whole"]:
            return self.max_whole_block_size
        if rule_code in (RULE_CODE["same"], RULE_CODE["same_town"]):
            return self.max_same_block_size
        dense = rule_code in (RULE_CODE["geo"], RULE_CODE["near"], RULE_CODE["wide"])
        return self.max_geo_block_size if dense else self.max_block_size


_MASK = (1 << 64) - 1


def _mix(*parts: np.ndarray | int, start: np.ndarray | None = None) -> np.ndarray:
    """A 64-bit key from several integer columns (splitmix64 finaliser over each part),
    continuing from the keys ``start`` when given."""
    with np.errstate(over="ignore"):
        acc = np.zeros(1, dtype=np.uint64) if start is None else start.view(np.uint64)
        for part in parts:
            x = acc ^ np.asarray(part).astype(np.uint64)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            acc = x ^ (x >> np.uint64(31))
    return acc.view(np.int64)


@dataclass
class Words:
    """Name words of some rows, flat: ``count[k]`` words for the k-th row, then each word's
    hash and length, negative for the name's prefix key (see :func:`word_length`)."""

    count: np.ndarray
    hash: np.ndarray
    length: np.ndarray

    @property
    def owner(self) -> np.ndarray:
        """For each word, the position of its row."""
        return np.repeat(np.arange(len(self.count)), self.count)

    @classmethod
    def of(cls, names: Sequence[str]) -> Words:
        words = [key_tokens(name) for name in names]
        flat = list(chain.from_iterable(words))
        return cls(
            np.fromiter(map(len, words), np.int16, count=len(words)),
            np.fromiter(map(hash, flat), np.int64, count=len(flat)),
            np.fromiter(map(word_length, flat), np.int16, count=len(flat)),
        )

    @classmethod
    def concat(cls, parts: Sequence[Words]) -> Words:
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("count", "hash", "length"))
        )


def word_counts(words: Words) -> Counter[int]:
    """How many of the rows hold each word (by hash)."""
    values, counts = np.unique(words.hash, return_counts=True)
    return Counter(dict(zip(values.tolist(), counts.tolist(), strict=True)))


#: The rule code in a key's lowest 4 bits (for the per-rule size limits and the stats).
RULE_BITS = np.int64(0xF)


def tag(keys: np.ndarray, rules: np.ndarray | int) -> np.ndarray:
    """Keys with their rule code in the lowest 4 bits."""
    return (keys & ~RULE_BITS) | np.asarray(rules).astype(np.int64)


class _Keys:
    """Blocking keys collected rule by rule, tagged with their rule, and the row of each: two
    compact arrays in the end (a million records hold some twenty million keys)."""

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self.keys: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.disabled = disabled

    def add(self, rule: str, keys: np.ndarray, rows: np.ndarray) -> None:
        if len(keys) and rule not in self.disabled:
            self.keys.append(tag(keys, RULE_CODE[rule]))
            self.rows.append(rows.astype(np.int32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(tagged keys, rows)``; the parts are let go as they are joined."""
        if not self.keys:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        keys = np.concatenate(self.keys)
        self.keys.clear()
        rows = np.concatenate(self.rows)
        self.rows.clear()
        return keys, rows


def row_keys(
    prepared,  # noqa: ANN001 - dedupe.prepare.columns_of.Prepared
    rows: np.ndarray,
    words: Words,
    common: np.ndarray,
    rules: BlockingRules,
) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, rows)`` of every blocking key of ``rows``, each key tagged with its rule (see
    :func:`tag`; ``words``: their name words; ``common``: the sorted hashes of words too
    common to block on)."""
    out = _Keys(rules.disabled)
    for rule, columns in (
        ("siret", ("siret",)),
        ("phone", ("phone1", "phone2")),
        ("email", ("email",)),
        ("website", ("domain",)),
    ):
        for column in columns:
            values = prepared.column(column)[rows]
            present = values != 0
            out.add(rule, _mix(RULE_CODE[rule], values[present]), rows[present])

    owner = words.owner
    kept = ~isin(words.hash, common)
    postcode = prepared.postcode[rows][owner]
    city = prepared.city_hash[rows][owner]
    unlocated = np.isnan(prepared.lat[rows])
    # Only records without postcode or coordinates hold word keys: the many that have them
    # meet by place, and a million records' every word would double the index.
    vague = kept & unlocated[owner]
    for rule, place, present in (
        ("name", postcode, kept & (postcode >= 0)),
        ("town", city, kept & (city != 0)),
        ("word", np.zeros_like(postcode), vague),
    ):
        code = RULE_CODE[rule]
        out.add(rule, _mix(code, place[present], words.hash[present]), rows[owner[present]])

    whole = prepared.whole_hash[rows]
    named = (whole != 0) & unlocated  # located records meet by place
    out.add("whole", _mix(RULE_CODE["whole"], whole[named]), rows[named])
    # The whole name in one postcode area (its first three digits) or, for a record without
    # postcode, one town, however common its words ("Starbucks" in 16801 and 16802, or in
    # Calgary): blocks are a chain's local branches.
    postcode, city = prepared.postcode[rows], prepared.city_hash[rows]
    for rule, mask, place in (
        ("same", (whole != 0) & (postcode >= 0), postcode // 100),
        ("same_town", (whole != 0) & (city != 0), city),
    ):
        out.add(rule, _mix(RULE_CODE[rule], whole[mask], place[mask]), rows[mask])
    _address_keys(prepared, rows, out)
    _geo_keys(prepared, rows, owner, words.hash, words.length.astype(np.int64), kept, rules, out)
    _wide_keys(prepared, rows, owner, words, kept, rules, out)
    return out.arrays()


def _address_keys(prepared, rows: np.ndarray, out: _Keys) -> None:  # noqa: ANN001
    number, word = prepared.number[rows], prepared.street_word[rows]
    has = (number > 0) & (word != 0)
    postcode, city = prepared.postcode[rows], prepared.city_hash[rows]
    code = RULE_CODE["address"]
    for mask, place in ((has & (postcode >= 0), postcode // 1000), (has & (city != 0), city)):
        out.add("address", _mix(code, number[mask], word[mask], place[mask]), rows[mask])
    # Alone, for a platform that gives neither postcode nor town: its blocks pair a placeless
    # record with any other, never two records that both say where they are.
    code = RULE_CODE["street"]
    out.add("street", _mix(code, number[has], word[has]), rows[has])


def _geo_keys(  # noqa: PLR0913
    prepared,  # noqa: ANN001
    rows: np.ndarray,
    owner: np.ndarray,
    word_hash: np.ndarray,
    length: np.ndarray,
    kept: np.ndarray,
    rules: BlockingRules,
    out: _Keys,
) -> None:
    """Up to two words per located record (its two longest uncommon words, else its two
    longest words) on four grids of ``cell_m`` cells shifted by half a cell."""
    lat, lon = prepared.lat[rows], prepared.lon[rows]
    located = ~np.isnan(lat)
    if not located.any():
        return
    _cells(lat[located], lon[located], rules.near_m, _mix(RULE_CODE["near"]), rows[located],
           "near", out)  # fmt: skip
    if not len(owner):
        return
    has_kept = np.zeros(len(rows), bool)
    has_kept[owner[kept]] = True
    usable = located[owner] & (kept | ~has_kept[owner])
    # Per record: longest first, then in name order (not by hash: hashes are salted per
    # process, and the choice must be the same in every run).
    order = np.lexsort((np.arange(len(owner)), -np.abs(length), owner))
    order = order[usable[order]]
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    rank = np.arange(len(order)) - np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    chosen = order[rank < 2]
    who, words = owner[chosen], word_hash[chosen]
    _cells(lat[who], lon[who], rules.cell_m, _mix(RULE_CODE["geo"], words), rows[who], "geo", out)


def _wide_keys(  # noqa: PLR0913
    prepared,  # noqa: ANN001
    rows: np.ndarray,
    owner: np.ndarray,
    words: Words,
    kept: np.ndarray,
    rules: BlockingRules,
    out: _Keys,
) -> None:
    """The whole name, and the name's first letters when not common, on four grids of
    ``wide_m`` cells: one place geocoded a few hundred metres off by another platform
    ("Relish" at a street's two ends, "WHSmith" / "W H Smith", "City Car Club" / "City Car
    Club Vehicle")."""
    lat, lon = prepared.lat[rows], prepared.lon[rows]
    whole = prepared.whole_hash[rows]
    named = ~np.isnan(lat) & (whole != 0)
    if named.any():
        base = _mix(RULE_CODE["wide"], whole[named])
        _cells(lat[named], lon[named], rules.wide_m, base, rows[named], "wide", out)
    prefix = kept & (words.length < 0) & ~np.isnan(lat[owner])
    if prefix.any():
        who = owner[prefix]
        base = _mix(RULE_CODE["wide"], words.hash[prefix])
        _cells(lat[who], lon[who], rules.wide_m, base, rows[who], "wide", out)


def _cells(  # noqa: PLR0913
    lat: np.ndarray,
    lon: np.ndarray,
    size_m: float,
    base: np.ndarray,
    owners: np.ndarray,
    rule: str,
    out: _Keys,
) -> None:
    """Keys ``base`` + the cell of each point, on four grids of ``size_m`` cells shifted by
    half a cell: two points closer than half a cell share a cell on one of them."""
    dlat = size_m / _METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(_REFERENCE_LATITUDE))
    y, x = lat / dlat, lon / dlon
    for grid, (oy, ox) in enumerate(((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))):
        # One number per cell of this grid (cells are far fewer than 2**24 a side).
        cell = (np.floor(y + oy).astype(np.int64) << 24) ^ np.floor(x + ox).astype(np.int64)
        out.add(rule, _mix(cell + (grid << 56), start=base), owners)
