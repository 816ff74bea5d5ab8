"""Chamber decisions: an append-only log whose latest row per pair is the ruling runs obey.

Every row records who decided, with which role, when, the pair's ruling before and after, the
score and model the pair had then, and an optional note. Nothing is updated or deleted: an undo
is a new row that puts back the ruling the undone row replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import Decision, RecordKey, Verdict, utcnow
from aggregator.store.base import StoreBase, StoreError

#: The rulings a pair can have; ``none`` is a pair no reviewer has ruled on (or all undone).
RULINGS = ("must_link", "cannot_link", "unsure", "none")
#: What the command line and the API call them.
RULING_OF_WORD = {"same": "must_link", "different": "cannot_link", "unsure": "unsure"}


@dataclass(frozen=True)
class LogEntry:
    """One row of the decisions log."""

    id: int
    a: str
    b: str
    before: str
    after: str
    reviewer: str
    role: str | None
    note: str | None
    decided_at: datetime
    probability: float | None
    model: str | None
    action: str
    undoes: int | None

    def as_dict(self) -> dict[str, Any]:
        """The row as the command line and the API print it."""
        return {
            "id": self.id,
            "a": self.a,
            "b": self.b,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "reviewer": self.reviewer,
            "role": self.role,
            "note": self.note,
            "probability": self.probability,
            "model": self.model,
            "decided_at": self.decided_at.isoformat(),
            "undoes": self.undoes,
        }


def pair_of(a: str, b: str) -> tuple[str, str]:
    """A pair of record keys in the order the log keeps them (sorted)."""
    if a == b:
        raise StoreError(f"a pair needs two different records, got {a} twice")
    return (a, b) if a < b else (b, a)


class DecisionsMixin(StoreBase):
    # -- what other code calls ------------------------------------------------------------------
    def add_decision(self, decision: Decision) -> None:
        """Append ``decision`` to the log (imported labels, tests); no role, score or model."""
        self.record_decision(
            str(decision.a),
            str(decision.b),
            decision.verdict.value,
            reviewer=decision.reviewer,
            note=decision.note,
            decided_at=decision.decided_at,
        )

    def list_decisions(self) -> list[Decision]:
        """The ruling in force on each pair that has a must-link or cannot-link one."""
        out = []
        for entry in self.current_rulings().values():
            if entry.after in (Verdict.must_link.value, Verdict.cannot_link.value):
                out.append(
                    Decision(
                        a=RecordKey.parse(entry.a),
                        b=RecordKey.parse(entry.b),
                        verdict=Verdict(entry.after),
                        reviewer=entry.reviewer,
                        note=entry.note,
                        decided_at=entry.decided_at,
                    )
                )
        return out

    # -- the log --------------------------------------------------------------------------------
    def record_decision(
        self,
        a: str,
        b: str,
        ruling: str,
        *,
        reviewer: str,
        role: str | None = None,
        note: str | None = None,
        probability: float | None = None,
        model: str | None = None,
        decided_at: datetime | None = None,
    ) -> LogEntry:
        """Append a ruling on the pair (a, b); returns the row as stored."""
        if ruling not in RULINGS[:3]:
            raise StoreError(f"unknown ruling {ruling!r}: one of {', '.join(RULINGS[:3])}")
        pair_of(a, b)  # refuses a record paired with itself; the given order is kept
        with self.engine.begin() as conn:
            before = self._ruling(conn, a, b)
            return self._append(
                conn,
                dict(
                    a=a,
                    b=b,
                    verdict=ruling,
                    before=before,
                    reviewer=reviewer,
                    role=role,
                    note=note or None,
                    probability=probability,
                    model=model,
                    action="decide",
                    undoes=None,
                    decided_at=decided_at or utcnow(),
                ),
            )

    def undo_last(
        self, reviewer: str, role: str | None = None, *, by: str | None = None
    ) -> LogEntry | None:
        """Undo ``reviewer``'s latest action not undone yet (None when there is none left): its
        pairs get back the rulings they had before. Called again, it undoes the one before.
        ``by`` (default ``reviewer``) is who undoes it, as the undo row records: an admin
        taking back someone else's ruling, with the admin's ``role``.

        An action is every row the reviewer wrote at one instant: splitting a record out of a
        shop rules it apart from each other member at once, and one undo takes it all back.
        Returns the undo row of the latest of those rows.
        """
        c = t.decisions.c
        with self.engine.begin() as conn:
            # Undone by anyone: an admin's undo of this reviewer's row counts too.
            undone = {
                row.undoes for row in conn.execute(sa.select(c.undoes).where(c.action == "undo"))
            }
            rows = conn.execute(
                sa.select(t.decisions)
                .where(c.reviewer == reviewer, c.action == "decide")
                .order_by(c.id.desc())
            ).all()
            open_rows = [row for row in rows if row.id not in undone]
            if not open_rows:
                return None
            group = [row for row in open_rows if row.decided_at == open_rows[0].decided_at]
            now = utcnow()
            entries = [
                self._append(
                    conn,
                    dict(
                        a=target.a,
                        b=target.b,
                        verdict=target.before or "none",
                        before=self._ruling(conn, target.a, target.b),
                        reviewer=by or reviewer,
                        role=role,
                        note=None,
                        probability=target.probability,
                        model=target.model,
                        action="undo",
                        undoes=target.id,
                        decided_at=now,
                    ),
                )
                for target in group
            ]
            return entries[0]

    def record_decisions(
        self,
        pairs: list[tuple[str, str]],
        ruling: str,
        *,
        reviewer: str,
        role: str | None = None,
        note: str | None = None,
    ) -> list[LogEntry]:
        """Rule the same on several pairs as one action (one instant: one undo takes it back)."""
        if ruling not in RULINGS[:3]:
            raise StoreError(f"unknown ruling {ruling!r}: one of {', '.join(RULINGS[:3])}")
        now = utcnow()
        with self.engine.begin() as conn:
            out = []
            for a, b in pairs:
                pair_of(a, b)
                out.append(
                    self._append(
                        conn,
                        dict(
                            a=a,
                            b=b,
                            verdict=ruling,
                            before=self._ruling(conn, a, b),
                            reviewer=reviewer,
                            role=role,
                            note=note or None,
                            probability=None,
                            model=None,
                            action="decide",
                            undoes=None,
                            decided_at=now,
                        ),
                    )
                )
        return out

    def decision_log(
        self,
        reviewer: str | None = None,
        *,
        limit: int | None = None,
        pair: tuple[str, str] | None = None,
    ) -> list[LogEntry]:
        """Log rows, newest first: every reviewer's or one's, all pairs or one."""
        c = t.decisions.c
        query = sa.select(t.decisions).order_by(c.id.desc())
        if reviewer is not None:
            query = query.where(c.reviewer == reviewer)
        if pair:
            a, b = pair
            query = query.where(sa.or_(sa.and_(c.a == a, c.b == b), sa.and_(c.a == b, c.b == a)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def current_rulings(self) -> dict[tuple[str, str], LogEntry]:
        """The latest log row of every pair whose ruling is not ``none``."""
        out: dict[tuple[str, str], LogEntry] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(t.decisions).order_by(t.decisions.c.id)):
                entry = _entry(row)
                # A pair may be written either way round: one ruling per unordered pair.
                pair = (entry.a, entry.b) if entry.a < entry.b else (entry.b, entry.a)
                out[pair] = entry
        return {pair: entry for pair, entry in out.items() if entry.after != "none"}

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _ruling(conn: sa.Connection, a: str, b: str) -> str:
        c = t.decisions.c
        latest = conn.scalar(
            sa.select(c.verdict)
            .where(sa.or_(sa.and_(c.a == a, c.b == b), sa.and_(c.a == b, c.b == a)))
            .order_by(c.id.desc())
            .limit(1)
        )
        return str(latest) if latest else "none"

    @staticmethod
    def _append(conn: sa.Connection, values: dict[str, object]) -> LogEntry:
        new_id = conn.execute(
            t.decisions.insert().values(**values).returning(t.decisions.c.id)
        ).scalar_one()
        row = conn.execute(sa.select(t.decisions).where(t.decisions.c.id == new_id)).one()
        return _entry(row)


def _entry(row: sa.Row) -> LogEntry:
    return LogEntry(
        id=int(row.id),
        a=row.a,
        b=row.b,
        before=row.before or "none",
        after=row.verdict,
        reviewer=row.reviewer,
        role=row.role,
        note=row.note,
        decided_at=row.decided_at,
        probability=row.probability,
        model=row.model,
        action=row.action or "decide",
        undoes=row.undoes,
    )
