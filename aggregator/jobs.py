"""What a worker does: one connector run at a time per connector, and one matching at a time
for the whole deployment, shared by the runs that ended before it began.

Example::

    run = run_and_match(runtime, "toutoulouse-csv", worker="host-1234")
"""

from __future__ import annotations

import logging
import os
import socket
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from aggregator import metrics
from aggregator.locks import named_lock
from aggregator.logs import log_context
from aggregator.matching import MatchOutcome
from aggregator.models import Run
from aggregator.progress import Progress
from aggregator.runtime import Runtime
from aggregator.store import StoreError
from aggregator.store.queue import RunRequest

log = logging.getLogger(__name__)
#: The lock of the matching-and-indexing step (not "matching": the matching itself takes that
#: one on PostgreSQL, on a session of its own).
MATCHING_LOCK = "worker-matching"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_connector(
    runtime: Runtime, connector_id: str, progress: Progress | None = None
) -> Run | None:
    """Run the connector unless it is disabled, deleted or running elsewhere (None then)."""
    try:
        if not runtime.store.get_connector(connector_id).enabled:
            log.info("%s is disabled; not running it", connector_id)
            return None
    except StoreError:
        log.info("%s no longer exists; not running it", connector_id)
        return None
    lock_dir = runtime.settings.data_dir / "locks"
    # The connector's own name is its lock: the key the scheduler has always used.
    with named_lock(runtime.store, lock_dir, connector_id, wait=False) as acquired:
        if not acquired:
            log.info("%s is already running elsewhere; skipping this turn", connector_id)
            return None
        started = time.perf_counter()
        on_batch = None
        if progress is not None:
            last = runtime.store.last_good_run(connector_id)
            total = last.counts.fetched if last is not None else None
            label = f"reading {connector_id}"

            def on_batch(run: Run) -> None:
                progress.count(label, run.counts.fetched, total)

        with runtime.exclusive(wait=True):  # a worker waits for a command-line run to end
            log.info("phase: ingest %s", connector_id)
            run = runtime.run_connector(connector_id, on_batch)
        metrics.observe_run(run, time.perf_counter() - started)
        if progress is not None:
            progress.done(f"reading {connector_id}", f"{run.status}, {run.counts.fetched:,} read")
    with log_context(connector_id=connector_id, run_id=run.id):
        log.info("run %s: %s %s", run.id, run.status, run.counts.model_dump())
    return run


def match_after(
    runtime: Runtime, ended: datetime, worker: str, progress: Progress | None = None
) -> MatchOutcome | None:
    """Match and index the changes of a run that ended at ``ended``, unless a matching that
    began after that (in this process or another) has them already: runs that end together
    share one matching, and no two matchings ever overlap."""
    store = runtime.store
    lock_dir = runtime.settings.data_dir / "locks"
    # The data dir's run lock first, then the deployment's matching lock, always in this order
    # (a command-line run holds the first while it waits for the second).
    with runtime.exclusive(wait=True), named_lock(store, lock_dir, MATCHING_LOCK, wait=True):
        last = store.last_matching_start()
        if last is not None and last > ended:
            log.info("the matching begun at %s has this run's changes already", last)
            return None
        before = store.last_matching(status="ok")
        matching_id = store.start_matching(worker)
        try:
            started = time.perf_counter()
            log.info("phase: matching")
            with _stage(progress, "matching", before.matching_s if before else None):
                outcome = runtime.matching.run()
            matched = time.perf_counter()
            log.info("phase: indexing")
            with _stage(progress, "indexing", before.indexing_s if before else None):
                indexing = runtime.sync_index(outcome)  # records what it applied
            indexed = time.perf_counter()
        except BaseException:
            store.finish_matching(matching_id, "failed")
            raise
        metrics.observe_stage("matching", matched - started)
        metrics.observe_stage("indexing", indexed - matched)
        store.finish_matching(
            matching_id,
            "ok",
            mode=outcome.mode,
            entities=outcome.entities,
            changed=outcome.written,
            removed=len(outcome.removed),
            matching_s=round(matched - started, 3),
            indexing_s=round(indexed - matched, 3),
        )
        log.info(
            "matching %s (%s): %s shops, %s changed, %s removed; index %s",
            matching_id,
            outcome.mode,
            outcome.entities,
            outcome.written,
            len(outcome.removed),
            indexing,
        )
        return outcome


def _stage(
    progress: Progress | None, label: str, expected_s: float | None
) -> AbstractContextManager[None]:
    return progress.stage(label, expected_s) if progress is not None else nullcontext()


def run_and_match(
    runtime: Runtime,
    connector_id: str,
    worker: str,
    progress: Progress | None = None,
    match: bool = True,
) -> Run | None:
    """A scheduled or requested run, then the matching that takes its changes in (unless
    ``match`` is false: a worker that matches picks them up, see :func:`catch_up`)."""
    run = run_connector(runtime, connector_id, progress)
    if match and run is not None and run.finished_at is not None:
        with log_context(connector_id=connector_id, run_id=run.id):
            match_after(runtime, run.finished_at, worker, progress)
    return run


def carry_out(
    runtime: Runtime,
    request: RunRequest,
    worker: str,
    progress: Progress | None = None,
    match: bool = True,
) -> None:
    """Carry out a claimed "run now"; its outcome goes back onto the request."""
    with log_context(connector_id=request.connector_id, request_id=request.id):
        try:
            run = run_connector(runtime, request.connector_id, progress)
        except Exception as error:
            log.exception("request %s failed", request.id)
            runtime.store.finish_request(request.id, "failed", detail=f"{type(error).__name__}")
            return
        if run is None:
            runtime.store.finish_request(
                request.id, "skipped", detail="disabled, deleted or already running"
            )
            return
        detail = None
        try:
            if match and run.finished_at is not None:
                with log_context(run_id=run.id):
                    match_after(runtime, run.finished_at, worker, progress)
        except Exception as error:  # the deployment's problem, not the feed's: the run stands
            log.exception("matching and indexing after run %s failed", run.id)
            detail = f"stored, not indexed: {type(error).__name__}"
        runtime.store.finish_request(
            request.id, "done" if detail is None else "failed", run_id=run.id, detail=detail
        )


def drain_queue(
    runtime: Runtime, worker: str, progress: Progress | None = None, match: bool = True
) -> int:
    """Carry out every waiting request; how many were."""
    done = 0
    while (request := runtime.store.claim_request(worker)) is not None:
        carry_out(runtime, request, worker, progress, match)
        done += 1
    return done


def catch_up(runtime: Runtime, worker: str, progress: Progress | None = None) -> bool:
    """Match the changes of runs no matching has taken in yet: those of workers that do not
    match (``--no-match``), or of one that stopped between its run and its matching. Whether a
    matching ran."""
    ended = runtime.store.last_run_end()
    if ended is None:
        return False
    started = runtime.store.last_matching_start()
    if started is not None and started > ended:
        return False
    return match_after(runtime, ended, worker, progress) is not None
