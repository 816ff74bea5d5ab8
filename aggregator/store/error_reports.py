"""Errors customers report on a shop page ("Signaler une erreur"), kept for the chambers' review.

A report holds the shop, the field it concerns (or none), the message and when it was sent:
nothing about who sent it (no address, no account, no browser detail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.base import StoreError

#: Longest message kept: a report is a sentence or two, not a document.
MAX_MESSAGE = 2000
STATUSES = ("open", "resolved", "rejected")

# Defined here rather than in ``aggregator.schema`` so the table and its migration (0005) travel
# together; it is part of the same metadata.
error_reports = sa.Table(
    "error_reports",
    t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.String(32), nullable=False, index=True),
    sa.Column("field", sa.String(64)),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open", index=True),
    sa.Column("created_at", t.TS, nullable=False),
)


@dataclass(frozen=True)
class ErrorReport:
    id: int
    entity_id: str
    field: str | None
    message: str
    status: str
    created_at: datetime


class ErrorReportsMixin:
    engine: sa.Engine

    def add_error_report(self, entity_id: str, message: str, field: str | None = None) -> int:
        """Store one report and return its id. An empty or overlong message, or an empty or
        overlong shop id or field, is refused with a ``StoreError`` saying why."""
        entity_id = entity_id.strip()
        message = message.strip()
        field = (field or "").strip() or None
        if not entity_id or len(entity_id) > 32:
            raise StoreError("a report needs the id of the shop it concerns")
        if not message:
            raise StoreError("a report needs a message")
        if len(message) > MAX_MESSAGE:
            raise StoreError(f"a report's message is at most {MAX_MESSAGE} characters")
        if field is not None and len(field) > 64:
            raise StoreError("a report's field name is at most 64 characters")
        with self.engine.begin() as conn:
            result = conn.execute(
                error_reports.insert().values(
                    entity_id=entity_id,
                    field=field,
                    message=message,
                    status="open",
                    created_at=utcnow(),
                )
            )
            report_id: int = result.inserted_primary_key[0]  # type: ignore[index]
            return report_id

    def list_error_reports(
        self, status: str | None = "open", limit: int = 100
    ) -> list[ErrorReport]:
        """Reports with this status (``None``: every one), newest first."""
        query = error_reports.select().order_by(error_reports.c.id.desc()).limit(max(0, limit))
        if status is not None:
            query = query.where(error_reports.c.status == status)
        with self.engine.connect() as conn:
            return [
                ErrorReport(
                    id=row.id,
                    entity_id=row.entity_id,
                    field=row.field,
                    message=row.message,
                    status=row.status,
                    created_at=row.created_at,
                )
                for row in conn.execute(query)
            ]

    def set_error_report_status(self, report_id: int, status: str) -> None:
        """Mark a report resolved or rejected (or open again)."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; statuses are {', '.join(STATUSES)}")
        with self.engine.begin() as conn:
            done = conn.execute(
                error_reports.update().where(error_reports.c.id == report_id).values(status=status)
            )
        if done.rowcount == 0:
            raise StoreError(f"no error report {report_id}")
