"""Chamber decisions: must-link and cannot-link rulings that later runs obey."""

from __future__ import annotations

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import Decision, RecordKey, Verdict
from aggregator.store.base import StoreBase


class DecisionsMixin(StoreBase):
    def add_decision(self, decision: Decision) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.decisions.insert().values(
                    a=str(decision.a),
                    b=str(decision.b),
                    verdict=decision.verdict.value,
                    reviewer=decision.reviewer,
                    note=decision.note,
                    decided_at=decision.decided_at,
                )
            )

    def list_decisions(self) -> list[Decision]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.decisions).order_by(t.decisions.c.id)).all()
        return [
            Decision(
                a=RecordKey.parse(r.a),
                b=RecordKey.parse(r.b),
                verdict=Verdict(r.verdict),
                reviewer=r.reviewer,
                note=r.note,
                decided_at=r.decided_at,
            )
            for r in rows
        ]
