"""The flow: connectors → raw records → matching (:mod:`aggregator.matching`) → golden records
→ search index (:mod:`aggregator.consistency`)."""

from __future__ import annotations

import logging

from aggregator.matching import Matching, MatchOutcome
from aggregator.models import (
    ConnectorRegistration,
    OfferRecord,
    RecordType,
    Rejection,
    Run,
    utcnow,
)
from aggregator.settings import Settings
from aggregator.store import IngestBatch, Store
from connectors.base import Checkpoint, ConnectorError, Item, ReadContext
from connectors.registry import get_kind

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


def run_connector(
    store: Store, registration: ConnectorRegistration, context: ReadContext, settings: Settings
) -> Run:
    """Read one connector's feed into the store; a failing feed loses nothing already stored."""
    cid = registration.effective_id()
    run = store.start_run(cid)
    state = store.get_state(cid)
    batch = IngestBatch(connector_id=cid)
    rejections: list[Rejection] = []
    seen: set[tuple[str, str, str]] = set()
    complete = False
    try:
        kind = get_kind(registration.kind)
        for emitted in kind.read(registration, state, context):
            if isinstance(emitted, Item):
                run.counts.fetched += 1
                record = emitted.record
                rtype = RecordType.offer if isinstance(record, OfferRecord) else RecordType.shop
                batch.items.append(
                    (
                        rtype,
                        record.platform,
                        record.source_id,
                        emitted.raw,
                        record.model_dump(mode="json"),
                    )
                )
                if len(batch.items) >= BATCH_SIZE:
                    store.apply(batch, run.counts, seen)
            elif isinstance(emitted, Rejection):
                run.counts.fetched += 1
                run.counts.rejected += 1
                rejections.append(emitted)
            elif isinstance(emitted, Checkpoint):
                # State is saved only once every record before it is stored.
                store.apply(batch, run.counts, seen)
                store.quarantine(run, rejections)
                rejections.clear()
                store.save_state(cid, emitted.state)
                complete = complete or emitted.complete
        store.apply(batch, run.counts, seen)
        run.status = "ok"
    except ConnectorError as error:
        run.status = "failed"
        run.errors.append(str(error))
    except Exception as error:  # a bug or a feed we did not foresee: say so, keep the data
        log.exception("connector %s crashed", cid)
        run.status = "failed"
        run.errors.append(f"{type(error).__name__}: {error}")
    store.quarantine(run, rejections)
    if run.status == "ok" and complete and not _mark_gone(store, run, seen, settings):
        # The feed looked truncated: forget its validators (ETag...) so the next run reads it
        # in full again instead of being told "not modified" and reporting all is well.
        store.save_state(cid, state)
    run.finished_at = utcnow()
    store.finish_run(run)
    return run


def _mark_gone(store: Store, run: Run, seen: set[tuple[str, str, str]], settings: Settings) -> bool:
    """Records absent from a complete full refresh are gone, unless the feed shrank suddenly.

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
    run.counts.gone = store.mark_gone(run.connector_id, seen)
    return True


def run_matching(store: Store, settings: Settings | None = None) -> MatchOutcome:
    """Match every live shop record once (a process that matches again keeps a
    :class:`~aggregator.matching.Matching`, which then reads only what changed)."""
    return Matching(store, settings).run()
