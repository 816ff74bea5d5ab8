"""Field choices: a reviewer picks which member record's value a golden record shows.

An append-only log: every row records who chose, with which role, when, the entity, the field,
the chosen record and its value at the time, and an optional note. The latest row per
(entity, field) is the choice matching runs apply (:mod:`dedupe.golden.choices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.base import StoreBase, StoreError

#: Fields a reviewer may choose for: the ones the desk shows.
CHOOSABLE = ("name", "address", "postcode", "city", "phone", "website", "siret")


@dataclass(frozen=True)
class FieldChoice:
    """One row of the field choices log."""

    id: int
    entity_id: str
    field: str
    record_key: str
    value: str | None
    reviewer: str
    role: str | None
    note: str | None
    chosen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "chosen_at": self.chosen_at.isoformat()}


class FieldChoicesMixin(StoreBase):
    def choose_field(
        self,
        entity_id: str,
        field: str,
        record_key: str,
        *,
        value: str | None,
        reviewer: str,
        role: str | None = None,
        note: str | None = None,
    ) -> FieldChoice:
        """Log a reviewer's choice; :class:`FieldChoiceError` on a field that cannot be chosen."""
        if field not in CHOOSABLE:
            raise FieldChoiceError(f"field {field!r} cannot be chosen: one of {CHOOSABLE}")
        if note is not None and len(note) > 2000:
            raise FieldChoiceError("a note holds at most 2000 characters")
        row: dict[str, Any] = {
            "entity_id": entity_id,
            "field": field,
            "record_key": record_key,
            "value": value,
            "reviewer": reviewer,
            "role": role,
            "note": note,
            "chosen_at": utcnow(),
        }
        with self.engine.begin() as conn:
            new_id = conn.execute(sa.insert(t.field_choices).values(**row)).inserted_primary_key
        return FieldChoice(id=int(new_id[0]), **row)  # type: ignore[index]

    def field_choice_log(self, entity_id: str | None = None) -> list[FieldChoice]:
        """Every choice (of one entity, when given), oldest first."""
        c = t.field_choices.c
        query = sa.select(t.field_choices).order_by(c.id)
        if entity_id is not None:
            query = query.where(c.entity_id == entity_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [FieldChoice(**row._mapping) for row in rows]

    def field_choices(self) -> dict[str, dict[str, FieldChoice]]:
        """entity id -> field -> the choice in force (the latest)."""
        out: dict[str, dict[str, FieldChoice]] = {}
        for choice in self.field_choice_log():
            out.setdefault(choice.entity_id, {})[choice.field] = choice
        return out


class FieldChoiceError(StoreError):
    """A choice cannot be recorded: the message says why."""
