"""An entity write told which entities were stored before it (a full matching's) writes what a
write told nothing writes: it only skips looking for rows of entities that had none."""

from __future__ import annotations

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.store import Store
from aggregator.store.entity_rows import entity_row
from tests.test_entity_count import counted, entity


def memberships(store: Store) -> list[tuple[str, str]]:
    m = t.entity_members.c
    with store.engine.connect() as conn:
        return sorted(
            (r.source_id, r.entity_id) for r in conn.execute(sa.select(m.source_id, m.entity_id))
        )


def removals(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.scalars(sa.select(t.entity_removals.c.entity_id)))


def test_writes_told_the_stored_entities(store: Store) -> None:
    # An empty store: none of the entities has rows to replace.
    with store.writing_entities(recount=True, stored=store.entity_sources()) as write:
        write.upsert([entity_row(entity("e1", "s1", "s2")), entity_row(entity("e2", "s3"))])
    assert memberships(store) == [("s1", "e1"), ("s2", "e1"), ("s3", "e2")]
    assert store.count_entities() == counted(store) == 2
    store.replace_entities([], ["e7"], [])
    assert removals(store) == {"e7"}
    # Stored ones written again, records moving to new entities, a removed id back.
    stored = store.entity_sources()
    assert set(stored) == {"e1", "e2"}
    with store.writing_entities(stored=stored) as write:
        write.upsert([entity_row(entity("e1", "s1")), entity_row(entity("e7", "s2"))])
        write.upsert([entity_row(entity("e3", "s3"))])
    assert memberships(store) == [("s1", "e1"), ("s2", "e7"), ("s3", "e3")]
    assert removals(store) == set()
    assert store.count_entities() == counted(store) == 4
    with store.engine.connect() as conn:
        golden = conn.scalar(sa.select(t.entities.c.names).where(t.entities.c.entity_id == "e7"))
    assert "e7" in str(golden)
