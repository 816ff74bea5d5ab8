"""The matching stage: shop records in, entities with golden records and stable ids out.

normalise (:mod:`dedupe.prepare`) → block (:mod:`dedupe.blocking`) → score
(:mod:`dedupe.scoring`) → cluster (:mod:`dedupe.clustering`) → golden records
(:mod:`dedupe.golden`) → stable ids (:mod:`dedupe.ids`).

>>> from aggregator.models import ShopRecord
>>> a = ShopRecord(platform="toutoulouse", source_id="1", name="SARL Boulangerie Ange",
...                phone="05 61 22 33 44")
>>> b = ShopRecord(platform="clicknco", source_id="9", name="Boulangerie Ange",
...                phone="+33 5 61 22 33 44")
>>> len(match_shops([a, b]).entities)
1
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aggregator.models import (
    CandidatePair,
    Decision,
    Entity,
    Listing,
    RecordKey,
    ShopRecord,
    Verdict,
)
from dedupe.blocking import BlockingRules, candidate_pairs
from dedupe.clustering import cluster
from dedupe.golden import GoldenBuilder
from dedupe.ids import assign_entity_ids
from dedupe.prepare import prepare
from dedupe.scoring import MatchModel, probability
from dedupe.taxonomy import Taxonomy


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: ``upper`` and above merge, ``lower`` to ``upper`` go to review.

    ``conflict_bits``: a merge is refused when two records it would join show conflict
    evidence (see :mod:`dedupe.scoring`) at or below minus this many bits.
    """

    upper: float = 0.9
    lower: float = 0.5
    conflict_bits: float = 4.0

    def __post_init__(self) -> None:
        if not 0.0 < self.lower <= self.upper < 1.0:
            raise ValueError("thresholds: expected 0 < lower <= upper < 1")

    @staticmethod
    def weight(p: float) -> float:
        """The match weight (bits) of a probability."""
        return math.log2(p / (1.0 - p))


@dataclass
class MatchResult:
    """Entities (every record in exactly one), review candidates and run figures."""

    entities: list[Entity]
    candidates: list[CandidatePair]
    stats: dict[str, Any] = field(default_factory=dict)

    def assignments(self) -> dict[RecordKey, str]:
        """Record key -> entity id (the ``previous_ids`` of the next run)."""
        return {key: entity.entity_id for entity in self.entities for key in entity.members}


