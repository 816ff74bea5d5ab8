"""Field choices: a reviewer picks which member record's value a golden record shows.

An append-only log: every row records who chose, with which role, when, the entity, the field,
the chosen record and its value at the time, and an optional note. The latest row per
(entity, field) is the choice matching runs apply (:mod:`dedupe.golden.choices`). Nothing is
updated or deleted: an undo is a new row that puts back the choice the undone row replaced
(or none), and undoing again walks further back, as with rulings on pairs.
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
    #: ``choose`` or ``undo`` (which then names the row it undoes).
    action: str = "choose"
    undoes: int | None = None

    @property
    def cleared(self) -> bool:
        """True for a row that leaves the field without a choice (an undo of the first one)."""
        return not self.record_key

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
            "action": "choose",
            "undoes": None,
        }
        with self.engine.begin() as conn:
            new_id = conn.execute(sa.insert(t.field_choices).values(**row)).inserted_primary_key
        return FieldChoice(id=int(new_id[0]), **row)  # type: ignore[index]

    def undo_field_choice(
        self,
        entity_id: str,
        *,
        reviewer: str,
        role: str | None = None,
        of: str | None = None,
        field: str | None = None,
    ) -> FieldChoice | None:
        """Undo the latest choice on ``entity_id`` (on ``field``, when given) not undone yet,
        made by ``of`` (default: ``reviewer`` themself); None when none is left. The field
        gets back the choice it had before (or none); called again, it undoes the one before."""
        c = t.field_choices.c
        author = reviewer if of is None else of
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(t.field_choices).where(c.entity_id == entity_id).order_by(c.id)
            ).all()
            log = [_choice(row) for row in rows]
            undone = {row.undoes for row in log if row.action == "undo"}
            open_rows = [
                row
                for row in log
                if row.action == "choose"
                and row.reviewer == author
                and (field is None or row.field == field)
            ]
            target = next((row for row in reversed(open_rows) if row.id not in undone), None)
            if target is None:
                return None
            previous = _in_force_before(log, target)
            values: dict[str, Any] = {
                "entity_id": entity_id,
                "field": target.field,
                "record_key": previous.record_key if previous else "",
                "value": previous.value if previous else None,
                "reviewer": reviewer,
                "role": role,
                "note": None,
                "chosen_at": utcnow(),
                "action": "undo",
                "undoes": target.id,
            }
            new_id = conn.execute(sa.insert(t.field_choices).values(**values)).inserted_primary_key
        return FieldChoice(id=int(new_id[0]), **values)  # type: ignore[index]

    def field_choice_log(self, entity_id: str | None = None) -> list[FieldChoice]:
        """Every choice (of one entity, when given), oldest first."""
        c = t.field_choices.c
        query = sa.select(t.field_choices).order_by(c.id)
        if entity_id is not None:
            query = query.where(c.entity_id == entity_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_choice(row) for row in rows]

    def field_choices(self) -> dict[str, dict[str, FieldChoice]]:
        """entity id -> field -> the choice in force (the latest row, unless it clears it)."""
        latest: dict[tuple[str, str], FieldChoice] = {}
        for choice in self.field_choice_log():
            latest[(choice.entity_id, choice.field)] = choice
        out: dict[str, dict[str, FieldChoice]] = {}
        for (entity_id, field), choice in latest.items():
            if not choice.cleared:
                out.setdefault(entity_id, {})[field] = choice
        return out


def _choice(row: sa.Row) -> FieldChoice:
    values = dict(row._mapping)
    values["action"] = values.get("action") or "choose"
    return FieldChoice(**values)


def _in_force_before(log: list[FieldChoice], target: FieldChoice) -> FieldChoice | None:
    """The choice on ``target`` 's field that was in force just before it was written."""
    before = [r for r in log if r.field == target.field and r.id < target.id]
    return None if not before or before[-1].cleared else before[-1]


class FieldChoiceError(StoreError):
    """A choice cannot be recorded: the message says why."""
