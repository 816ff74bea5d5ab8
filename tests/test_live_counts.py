"""The number of live records the database keeps (migration 0013), on SQLite and PostgreSQL:
it follows every way a record is written, and a matching whose state disagrees with it still
matches everything again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.matching import Matching
from aggregator.models import OfferRecord, RecordType, utcnow
from aggregator.settings import Settings
from aggregator.store import Store
from tests.test_matching_service import catalogue, gone, put, shop


def counted(store: Store, rtype: RecordType) -> int:
    """The live records of ``rtype``, counted one by one."""
    c = t.raw_records.c
    query = sa.select(sa.func.count()).where(c.record_type == rtype.value, c.gone_at.is_(None))
    with store.engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def assert_kept(store: Store) -> None:
    for rtype in RecordType:
        assert store.count_live(rtype) == counted(store, rtype)


def test_the_number_follows_inserts_changes_gone_back_and_deletes(store: Store) -> None:
    assert store.count_live(RecordType.shop) == 0
    put(store, *catalogue())
    offer = OfferRecord(platform="toutoulouse", source_id="o1", shop_source_id="t1", title="Pain")
    put(store, offer, connector="offers")
    assert store.count_live(RecordType.shop) == 50
    assert store.count_live(RecordType.offer) == 1
    # Changed records stay live; the same record twice is counted once.
    put(store, shop("toutoulouse", "t1", "Boulangerie renommée", 1))
    put(store, shop("toutoulouse", "t1", "Boulangerie renommée", 1))
    assert_kept(store)
    assert store.count_live(RecordType.shop) == 50
    gone(store, "toutoulouse", "t2")
    gone(store, "toutoulouse", "t3")
    gone(store, "toutoulouse", "t3")  # gone again: no second decrement
    assert store.count_live(RecordType.shop) == 48
    put(store, shop("toutoulouse", "t2", "De retour", 2))  # back
    assert store.count_live(RecordType.shop) == 49
    # A complete refresh that saw one record: the connector's others are gone (not the offer,
    # another connector's).
    seen = {("toutoulouse", "shop", "t1")}
    store.mark_gone("feed", seen, since=utcnow())
    assert_kept(store)
    assert store.count_live(RecordType.shop) == 1
    # By hand, behind the store's back: erased, inserted, gone record erased, type changed.
    c = t.raw_records.c
    with store.engine.begin() as conn:
        conn.execute(t.raw_records.delete().where(c.source_id.in_(["t1", "t4"])))
        conn.execute(
            t.raw_records.update()
            .where(c.source_id == "o1")
            .values(record_type=RecordType.shop.value)
        )
    assert store.count_live(RecordType.shop) == 1  # t1 erased, the offer made a shop
    assert store.count_live(RecordType.offer) == 0
    assert_kept(store)


def test_many_writes_keep_the_number(store: Store) -> None:
    """Enough writing statements for PostgreSQL's rows of differences to be folded, twice."""
    for n in range(150):
        put(store, shop("toutoulouse", f"s{n}", f"Épicerie {n}", n))
        if n % 3 == 0:
            gone(store, "toutoulouse", f"s{n}")
        if n == 80:
            assert store.count_live(RecordType.shop) == counted(store, RecordType.shop)
    assert store.count_live(RecordType.shop) == 100
    assert store.count_live(RecordType.shop) == 100  # folded: the same
    with store.engine.connect() as conn:
        rows = conn.scalar(sa.text("SELECT count(*) FROM live_counts"))
    assert rows is not None and rows <= 70


def test_a_recount_puts_a_drifted_number_right(store: Store) -> None:
    put(store, *catalogue())
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM live_counts"))
    assert store.count_live(RecordType.shop) == 0
    store.recount_live()
    assert store.count_live(RecordType.shop) == 50
    assert_kept(store)


def test_a_drifted_number_gives_a_full_matching_then_is_right_again(
    store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config")
    settings.ensure_dirs()
    put(store, *catalogue())
    matching = Matching(store, settings)
    assert matching.run().mode == "full"
    assert matching.run().mode == "incremental"
    # A record erased with the triggers out of the way (a restore): only the number says so.
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE live_counts SET n = n + 1 WHERE record_type = 'shop'"))
    assert matching.run().mode == "full"
    assert store.count_live(RecordType.shop) == 50
    assert matching.run().mode == "incremental"
    # Erased by hand: the triggers see it, the matching runs in full and drops the record.
    c = t.raw_records.c
    with store.engine.begin() as conn:
        conn.execute(t.raw_records.delete().where(c.source_id == "c5"))
    outcome = matching.run()
    assert outcome.mode == "full"
    assert store.count_live(RecordType.shop) == 49


def test_the_migration_counts_what_is_there_and_goes_back(store: Store) -> None:
    from alembic import command

    from aggregator.store.base import _alembic_config

    put(store, *catalogue())
    gone(store, "toutoulouse", "t0")
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    assert "live_counts" not in sa.inspect(store.engine).get_table_names()
    # Written while nothing counts: the upgrade counts the records themselves.
    c = t.raw_records.c
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(t.raw_records).where(c.source_id == "t3")).one()._asdict()
        conn.execute(t.raw_records.insert().values(dict(row, source_id="new")))
    store.migrate()
    assert store.count_live(RecordType.shop) == 50
    put(store, shop("toutoulouse", "new2", "Fleuriste autre", 8))
    assert store.count_live(RecordType.shop) == 51
    assert_kept(store)


def test_an_emptied_table_counts_nothing(store: Store) -> None:
    put(store, *catalogue())
    statement = (
        "TRUNCATE raw_records"
        if store.engine.dialect.name == "postgresql"
        else "DELETE FROM raw_records"
    )
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert store.count_live(RecordType.shop) == 0
    put(store, shop("toutoulouse", "t1", "Librairie", 1))
    assert store.count_live(RecordType.shop) == 1


def test_a_record_inserted_by_hand_is_counted_by_the_next_full_matching(
    store: Store, tmp_path: Path
) -> None:
    """PostgreSQL's trigger counts it at once; SQLite counts only what the ingest inserts (a
    row trigger on inserts cost more than the insert), so there the next full matching, which
    counts the records again, puts the number right."""
    settings = Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config")
    settings.ensure_dirs()
    put(store, *catalogue())
    matching = Matching(store, settings)
    assert matching.run().mode == "full"
    c = t.raw_records.c
    with store.engine.begin() as conn:  # a copy of a record under another key, as restored
        row = conn.execute(sa.select(t.raw_records).where(c.source_id == "t3")).one()._asdict()
        record = dict(row["record"], source_id="t3-restored")
        restored = dict(row, source_id="t3-restored", record=record, content_hash="restored")
        restored["last_changed"] = utcnow() - timedelta(hours=1)  # no change is dated
        conn.execute(t.raw_records.insert().values(restored))
    postgres = store.engine.dialect.name == "postgresql"
    assert store.count_live(RecordType.shop) == (51 if postgres else 50)
    assert matching.run().mode == ("full" if postgres else "incremental")
    assert matching.run(full=True).mode == "full"
    assert store.count_live(RecordType.shop) == counted(store, RecordType.shop) == 51
    assert matching.run().mode == "incremental"
