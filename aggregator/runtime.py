"""Wires settings to the store, the search backend and the connectors for one process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from aggregator.consistency import forget_mark, rebuild_reason, sync_index, write_mark
from aggregator.matching import Indexer, Matching, MatchOutcome
from aggregator.models import ConnectorRegistration, Entity, Run
from aggregator.pipeline import run_connector
from aggregator.registrations import (
    RegistrationError,
    config_registration_files,
    load_registration_file,
)
from aggregator.runlock import run_lock
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import CheckReport, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind
from search import SearchBackend, open_backend

log = logging.getLogger(__name__)

#: Origins trusted to name local files: the machine's administrator.
ADMIN_ORIGINS = frozenset({"cli", "config"})
#: Given to runs a crash left "running", found when the next run takes the lock.


@dataclass
class FlowReport:
    """What `aggregator run` did: one run per connector, the matching and the indexing."""

    runs: list[Run] = field(default_factory=list)
    matching: MatchOutcome | None = None
    indexing: dict[str, int] = field(default_factory=dict)


class Runtime:
    """One process's view of the deployment. Example::

    runtime = Runtime(Settings())
    report = runtime.run_all()
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.ensure_dirs()
        self._holding = threading.local()
        #: Worker processes normalising a full matching's records (see :meth:`start_match_pool`).
        self.match_pool: Any = None

    def start_match_pool(self, processes: int | None = None) -> None:
        """Fork the worker processes of the full matchings (``match_processes``, or
        ``processes``): only batch commands call it, first thing, before any thread starts
        (forking a process that runs threads is unsafe)."""
        from dedupe.prepare.columns_of import start_pool

        if self.match_pool is None:
            count = processes if processes is not None else self.settings.match_processes
            self.match_pool = start_pool(count)
            if self.match_pool is not None:
                log.info("%d worker processes will normalise full matchings", count)

    @cached_property
    def store(self) -> Store:
        return Store.open(self.settings.resolved_database_url)

    @cached_property
    def backend(self) -> SearchBackend:
        return open_backend(self.settings)

    @cached_property
    def matching(self) -> Matching:
        """Kept for the process's life: after its first run it matches only what changed."""
        return Matching(self.store, self.settings, pool=self.match_pool)

    @cached_property
    def http(self) -> FeedClient:
        """One feed client per process: its connection pools and per-host limits are shared."""
        return FeedClient.from_settings(self.settings)

    def context(self, *, allow_local_files: bool) -> ReadContext:
        return ReadContext(http=self.http, allow_local_files=allow_local_files)

    def context_for(self, connector_id: str) -> ReadContext:
        origin = self.store.connector_origin(connector_id)
        return self.context(allow_local_files=origin in ADMIN_ORIGINS)

    # -- registrations ------------------------------------------------------------------------
    def import_config_registrations(self) -> list[str]:
        """Import `$AGGREGATOR_CONFIG_DIR/connectors/*.yaml`; a bad file is reported, not fatal."""
        ids: list[str] = []
        for path in config_registration_files(self.settings.config_dir):
            try:
                registrations = load_registration_file(path)
            except RegistrationError as error:
                log.error("skipping %s", error)
                continue
            ids.extend(self.store.save_connector(r, origin="config") for r in registrations)
        return ids

    def add_registration_file(self, path: Path, *, origin: str = "cli") -> list[str]:
        """Validate, check against the live feed, then save: nothing is saved when any fails."""
        registrations = load_registration_file(path)
        for registration in registrations:
            report = self.check(registration, origin=origin)
            if not report.ok:
                raise RegistrationError(
                    f"{path}: connector {registration.effective_id()!r} failed its check: "
                    + "; ".join(report.problems)
                )
        ids = []
        for registration in registrations:
            cid = self.store.save_connector(registration, origin=origin)
            # The check that just passed counts: enabling it later needs no other.
            self.store.record_check(cid, self.store.get_connector(cid), True)
            ids.append(cid)
        return ids

    def check(
        self, registration: ConnectorRegistration, *, origin: str, limit: int = 20
    ) -> CheckReport:
        kind = get_kind(registration.kind)
        context = self.context(allow_local_files=origin in ADMIN_ORIGINS)
        return kind.check(registration, context, limit)

    # -- the flow -----------------------------------------------------------------------------
    @contextmanager
    def exclusive(self, *, wait: bool = False) -> Iterator[None]:
        """Hold the data dir's run lock for the block: :class:`~aggregator.runlock.RunInProgress`
        at once when another run holds it, or, with ``wait`` (workers), once it is free. Nested
        blocks of one thread share the hold. Taking it closes the runs a crash left "running":
        no run can be, then."""
        if getattr(self._holding, "depth", 0):
            self._holding.depth += 1
            try:
                yield
            finally:
                self._holding.depth -= 1
            return
        with run_lock(self.settings.data_dir, wait=wait):
            self._holding.depth = 1
            try:
                # Runs of a process that died (a live process of another instance is left alone).
                closed = self.store.mark_interrupted_runs()
                if closed:
                    log.warning("%d runs a crash left running are now marked failed", closed)
                yield
            finally:
                self._holding.depth = 0

    def run_connector(
        self, connector_id: str, on_batch: Callable[[Run], None] | None = None
    ) -> Run:
        with self.exclusive():
            registration = self.store.get_connector(connector_id)
            return run_connector(
                self.store, registration, self.context_for(connector_id), self.settings, on_batch
            )

    def match_and_index(self, *, full: bool = False) -> tuple[MatchOutcome, dict[str, int]]:
        """Match, write the entities, and catch the search index up. When the index needs a
        rebuild anyway (none yet, emptied, from another store), a full matching feeds it the
        entities as it writes them: built once, never all held."""
        with self.exclusive():
            reason = rebuild_reason(self.store, self.backend, self.settings)
            if reason is not None:
                forget_mark(self.backend, self.settings)
            log.info("phase: matching")
            index = None if reason is None else _announced(self.backend.rebuild, reason)
            outcome = self.matching.run(full=full, index=index)
            log.info("phase: indexing")
            if outcome.indexed is not None:
                write_mark(self.backend, self.settings, outcome.seq)
            indexing = self.sync_index(outcome)
            if outcome.indexed is not None and not indexing["rebuilt"]:
                indexing["rebuilt"] = outcome.indexed
            return outcome, indexing

    def sync_index(self, outcome: MatchOutcome | None = None) -> dict[str, int]:
        """Catch the index up with the store (see :mod:`aggregator.consistency`)."""
        with self.exclusive():
            return sync_index(self.store, self.backend, self.settings, outcome)

    def run_all(self) -> FlowReport:
        """Every enabled connector, then matching, then indexing; nothing is written before
        the run lock is held."""
        with self.exclusive():
            self.import_config_registrations()
            report = FlowReport()
            for registration in self.store.list_connectors():
                if registration.enabled:
                    log.info("phase: ingest %s", registration.effective_id())
                    report.runs.append(self.run_connector(registration.effective_id()))
            report.matching, report.indexing = self.match_and_index()
            log.info("phase: done")
            return report

    def close(self) -> None:
        if self.match_pool is not None:
            self.match_pool.terminate()
            self.match_pool.join()
            self.match_pool = None
        if "http" in self.__dict__:
            self.http.close()
        if "backend" in self.__dict__:
            self.backend.close()
        if "store" in self.__dict__:
            self.store.dispose()


def _announced(rebuild: Indexer, reason: str) -> Indexer:
    def announced(entities: Iterable[Entity]) -> int:
        log.info("rebuilding the search index (%s) as the entities are written", reason)
        return rebuild(entities)

    return announced


def describe_run(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "connector_id": run.connector_id,
        "status": run.status,
        **run.counts.model_dump(),
        "duration_s": round(run.duration_s or 0.0, 3),
        "errors": run.errors,
    }
