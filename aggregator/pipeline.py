"""The flow: connectors → raw records → matching (:mod:`aggregator.matching`) → golden records
→ search index (:mod:`aggregator.consistency`)."""

from __future__ import annotations

import dataclasses
import logging
import time
import typing
from collections.abc import Callable
from typing import Any

from aggregator.matching import Matching, MatchOutcome
from aggregator.models import (
    ConnectorRegistration,
    OfferRecord,
    RecordType,
    Rejection,
    Run,
    ShopRecord,
    utcnow,
)
from aggregator.settings import Settings
from aggregator.store import IngestBatch, Store
from connectors.base import Checkpoint, ConnectorError, Item, ReadContext
from connectors.registry import get_kind
from dedupe.prepare.arrays import gc_paused

log = logging.getLogger(__name__)

#: Records stored per transaction: each batch's stored hashes are read in one query and its
#: writes sent with executemany; on SQLite every commit (and the WAL checkpoints that follow)
#: costs more than the rows, so batches are large.
BATCH_SIZE = 5000


def run_connector(
    store: Store,
    registration: ConnectorRegistration,
    context: ReadContext,
    settings: Settings,
    on_batch: Callable[[Run], None] | None = None,
) -> Run:
    """Read one connector's feed into the store; a failing feed loses nothing already stored.
    ``on_batch`` sees the run after each batch is stored (a progress display).

    The run must end within its ``max_run_s`` (each download within ``max_download_s``); a
    feed refusing to end fails the run with that reason: nothing is marked gone and its state
    is not saved (records already stored stay: each was valid).
    """
    cid = registration.effective_id()
    limits = effective_limits(registration, settings)
    store.mark_interrupted_runs(cid)  # a process killed mid-run left its run "running"
    run = store.start_run(cid)
    state = store.get_state(cid)
    batch = IngestBatch(connector_id=cid)
    rejections: list[Rejection] = []
    seen: set[tuple[str, str, str]] = set()
    others: set[tuple[str, str, str]] = set()  # seen, unchanged, another connector's records
    refused: set[tuple[str, str, str]] = set()  # refused now: their last good version stays
    complete = False
    deadline = time.monotonic() + limits.max_run_s
    context = dataclasses.replace(
        context,
        deadline=min(deadline, context.deadline or deadline),
        max_download_s=limits.max_download_s,
    )
    quarantine = QuarantineBudget(store, run, limits.quarantine_max_per_run)
    # Items read, counted in a plain integer (an assignment to ``run.counts`` is a pydantic
    # one) and copied to the run before each batch is stored and when the read ends.
    items = 0
    try:
        kind = get_kind(registration.kind)
        # The collector paused while the feed is read and stored: a run allocates millions
        # of short-lived objects (no cycles among them) and keeps a batch and every key it
        # saw alive, which each collection rescanned (docs/benchmarks.md, ingest).
        # The loop's names bound once: it runs once per record read.
        append, clock, shop, offer = batch.items.append, time.monotonic, _SHOP, _OFFER
        with gc_paused():
            for emitted in kind.read(registration, state, context):
                if clock() > deadline:
                    raise ConnectorError(
                        f"stopped: the run did not finish within max_run_s={limits.max_run_s:g}"
                    )
                if isinstance(emitted, Item):
                    items += 1
                    record = emitted.record
                    stored = emitted.stored
                    append((
                        offer if isinstance(record, OfferRecord) else shop,
                        record.platform,
                        record.source_id,
                        emitted.raw,
                        record_json(record) if stored is None else stored,
                    ))  # fmt: skip
                    if len(batch.items) >= BATCH_SIZE:
                        run.counts.fetched += items
                        items = 0
                        store.apply(batch, run.counts, seen, others)
                        if on_batch is not None:
                            on_batch(run)
                elif isinstance(emitted, Rejection):
                    run.counts.fetched += 1
                    run.counts.rejected += 1
                    rejections.append(emitted)
                    if emitted.source_id is not None:
                        rtype_value = emitted.record_type or RecordType.shop.value
                        refused.add((registration.platform, rtype_value, emitted.source_id))
                elif isinstance(emitted, Checkpoint):
                    # State is saved only once every record before it is stored.
                    store.apply(batch, run.counts, seen, others)
                    quarantine.keep(rejections)
                    rejections.clear()
                    store.save_state(cid, emitted.state)
                    complete = complete or emitted.complete
            store.apply(batch, run.counts, seen, others)
        run.status = "ok"
    except ConnectorError as error:
        run.status = "failed"
        run.errors.append(str(error))
    except Exception as error:  # a bug or a feed we did not foresee: say so, keep the data
        log.exception("connector %s crashed", cid)
        run.status = "failed"
        run.errors.append(f"{type(error).__name__}: {error}")
    run.counts.fetched += items
    quarantine.keep(rejections)
    quarantine.close()
    if (
        run.status == "ok"
        and complete
        and not _mark_gone(store, run, seen, refused, settings, others)
    ):
        # The feed looked truncated: forget its validators (ETag...) so the next run reads it
        # in full again instead of being told "not modified" and reporting all is well.
        store.save_state(cid, state)
    run.finished_at = utcnow()
    store.finish_run(run)
    store.prune_quarantine(cid, limits.quarantine_keep_runs)
    return run


