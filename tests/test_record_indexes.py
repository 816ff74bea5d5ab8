"""Migration 0015: the indexes of gone records and of offers by shop hold only the rows with a
value, on SQLite and PostgreSQL; the queries that read them still use them and read the same."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordType, RunCounts, utcnow
from aggregator.store import IngestBatch, Store

PARTIAL = {"ix_raw_records_gone_at": "gone_at", "ix_raw_records_shop": "shop_source_id"}


def _definitions(store: Store) -> dict[str, str]:
    """index name → its SQL definition, as the store itself holds it."""
    query = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'raw_records'"
        if store.engine.dialect.name == "postgresql"
        else "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'raw_records' AND sql IS NOT NULL"
    )
    with store.engine.connect() as conn:
        return {name: sql for name, sql in conn.exec_driver_sql(query)}


def _entries(store: Store, name: str) -> int:
    """SQLite: the rows in index ``name``, counted by a scan of the index itself."""
    column = PARTIAL[name]
    with store.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                f"SELECT count(*) FROM raw_records INDEXED BY {name} WHERE {column} IS NOT NULL"
            ).scalar_one()
        )


def _fill(store: Store) -> None:
    """Three shops, two offers of shop 1, one offer without a shop; shop 3 gone."""
    items: list[tuple[RecordType, str, str, dict, dict]] = []
    for source_id in ("1", "2", "3"):
        record = {"platform": "toutoulouse", "source_id": source_id, "name": f"Shop {source_id}"}
        items.append((RecordType.shop, "toutoulouse", source_id, {"id": source_id}, record))
    for source_id, shop in (("o1", "1"), ("o2", "1"), ("o3", None)):
        of_shop = {"platform": "toutoulouse", "source_id": source_id, "shop_source_id": shop}
        items.append((RecordType.offer, "toutoulouse", source_id, {"sku": source_id}, of_shop))
    store.apply(IngestBatch("toutoulouse-json", items), RunCounts(), set())
    seen = {("toutoulouse", "shop", "1"), ("toutoulouse", "shop", "2")}
    seen |= {("toutoulouse", "offer", o) for o in ("o1", "o2", "o3")}
    assert store.mark_gone("toutoulouse-json", seen) == 1


def test_the_two_indexes_hold_only_rows_with_a_value(store: Store) -> None:
    definitions = _definitions(store)
    for name, column in PARTIAL.items():
        assert f"{column} IS NOT NULL" in definitions[name].split("WHERE", 1)[1]
    assert "WHERE" not in definitions["ix_raw_records_last_changed"]
    start = utcnow()
    _fill(store)
    if store.engine.dialect.name == "sqlite":
        assert _entries(store, "ix_raw_records_gone_at") == 1  # shop 3 alone
        assert _entries(store, "ix_raw_records_shop") == 2  # the offers of shop 1
    assert [r.source_id for r in store.offers_of([("toutoulouse", "1")])] == ["o1", "o2"]
    changes = store.shop_changes_since(start)
    assert [(c.key, c.gone) for c in changes] == [
        ("toutoulouse:1", False),
        ("toutoulouse:2", False),
        ("toutoulouse:3", True),
    ]
    assert sorted(store.offer_changes_since(start)) == [
        ("toutoulouse", "o1", "1", False),
        ("toutoulouse", "o2", "1", False),
        ("toutoulouse", "o3", None, False),
    ]


def test_sqlite_plans_still_read_the_partial_indexes(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        _fill(store)
        c = t.raw_records.c
        since = utcnow()
        queries = {
            "ix_raw_records_gone_at": sa.select(c.source_id).where(
                c.record_type == "shop", sa.or_(c.last_changed >= since, c.gone_at >= since)
            ),
            "ix_raw_records_shop": sa.select(c.source_id).where(
                c.platform == "toutoulouse",
                c.record_type == "offer",
                c.shop_source_id.in_(["1", "2"]),
                c.gone_at.is_(None),
            ),
        }
        with store.engine.connect() as conn:
            for name, query in queries.items():
                compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
                plan = " ".join(
                    str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
                )
                assert f"USING INDEX {name}" in plan, plan
    finally:
        store.dispose()


def test_the_downgrade_puts_the_full_indexes_back(store: Store) -> None:
    from alembic import command

    from aggregator.store.base import _alembic_config

    _fill(store)
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
    definitions = _definitions(store)
    assert all("WHERE" not in definitions[name] for name in PARTIAL)
    if store.engine.dialect.name == "sqlite":
        assert _entries(store, "ix_raw_records_gone_at") == 1
    store.migrate()
    assert store.schema_revision() == Store.head_revision()
    assert all("IS NOT NULL" in _definitions(store)[name] for name in PARTIAL)
    assert [r.source_id for r in store.offers_of([("toutoulouse", "1")])] == ["o1", "o2"]