def match_shops(
    records: Sequence[ShopRecord],
    decisions: Sequence[Decision] = (),
    previous_ids: Mapping[RecordKey, str] | None = None,
    thresholds: Thresholds | None = None,
    taxonomy: Taxonomy | None = None,
    *,
    model: MatchModel | None = None,
    blocking: BlockingRules | None = None,
    platform_priority: Mapping[str, int] | None = None,
    platform_domains: Iterable[str] = (),
) -> MatchResult:
    """Match shop records into entities.

    ``platform_priority`` (higher wins) breaks survivorship ties in golden records;
    ``platform_domains`` are the marketplaces' own domains, never read as a shop's website.
    Records sharing a (platform, source_id) key raise ``ValueError``.
    """
    started = time.perf_counter()
    thresholds = thresholds or Thresholds()
    model = model or MatchModel()
    ordered = sorted(records, key=lambda r: f"{r.platform}:{r.source_id}")
    prepared = prepare(ordered, taxonomy, platform_domains)
    keys = prepared.keys
    duplicates = sorted({a for a, b in zip(keys, keys[1:], strict=False) if a == b})
    if duplicates:
        raise ValueError(f"duplicate record keys: {', '.join(duplicates[:5])}")
    row_of = {key: row for row, key in enumerate(keys)}

    blocks = candidate_pairs(prepared, blocking)
    scored = model.score(prepared, blocks.a, blocks.b)
    must, cannot, decided = _decision_rows(decisions, row_of)
    clustering = cluster(
        len(ordered),
        scored,
        upper_weight=Thresholds.weight(thresholds.upper),
        must_links=must,
        cannot_links=cannot,
        conflict_of=lambda i, j: model.score_one(prepared, i, j)[1],
        conflict_bits=thresholds.conflict_bits,
    )

    groups: dict[int, list[int]] = {}
    for row, label in enumerate(clustering.labels):
        groups.setdefault(label, []).append(row)
    clusters = [groups[label] for label in sorted(groups)]
    previous = {str(k): v for k, v in (previous_ids or {}).items()}
    ids = assign_entity_ids([[keys[r] for r in rows] for rows in clusters], previous)
    golden = GoldenBuilder(ordered, prepared, platform_priority)
    entities = [
        _entity(entity_id, rows, ordered, golden)
        for entity_id, rows in zip(ids, clusters, strict=True)
    ]

    lower_weight = Thresholds.weight(thresholds.lower)
    upper_weight = Thresholds.weight(thresholds.upper)
    candidates: list[CandidatePair] = []
    for k in range(len(scored)):
        weight, a, b = scored.weights[k], scored.a[k], scored.b[k]
        if weight < lower_weight or (a, b) in decided:
            continue
        refused = clustering.refused.get((a, b))
        if weight >= upper_weight and refused is None:
            continue
        explanation = model.explain(prepared, a, b)
        explanation["same_entity"] = clustering.labels[a] == clustering.labels[b]
        if refused:
            explanation["refused"] = refused
        candidates.append(
            CandidatePair(
                a=ordered[a].key,
                b=ordered[b].key,
                probability=probability(weight),
                explanation=explanation,
            )
        )
    candidates.sort(key=lambda c: (-c.probability, str(c.a), str(c.b)))

    stats: dict[str, Any] = {
        "records": len(ordered),
        "candidate_pairs": len(scored),
        "merged_pairs": len(clustering.merged),
        "review_pairs": len(candidates),
        "refused_merges": len(clustering.refused),
        "refused_must_links": len(clustering.refused_must_links),
        "decisions_applied": len(must) + len(cannot),
        "entities": len(entities),
        "blocking": blocks.stats,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return MatchResult(entities=entities, candidates=candidates, stats=stats)


def _decision_rows(
    decisions: Sequence[Decision], row_of: Mapping[str, int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], set[tuple[int, int]]]:
    """Decisions as row pairs, the latest per pair (a cannot-link wins a tie); decisions about
    records not in this run are ignored."""

    def rank(decision: Decision) -> tuple[datetime, bool]:
        when = decision.decided_at
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return when, decision.verdict == Verdict.cannot_link

    latest: dict[tuple[int, int], Decision] = {}
    for decision in decisions:
        a, b = row_of.get(str(decision.a)), row_of.get(str(decision.b))
        if a is None or b is None or a == b:
            continue
        pair = (min(a, b), max(a, b))
        if pair not in latest or rank(decision) > rank(latest[pair]):
            latest[pair] = decision
    # Must-links apply newest first: when they contradict a cannot-link, the older one yields.
    musts = [(rank(d)[0], p) for p, d in latest.items() if d.verdict == Verdict.must_link]
    must = [p for _, p in sorted(musts, key=lambda item: (-item[0].timestamp(), item[1]))]
    cannot = sorted(p for p, d in latest.items() if d.verdict == Verdict.cannot_link)
    return must, cannot, set(latest)


def _entity(
    entity_id: str, rows: list[int], records: Sequence[ShopRecord], golden: GoldenBuilder
) -> Entity:
    members = [records[r] for r in rows]
    names = list(dict.fromkeys(r.name.strip() for r in members))
    return Entity(
        entity_id=entity_id,
        members=[r.key for r in members],
        golden=golden.build(rows),
        listings=[
            Listing(platform=r.platform, source_id=r.source_id, url=r.url, name=r.name)
            for r in members
        ],
        names=names,
    )


def explain(
    a: ShopRecord,
    b: ShopRecord,
    *,
    taxonomy: Taxonomy | None = None,
    model: MatchModel | None = None,
    platform_domains: Iterable[str] = (),
) -> dict[str, Any]:
    """Why two records do or do not match.

    Returns ``{"fields": {comparison: {"level", "values", "measure", "weight"}},
    "prior_weight", "match_weight", "conflict_weight", "probability"}``; weights are in bits,
    ``values`` are the normalised values compared, ``measure`` the similarity (metres for
    ``distance``) the level was chosen on.
    """
    prepared = prepare([a, b], taxonomy, platform_domains, drop_shared=False)
    result = (model or MatchModel()).explain(prepared, 0, 1)
    result["a"], result["b"] = str(a.key), str(b.key)
    return result