_SHOP, _OFFER = RecordType.shop, RecordType.offer

#: The types a record's field values have as validated: their JSON form is themselves.
_JSON_SELF = frozenset({str, float, bool, type(None), list})
_STR = frozenset({str})
#: The list fields of each record model (lists of texts).
_LISTS = {
    model: tuple(
        n for n, f in model.model_fields.items() if typing.get_origin(f.annotation) is list
    )
    for model in (ShopRecord, OfferRecord)
}


def record_json(record: ShopRecord | OfferRecord) -> dict[str, Any]:
    """``record.model_dump(mode="json")``: its fields as they are when each is already its own
    JSON form (texts, finite floats, booleans, None, lists of texts: a validated record's
    fields; the models refuse NaN and infinities), else the model's own dump. A third of the
    dump's time (tests/test_pipeline_guards.py compares both). The lists are the record's own:
    the batch only reads them."""
    values = record.__dict__
    lists = _LISTS.get(type(record))
    if (
        lists is not None
        and _JSON_SELF.issuperset(map(type, values.values()))
        and all(_STR.issuperset(map(type, values[name])) for name in lists)
    ):
        return dict(values)
    return record.model_dump(mode="json")


@dataclasses.dataclass(frozen=True)
class Limits:
    """A connector's limits with the deployment's settings filling what it leaves out."""

    max_run_s: float
    max_download_s: float
    quarantine_keep_runs: int
    quarantine_max_per_run: int


def effective_limits(registration: ConnectorRegistration, settings: Settings) -> Limits:
    """A connector's deadlines can only be shorter than the deployment's (an operator cannot
    buy a longer run); its quarantine budget replaces the settings'."""
    own = registration.limits
    return Limits(
        max_run_s=min(own.max_run_s or settings.max_run_s, settings.max_run_s),
        max_download_s=min(own.max_download_s or settings.max_download_s, settings.max_download_s),
        quarantine_keep_runs=own.quarantine_keep_runs or settings.quarantine_keep_runs,
        quarantine_max_per_run=own.quarantine_max_per_run or settings.quarantine_max_per_run,
    )


class QuarantineBudget:
    """Keeps at most ``cap`` refused records of a run (a feed of duplicates must not add a
    hundred thousand rows per run); past the cap they are counted, and one last row says how
    many were not kept."""

    def __init__(self, store: Store, run: Run, cap: int):
        self.store, self.run, self.cap = store, run, cap
        self.kept = self.dropped = 0

    def keep(self, rejections: list[Rejection]) -> None:
        room = max(0, self.cap - self.kept)
        self.store.quarantine(self.run, rejections[:room])
        self.kept += min(room, len(rejections))
        self.dropped += max(0, len(rejections) - room)

    def close(self) -> None:
        if self.dropped:
            reason = (
                f"{self.dropped} more refused records not kept: at most "
                f"{self.cap} are kept per run (quarantine_max_per_run)"
            )
            self.store.quarantine(self.run, [Rejection(locator="(run)", reason=reason)])


def _mark_gone(
    store: Store,
    run: Run,
    seen: set[tuple[str, str, str]],
    refused: set[tuple[str, str, str]],
    settings: Settings,
    others: set[tuple[str, str, str]] | None = None,
) -> bool:
    """Records absent from a complete full refresh are gone, unless the feed shrank suddenly.
    A record the feed still lists but that was refused (one bad field) is not gone: its last
    good version stays live; it does not count as read for the truncation guard either.

    The yardstick is what the connector has live in the store, not the last run's count: an
    incremental run reads little by design and must not lower the bar for the next refresh.
    """
    live = store.count_raw(run.connector_id)
    if live and len(seen) < settings.truncation_ratio * live:
        run.status = "partial"
        run.errors.append(
            f"truncation guard: this refresh saw {len(seen)} of the {live} records the "
            f"connector has live; below {settings.truncation_ratio:.0%} nothing is marked gone"
        )
        return False
    # The keys seen are all live now, and the connector's unless another connector's record
    # was left unchanged (``others``; a key the run then wrote stays in it, which only makes
    # this test fail): as many as the connector has live, they are all of them and none is
    # gone. Only the stamp is written then, without the keys' table and the anti-join.
    if others is not None and live == len(seen) - len(others):
        run.counts.gone = store.mark_gone(run.connector_id, seen, run.started_at, all_seen=True)
    else:
        run.counts.gone = store.mark_gone(run.connector_id, seen | refused, since=run.started_at)
    return True


def run_matching(store: Store, settings: Settings | None = None) -> MatchOutcome:
    """Match every live shop record once (a process that matches again keeps a
    :class:`~aggregator.matching.Matching`, which then reads only what changed)."""
    return Matching(store, settings).run()
