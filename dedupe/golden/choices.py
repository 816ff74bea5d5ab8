"""Reviewers' field choices laid over golden records: the chosen member's value is shown.

A choice names an entity, a field and one member record. It holds while that record is still a
member of the entity and still has a value for the field; otherwise the field keeps what
survivorship gave it. Applied to the entities a run builds, full or incremental alike, so both
give the same golden records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aggregator.models import Entity, Provenanced
from dedupe.golden.records import GoldenBuilder
from dedupe.state.result import MatchResult

#: entity id -> field -> (chosen record key, reviewer).
Choices = Mapping[str, Mapping[str, tuple[str, str]]]


def apply_choices(entities: Iterable[Entity], result: MatchResult, choices: Choices) -> None:
    """Show each chosen member's value in place of survivorship's, where the choice holds."""
    if not choices:
        return
    state = result.state
    # The shown value of one row does not depend on priorities or dates.
    builder = GoldenBuilder(state.prepared)
    for entity in entities:
        wanted = choices.get(entity.entity_id)
        if not wanted:
            continue
        members = {str(m) for m in entity.members}
        shown: dict[str, dict[str, tuple[object, int]]] = {}
        for field, (key, reviewer) in sorted(wanted.items()):
            row = state.row_of.get(key)
            if key not in members or row is None:
                continue
            if key not in shown:
                shown[key] = builder.fields([row])
            found = shown[key].get(field)
            if found is None:  # the record has no value for it any more
                continue
            platform, _, source_id = key.partition(":")
            entity.golden.fields[field] = Provenanced(
                value=found[0], platform=platform, source_id=source_id
            )
            entity.golden.chosen[field] = reviewer
