"""The matching stage: shop records in, entities with golden records and stable ids out.

normalise (:mod:`dedupe.prepare.columns_of`) → block (:mod:`dedupe.block.keys`) → score
(:mod:`dedupe.score.model`, weights from :mod:`dedupe.score.estimate`) → cluster
(:mod:`dedupe.cluster.clustering`) → stable ids (:mod:`dedupe.cluster.entity_ids`) → golden
records (:mod:`dedupe.golden.records`), all kept in a
:class:`~dedupe.state.match_state.MatchState` that later runs update incrementally.

>>> from aggregator.models import ShopRecord
>>> a = ShopRecord(platform="toutoulouse", source_id="1", name="SARL Boulangerie Ange",
...                phone="05 61 22 33 44")
>>> b = ShopRecord(platform="clicknco", source_id="9", name="Boulangerie Ange",
...                phone="+33 5 61 22 33 44")
>>> len(match_shops([a, b]).entities)
1
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aggregator.models import Decision, RecordKey, ShopRecord
from dedupe.block.keys import BlockingRules
from dedupe.config import MatchConfig, Thresholds
from dedupe.prepare.columns_of import prepare
from dedupe.prepare.reused import Normalised
from dedupe.prepare.table import ShopTable
from dedupe.prepare.taxonomy import Taxonomy
from dedupe.score.model import MatchModel
from dedupe.state.match_state import MatchState
from dedupe.state.result import MatchResult

__all__ = ["MatchResult", "Thresholds", "explain", "match_shops", "match_table", "update"]


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
    estimate: bool | str = "auto",
    record_dates: Mapping[str, datetime] | None = None,
    keep_pairs: bool = False,
) -> MatchResult:
    """Match shop records into entities.

    ``platform_priority`` (higher wins) and ``record_dates`` (record key -> last change) break
    survivorship ties in golden records; ``platform_domains`` are the marketplaces' own
    domains, never read as a shop's website. ``model=None`` estimates weights from the data
    when there are enough records (``estimate``), else uses the a priori defaults. Records
    sharing a (platform, source_id) key raise ``ValueError``.
    """
    config = MatchConfig(
        thresholds=thresholds or Thresholds(),
        model=model,
        estimate=estimate,
        blocking=blocking or BlockingRules(),
        taxonomy=taxonomy,
        platform_domains=tuple(platform_domains),
        platform_priority=dict(platform_priority or {}),
        record_dates={str(k): v for k, v in (record_dates or {}).items()},
        keep_pairs=keep_pairs,
    )
    table = ShopTable.from_records(sorted(records, key=lambda r: (r.platform, r.source_id)))
    return match_table(table, decisions, previous_ids, config)


def match_table(
    table: ShopTable,
    decisions: Sequence[Decision] = (),
    previous_ids: Mapping[RecordKey, str] | Mapping[str, str] | None = None,
    config: MatchConfig | None = None,
    kept: Normalised | None = None,
) -> MatchResult:
    """Match a table of records (see :mod:`dedupe.prepare.table`) from scratch; ``kept``: its
    rows an earlier state of this process normalised already (:mod:`dedupe.prepare.reused`),
    with the same taxonomy and marketplace domains."""
    started = time.perf_counter()
    state = MatchState(config)
    previous: Mapping[str, str] = previous_ids or {}  # type: ignore[assignment]
    if not all(type(k) is str for k in previous):  # a million stored ids are not copied
        previous = {str(k): v for k, v in previous.items()}
    changed, removed = state.update(
        table, decisions=list(decisions), previous_ids=previous, kept=kept
    )
    return MatchResult(state, changed, removed, started)


def update(
    result_or_state: MatchResult | MatchState,
    upserts: Sequence[ShopRecord] | ShopTable = (),
    removed: Iterable[RecordKey | str] = (),
    decisions: Sequence[Decision] | None = None,
    record_dates: Mapping[str, datetime] | None = None,
) -> MatchResult:
    """Match new and changed records (and removals, and a new decision set) into an existing
    result without recomputing the rest; returns the updated result, whose ``changed`` and
    ``removed`` name the entities to re-index and to delete. ``record_dates`` (key -> last
    change) feed the recency rule of golden records."""
    started = time.perf_counter()
    state = result_or_state.state if isinstance(result_or_state, MatchResult) else result_or_state
    if record_dates:
        state.config.record_dates.update({str(k): v for k, v in record_dates.items()})
    table = upserts if isinstance(upserts, ShopTable) else ShopTable.from_records(upserts)
    changed, gone = state.update(table, [str(k) for k in removed], decisions)
    return MatchResult(state, changed, gone, started)


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
