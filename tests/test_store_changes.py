"""What incremental matching reads of the store: the records changed since a time, in key
order, found through the time indexes rather than by reading every record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store import Store
from tests.test_matching_service import gone, put, shop


def test_changes_since_come_in_key_order(store: Store) -> None:
    put(store, *(shop("toutoulouse", f"t{n}", f"Fleuriste {n}", n) for n in range(12)))
    put(store, *(shop("clickn_co", f"c{n}", f"Fleuriste {n}", n) for n in range(3)))
    c = t.raw_records.c
    with store.engine.begin() as conn:
        conn.execute(t.raw_records.update().values(last_changed=utcnow() - timedelta(hours=1)))
    since = utcnow() - timedelta(minutes=1)
    put(store, shop("toutoulouse", "t7", "Fleuriste renommé", 7))
    put(store, shop("clickn_co", "c9", "Nouvelle", 9))
    gone(store, "toutoulouse", "t10")
    with store.engine.begin() as conn:  # long gone: not a change since
        conn.execute(
            t.raw_records.update()
            .where(c.source_id == "t2")
            .values(gone_at=utcnow() - timedelta(hours=2))
        )
    changes = store.shop_changes_since(since)
    assert [(ch.key, ch.gone) for ch in changes] == [
        ("clickn_co:c9", False),
        ("toutoulouse:t10", True),
        ("toutoulouse:t7", False),
    ]


def test_sqlite_reads_changes_through_the_time_indexes(tmp_path: Path) -> None:
    """``EXPLAIN QUERY PLAN`` of the statement the store runs: no scan of every record (an
    ``ORDER BY`` in the query made SQLite read the table in key order)."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "raw_records.last_changed >=" in statement:
            statements.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", keep)
    store.shop_changes_since(utcnow())
    store.offer_changes_since(utcnow())
    sa.event.remove(store.engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    with store.engine.connect() as conn:
        for statement, parameters in statements:
            plan = [
                row[3]
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert "MULTI-INDEX OR" in plan, plan
            assert not any(step.startswith("SCAN") for step in plan), plan
    store.dispose()
