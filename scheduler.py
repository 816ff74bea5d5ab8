"""APScheduler wiring: one job per registered connector with a schedule, one run at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from zlib import crc32

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.runlock import RunInProgress
from aggregator.runtime import Runtime
from aggregator.store import StoreError

log = logging.getLogger(__name__)
_local_locks: dict[str, threading.Lock] = {}


def parse_schedule(text: str) -> CronTrigger | IntervalTrigger:
    """``every 6h`` / ``every 30m`` / ``every 1d``, or a five-field crontab line."""
    words = text.strip().split()
    if len(words) == 2 and words[0] == "every":
        amount, unit = words[1][:-1], words[1][-1]
        units = {"m": "minutes", "h": "hours", "d": "days"}
        if not amount.isdigit() or unit not in units or int(amount) == 0:
            raise ValueError(f"schedule {text!r}: expected e.g. 'every 6h', 'every 30m'")
        return IntervalTrigger(**{units[unit]: int(amount)})
    try:
        return CronTrigger.from_crontab(text)
    except ValueError as error:
        raise ValueError(
            f"schedule {text!r}: {error} (write e.g. 'every 6h', 'every 30m' or a crontab line "
            "such as '0 3 * * *')"
        ) from None


@contextmanager
def connector_lock(runtime: Runtime, connector_id: str) -> Iterator[bool]:
    """Yield True when this process may run the connector now: one run per connector, also
    across instances sharing a PostgreSQL store (advisory lock)."""
    lock = _local_locks.setdefault(connector_id, threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        engine = runtime.store.engine
        if engine.dialect.name != "postgresql":
            yield True
            return
        key = crc32(connector_id.encode()) & 0x7FFFFFFF
        with engine.connect() as conn:
            got = conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        lock.release()


def run_scheduled(runtime: Runtime, connector_id: str) -> None:
    try:
        if not runtime.store.get_connector(connector_id).enabled:
            log.info("%s was disabled since it was scheduled; skipping", connector_id)
            return
    except StoreError:
        log.info("%s was deleted since it was scheduled; skipping", connector_id)
        return
    with connector_lock(runtime, connector_id) as acquired:
        if not acquired:
            log.info("%s is already running elsewhere; skipping this turn", connector_id)
            return
        try:
            with runtime.exclusive():
                run = runtime.run_connector(connector_id)
                log.info("%s: %s %s", connector_id, run.status, run.counts.model_dump())
                runtime.match_and_index()
        except RunInProgress as error:
            log.info("%s: skipping this turn: %s", connector_id, error)


SYNC_JOB = "_sync-connectors"


def sync_jobs(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """Make the jobs match the registrations: operators enable, disable, reschedule and delete
    connectors while the service runs."""
    wanted: dict[str, str] = {}
    for registration in runtime.store.list_connectors():
        if registration.enabled and registration.schedule:
            wanted[registration.effective_id()] = registration.schedule
    for job in scheduler.get_jobs():
        if job.id != SYNC_JOB and (job.id not in wanted or job.name != wanted[job.id]):
            job.remove()
    present = {job.id for job in scheduler.get_jobs()}
    for cid, schedule in wanted.items():
        if cid in present:
            continue
        try:
            trigger = parse_schedule(schedule)
        except ValueError as error:
            log.error("connector %s not scheduled: %s", cid, error)
            continue
        # The job's name holds its schedule, so a changed schedule is noticed above.
        scheduler.add_job(run_scheduled, trigger, args=[runtime, cid], id=cid, name=schedule)


def build_scheduler(runtime: Runtime, sync_every_s: float = 60) -> BackgroundScheduler:
    """One job per enabled connector that has a schedule, kept in line with the store."""
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    sync_jobs(scheduler, runtime)
    scheduler.add_job(
        sync_jobs, IntervalTrigger(seconds=sync_every_s), args=[scheduler, runtime], id=SYNC_JOB
    )
    return scheduler
