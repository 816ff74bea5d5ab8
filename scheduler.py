"""A worker's timetable: one APScheduler job per registered connector with a schedule, and the
queue of "run now" requests polled between them."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.jobs import catch_up, drain_queue, run_and_match, worker_name
from aggregator.progress import Progress
from aggregator.runtime import Runtime

log = logging.getLogger(__name__)


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


def run_scheduled(
    runtime: Runtime,
    connector_id: str,
    worker: str | None = None,
    progress: Progress | None = None,
    match: bool = True,
) -> None:
    """A scheduled turn: run the connector (unless disabled, deleted or running elsewhere),
    then the matching its changes need, shared with the runs that ended with it."""
    run_and_match(runtime, connector_id, worker or worker_name(), progress, match)


SYNC_JOB = "_sync-connectors"


def sync_jobs(
    scheduler: BaseScheduler,
    runtime: Runtime,
    worker: str | None = None,
    progress: Progress | None = None,
    match: bool = True,
) -> None:
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
        scheduler.add_job(
            run_scheduled,
            trigger,
            args=[runtime, cid, worker, progress, match],
            id=cid,
            name=schedule,
        )


def build_scheduler(
    runtime: Runtime,
    sync_every_s: float = 60,
    worker: str | None = None,
    progress: Progress | None = None,
    match: bool = True,
) -> BackgroundScheduler:
    """One job per enabled connector that has a schedule, kept in line with the store."""
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    sync_jobs(scheduler, runtime, worker, progress, match)
    scheduler.add_job(
        sync_jobs,
        IntervalTrigger(seconds=sync_every_s),
        args=[scheduler, runtime, worker, progress, match],
        id=SYNC_JOB,
    )
    return scheduler


class Worker:
    """Runs connectors on their schedules and carries out queued "run now" requests, until
    stopped. ``aggregator worker`` runs one; ``serve --schedule`` and the demo run one beside
    the web in the same process. Example::

        worker = Worker(runtime).start()
        ...
        worker.stop()
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        schedule: bool = True,
        poll_s: float = 2.0,
        name: str = "",
        progress: Progress | None = None,
        match: bool = True,
    ) -> None:
        self.runtime = runtime
        self.name = name or worker_name()
        self.poll_s = poll_s
        self.progress = progress
        self.match = match
        self.scheduler = (
            build_scheduler(runtime, worker=self.name, progress=progress, match=match)
            if schedule
            else None
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="run-requests", daemon=True)

    def start(self) -> Worker:
        if self.scheduler is not None:
            self.scheduler.start()
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                drain_queue(self.runtime, self.name, self.progress, self.match)
                if self.match:
                    catch_up(self.runtime, self.name, self.progress)
            except Exception:  # a store that went away for a moment: try again next turn
                log.exception("reading the run requests failed")
            self._stop.wait(self.poll_s)

    def wait(self) -> None:
        """Block until stopped (Ctrl-C or SIGTERM in ``aggregator worker``)."""
        while not self._stop.wait(1.0):
            pass

    def request_stop(self) -> None:
        """Ask the worker to stop (safe in a signal handler): ``wait`` returns."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
