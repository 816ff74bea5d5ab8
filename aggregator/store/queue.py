"""Run requests queued for workers, and the record of the matchings workers ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.base import StoreBase
from aggregator.store.records import _aware

_q = t.run_requests.c
_m = t.matchings.c
#: A request claimed this long ago and never finished belonged to a worker that died: it is
#: offered again.
STALE_CLAIM_S = 6 * 3600


@dataclass
class RunRequest:
    """One "run now": queued by the web, claimed and carried out by a worker."""

    id: int
    connector_id: str
    requested_by: str
    requested_at: datetime
    status: str
    claimed_at: datetime | None = None
    worker: str | None = None
    run_id: int | None = None
    finished_at: datetime | None = None
    detail: str | None = None


@dataclass
class MatchingRow:
    """One matching a worker ran."""

    id: int
    worker: str
    started_at: datetime
    status: str
    finished_at: datetime | None = None
    mode: str | None = None
    entities: int | None = None
    changed: int | None = None
    removed: int | None = None
    matching_s: float | None = None
    indexing_s: float | None = None


def _request(row: Any) -> RunRequest:
    data = dict(row._mapping)
    for name in ("requested_at", "claimed_at", "finished_at"):
        if data[name] is not None:
            data[name] = _aware(data[name])
    return RunRequest(**data)


def _matching(row: Any) -> MatchingRow:
    data = dict(row._mapping)
    for name in ("started_at", "finished_at"):
        if data[name] is not None:
            data[name] = _aware(data[name])
    return MatchingRow(**data)


class QueueMixin(StoreBase):
    # -- run requests ----------------------------------------------------------------------
    def request_run(self, connector_id: str, requested_by: str) -> tuple[RunRequest, bool]:
        """Queue a run of the connector; a request still waiting for it is returned instead of
        a second one (``False``: nothing new was queued)."""
        with self.engine.begin() as conn:
            waiting = conn.execute(
                sa.select(t.run_requests)
                .where(_q.connector_id == connector_id, _q.status == "queued")
                .order_by(_q.id)
                .limit(1)
            ).first()
            if waiting is not None:
                return _request(waiting), False
            result = conn.execute(
                t.run_requests.insert().values(
                    connector_id=connector_id,
                    requested_by=requested_by,
                    requested_at=utcnow(),
                    status="queued",
                )
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            row = conn.execute(sa.select(t.run_requests).where(_q.id == new_id)).one()
        return _request(row), True

    def get_request(self, request_id: int) -> RunRequest | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.run_requests).where(_q.id == request_id)).first()
        return None if row is None else _request(row)

    def claim_request(self, worker: str) -> RunRequest | None:
        """The oldest waiting request, now this worker's; None when none waits. Two workers
        racing for one: the conditional update lets exactly one of them have it."""
        stale = utcnow().timestamp() - STALE_CLAIM_S
        while True:
            with self.engine.begin() as conn:
                row = conn.execute(
                    sa.select(t.run_requests)
                    .where(_q.status.in_(("queued", "running")))
                    .order_by(_q.id)
                    .limit(20)
                ).all()
                candidates = [
                    r
                    for r in row
                    if r.status == "queued"
                    or (r.claimed_at is not None and _aware(r.claimed_at).timestamp() < stale)
                ]
                if not candidates:
                    return None
                chosen = candidates[0]
                now = utcnow()
                taken = conn.execute(
                    t.run_requests.update()
                    .where(_q.id == chosen.id, _q.status == chosen.status)
                    .where(
                        _q.claimed_at.is_(None)
                        if chosen.claimed_at is None
                        else _q.claimed_at == chosen.claimed_at
                    )
                    .values(status="running", claimed_at=now, worker=worker)
                ).rowcount
            if taken == 1:
                return self.get_request(chosen.id)

    def finish_request(
        self, request_id: int, status: str, run_id: int | None = None, detail: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.run_requests.update()
                .where(_q.id == request_id)
                .values(status=status, run_id=run_id, detail=detail, finished_at=utcnow())
            )

    def count_queued(self) -> int:
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).where(_q.status == "queued")
            return int(conn.scalar(query.select_from(t.run_requests)) or 0)

    # -- matchings -------------------------------------------------------------------------
    def start_matching(self, worker: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                t.matchings.insert().values(worker=worker, started_at=utcnow(), status="running")
            )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_matching(self, matching_id: int, status: str, **figures: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.matchings.update()
                .where(_m.id == matching_id)
                .values(status=status, finished_at=utcnow(), **figures)
            )

    def last_matching(self, *, status: str | None = None) -> MatchingRow | None:
        query = sa.select(t.matchings).order_by(_m.id.desc()).limit(1)
        if status is not None:
            query = query.where(_m.status == status)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _matching(row)

    def last_matching_start(self) -> datetime | None:
        """When the latest matching that went through began."""
        with self.engine.connect() as conn:
            moment = conn.scalar(sa.select(sa.func.max(_m.started_at)).where(_m.status == "ok"))
        return None if moment is None else _aware(moment)

    # -- figures ---------------------------------------------------------------------------
    def run_totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Runs by status, and records by outcome summed over every stored run."""
        r = t.runs.c
        outcomes = ("fetched", "new", "changed", "unchanged", "gone", "rejected")
        with self.engine.connect() as conn:
            statuses = {
                status: int(count)
                for status, count in conn.execute(
                    sa.select(r.status, sa.func.count()).group_by(r.status)
                )
            }
            sums = conn.execute(
                sa.select(*(sa.func.coalesce(sa.func.sum(r[name]), 0) for name in outcomes))
            ).one()
        return statuses, {name: int(value) for name, value in zip(outcomes, sums, strict=True)}

    def last_run_end(self) -> datetime | None:
        """When the latest finished run ended."""
        with self.engine.connect() as conn:
            moment = conn.scalar(sa.select(sa.func.max(t.runs.c.finished_at)))
        return None if moment is None else _aware(moment)

    def last_success_by_connector(self) -> dict[str, datetime]:
        r = t.runs.c
        query = (
            sa.select(r.connector_id, sa.func.max(r.finished_at))
            .where(r.status == "ok")
            .group_by(r.connector_id)
        )
        with self.engine.connect() as conn:
            return {cid: _aware(moment) for cid, moment in conn.execute(query) if moment}
