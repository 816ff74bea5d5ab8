"""The number of entities their writer keeps (migration 0014), on SQLite and PostgreSQL: it
follows every entity write, and every full matching counts the entities again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.matching import Matching
from aggregator.models import Entity, GoldenRecord, RecordKey
from aggregator.settings import Settings
from aggregator.store import Store
from tests.test_matching_service import catalogue, gone, put, shop


def counted(store: Store) -> int:
    """The entities, counted one by one."""
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(t.entities)) or 0)


def entity(entity_id: str, *source_ids: str) -> Entity:
    return Entity(
        entity_id=entity_id,
        members=[RecordKey(platform="toutoulouse", source_id=s) for s in source_ids],
        golden=GoldenRecord(),
        names=[entity_id],
    )


def test_the_number_follows_every_entity_write(store: Store) -> None:
    assert store.count_entities() == 0
    store.replace_entities([(entity(f"e{n}", f"s{n}"), f"h{n}") for n in range(5)], [], [])
    assert store.count_entities() == counted(store) == 5
    # Written again (changed) and new in one write; an id removed that was never stored.
    store.replace_entities([(entity("e1", "s1"), "h1b"), (entity("e9", "s9"), "h9")], ["x"], [])
    assert store.count_entities() == counted(store) == 6
    store.replace_entities([], ["e0", "e2"], [])
    assert store.count_entities() == counted(store) == 4
    # One removed, one written again, one moving its member to a new one, in one write.
    store.replace_entities([(entity("e3", "s3"), "h3b"), (entity("e8", "s4"), "h8")], ["e9"], [])
    assert store.count_entities() == counted(store) == 4
    with store.writing_entities() as write:  # a write that writes nothing moves nothing
        write.upsert([])
    assert store.count_entities() == 4


def test_matchings_keep_the_number_and_a_full_one_puts_a_drifted_number_right(
    store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config")
    settings.ensure_dirs()
    put(store, *catalogue())
    matching = Matching(store, settings)
    first = matching.run()
    assert first.mode == "full" and store.count_entities() == counted(store) == first.entities
    gone(store, "toutoulouse", "t1")
    put(store, shop("toutoulouse", "new", "Fromagerie nouvelle", 77))
    assert matching.run().mode == "incremental"
    assert store.count_entities() == counted(store)
    # Behind the writer's back: a number off by some, entities erased by hand.
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE entity_count SET n = n + 7"))
        some = conn.execute(sa.select(t.entities.c.entity_id).limit(2)).scalars().all()
        conn.execute(t.entities.delete().where(t.entities.c.entity_id.in_(some)))
    assert store.count_entities() != counted(store)
    assert matching.run(full=True).mode == "full"
    assert store.count_entities() == counted(store)
    # A lost row is made again by the next full matching.
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM entity_count"))
    assert store.count_entities() == 0
    matching.run(full=True)
    assert store.count_entities() == counted(store) > 0
    with store.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM entity_count")) == 1


def test_the_migration_counts_what_is_there_and_goes_back(store: Store) -> None:
    from alembic import command

    from aggregator.store.base import _alembic_config

    store.replace_entities([(entity(f"e{n}", f"s{n}"), f"h{n}") for n in range(3)], [], [])
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    assert "entity_count" not in sa.inspect(store.engine).get_table_names()
    assert "live_counts" in sa.inspect(store.engine).get_table_names()
    # Written while nothing counts: the upgrade counts the entities themselves.
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(t.entities).where(t.entities.c.entity_id == "e1")).one()
        conn.execute(t.entities.insert().values(dict(row._asdict(), entity_id="by-hand")))
    store.migrate()
    assert store.schema_revision() == Store.head_revision()
    assert store.count_entities() == counted(store) == 4
    store.replace_entities([], ["e0"], [])
    assert store.count_entities() == counted(store) == 3
