"""The store on SQLite and PostgreSQL: migrations, registrations, raw records, runs, entities."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import (
    CandidatePair,
    ConnectorRegistration,
    Decision,
    Entity,
    GoldenRecord,
    Listing,
    Provenanced,
    RecordKey,
    RecordType,
    Rejection,
    RunCounts,
    Verdict,
    utcnow,
)
from aggregator.store import IngestBatch, Store, StoreError


def registration(**overrides: object) -> ConnectorRegistration:
    data: dict[str, object] = dict(
        platform="toutoulouse",
        kind="csv",
        url="/tmp/shops.csv",
        mapping={"source_id": "id", "name": "name"},
    )
    data.update(overrides)
    return ConnectorRegistration.model_validate(data)


def shop(source_id: str, name: str) -> tuple[RecordType, str, str, dict, dict]:
    record = {"platform": "toutoulouse", "source_id": source_id, "name": name}
    return (RecordType.shop, "toutoulouse", source_id, {"id": source_id, "nom": name}, record)


def test_migrates_to_head_and_again_without_change(store: Store) -> None:
    assert store.schema_revision() == Store.head_revision()
    store.migrate()  # a second upgrade is a no-op, never a wipe
    assert store.schema_revision() == Store.head_revision()


def test_connector_round_trip_keeps_state_across_updates(store: Store) -> None:
    cid = store.save_connector(registration(), origin="cli")
    assert cid == "toutoulouse-csv"
    store.save_state(cid, {"etag": "abc"})
    store.save_connector(registration(url="/tmp/other.csv"), origin="cli")
    assert store.get_connector(cid).url == "/tmp/other.csv"
    assert store.get_state(cid) == {"etag": "abc"}
    assert [r.effective_id() for r in store.list_connectors()] == [cid]
    assert store.connector_origin(cid) == "cli"
    store.delete_connector(cid)
    with pytest.raises(StoreError, match="no connector with id 'toutoulouse-csv'"):
        store.get_connector(cid)


def test_reingesting_unchanged_records_changes_nothing(store: Store) -> None:
    cid = store.save_connector(registration(), origin="cli")
    counts, seen = RunCounts(), set()
    store.apply(IngestBatch(cid, [shop("1", "Boulangerie"), shop("2", "Fromagerie")]), counts, seen)
    assert (counts.new, counts.changed, counts.unchanged) == (2, 0, 0)
    before = store.get_raw("toutoulouse", "1")
    assert before is not None

    counts = RunCounts()
    store.apply(IngestBatch(cid, [shop("1", "Boulangerie"), shop("2", "Fromagerie")]), counts, seen)
    assert (counts.new, counts.changed, counts.unchanged) == (0, 0, 2)
    after = store.get_raw("toutoulouse", "1")
    assert after is not None
    assert (after.content_hash, after.first_seen, after.last_changed, after.record) == (
        before.content_hash,
        before.first_seen,
        before.last_changed,
        before.record,
    )

    counts = RunCounts()
    store.apply(IngestBatch(cid, [shop("1", "Boulangerie du Centre")]), counts, seen)
    assert (counts.new, counts.changed) == (0, 1)
    changed = store.get_raw("toutoulouse", "1")
    assert changed is not None and changed.record["name"] == "Boulangerie du Centre"
    assert changed.first_seen == before.first_seen


def test_gone_records_leave_and_can_come_back(store: Store) -> None:
    cid = store.save_connector(registration(), origin="cli")
    store.apply(IngestBatch(cid, [shop("1", "A"), shop("2", "B")]), RunCounts(), set())
    seen = {("toutoulouse", "shop", "1")}
    assert store.mark_gone(cid, seen) == 1
    assert [r.source_id for r in store.iter_raw(RecordType.shop)] == ["1"]
    assert store.count_raw(cid) == 1
    counts = RunCounts()
    store.apply(IngestBatch(cid, [shop("2", "B")]), counts, set())
    assert counts.new == 1  # it came back
    assert store.count_raw(cid) == 2


def test_runs_and_quarantine(store: Store) -> None:
    run = store.start_run("toutoulouse-csv")
    run.counts.fetched, run.counts.rejected, run.status = 3, 1, "ok"
    store.quarantine(run, [Rejection(locator="line 4", reason="name: missing", excerpt="{}")])
    store.finish_run(run)
    (stored,) = store.list_runs("toutoulouse-csv")
    assert stored.status == "ok" and stored.counts.rejected == 1 and stored.duration_s is not None
    assert store.last_good_run("toutoulouse-csv") == stored
    assert store.list_quarantine(run.id or 0)[0].locator == "line 4"


def test_review_pairs_are_written_only_when_they_change(store: Store) -> None:
    """A matching that proposes the same pairs again leaves them as they are (their
    ``created_at`` with them); changed, new and gone pairs are written."""

    def pair(a: str, b: str, probability: float, why: str = "phone") -> CandidatePair:
        return CandidatePair(
            a=RecordKey.parse(a), b=RecordKey.parse(b), probability=probability,
            explanation={"agree": [why], "weights": {why: 1.5}},
        )  # fmt: skip

    def stored() -> dict[tuple[str, str], tuple[float, dict, object]]:
        c = t.candidate_pairs.c
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(c.a, c.b, c.probability, c.explanation, c.created_at))
            return {(r.a, r.b): (r.probability, r.explanation, r.created_at) for r in rows}

    kept, moved, gone = pair("a:1", "b:1", 0.7), pair("a:2", "b:2", 0.6), pair("a:3", "b:3", 0.5)
    store.replace_entities([], [], [kept, moved, gone])
    first = stored()
    with store.engine.begin() as conn:  # marks the rows, to tell a row left from one rewritten
        conn.execute(t.candidate_pairs.update().values(created_at=datetime(2020, 1, 1)))
    new, explained = pair("a:4", "b:4", 0.9), pair("a:2", "b:2", 0.6, why="email")
    store.replace_entities([], [], [kept, explained, new])
    after = stored()
    assert set(after) == {("a:1", "b:1"), ("a:2", "b:2"), ("a:4", "b:4")}
    assert after[("a:1", "b:1")][:2] == first[("a:1", "b:1")][:2]
    assert after[("a:1", "b:1")][2].year == 2020  # left as it was
    assert after[("a:2", "b:2")][1] == explained.explanation
    assert after[("a:2", "b:2")][2].year > 2020 and after[("a:4", "b:4")][2].year > 2020
    assert [str(c.a) for c in store.list_candidates()] == ["a:4", "a:1", "a:2"]
    store.replace_entities([], [], [])
    assert stored() == {}


def test_entities_and_decisions(store: Store) -> None:
    a = RecordKey(platform="toutoulouse", source_id="1")
    b = RecordKey(platform="clickn_co", source_id="CNC-1")
    golden = GoldenRecord(
        fields={"name": Provenanced(value="Boulangerie", platform="toutoulouse", source_id="1")}
    )
    entity = Entity(
        entity_id="e123",
        members=[b, a],
        golden=golden,
        listings=[Listing(platform="toutoulouse", source_id="1", url="http://x/1", name="B")],
        names=["Boulangerie"],
    )
    store.replace_entities([(entity, "hash1")], [], [])
    assert store.entity_ids_by_record() == {a: "e123", b: "e123"}
    loaded = store.get_entity("e123")
    assert loaded is not None and loaded.golden.value("name") == "Boulangerie"
    assert [e.entity_id for e in store.iter_entities()] == ["e123"]
    store.replace_entities([], ["e123"], [])
    assert store.get_entity("e123") is None and store.entity_ids_by_record() == {}

    store.add_decision(Decision(a=a, b=b, verdict=Verdict.cannot_link, reviewer="cci31"))
    (decision,) = store.list_decisions()
    assert decision.a == a and decision.verdict is Verdict.cannot_link


def test_sqlite_upgrade_from_an_older_revision_keeps_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = Store.open(url)
    store.save_connector(registration(), origin="config")
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    store.dispose()
    reopened = Store.open(url)
    assert reopened.get_connector("toutoulouse-csv").platform == "toutoulouse"


def test_upgrade_to_0003_files_each_stored_offer_under_its_shop(database_url: str) -> None:
    from alembic import command

    from aggregator import schema as t
    from aggregator.store.base import _alembic_config, create_engine

    engine, cfg = create_engine(database_url), _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    now = utcnow()
    offer = {"platform": "toutoulouse", "source_id": "o1", "shop_source_id": "s1", "title": "Pain"}
    loose = {"platform": "toutoulouse", "source_id": "o2", "title": "Carte cadeau"}
    columns = dict(
        platform="toutoulouse", record_type="offer", connector_id="c", payload={},
        content_hash="h", first_seen=now, last_seen=now, last_changed=now,
    )  # fmt: skip
    json_columns = {"payload", "record"}
    old_table = sa.table(
        "raw_records",
        *(
            sa.column(name, sa.JSON if name in json_columns else None)
            for name in [*columns, "source_id", "record"]
        ),
    )
    with engine.begin() as conn:
        conn.execute(old_table.insert().values(**columns, source_id="o1", record=offer))
        conn.execute(old_table.insert().values(**columns, source_id="o2", record=loose))
    engine.dispose()

    store = Store.open(database_url)
    assert store.schema_revision() == Store.head_revision()
    (found,) = store.offers_of([("toutoulouse", "s1")])
    assert found.source_id == "o1" and found.record == offer
    with store.engine.connect() as conn:
        shops = dict(
            conn.execute(sa.select(t.raw_records.c.source_id, t.raw_records.c.shop_source_id)).all()
        )
    assert shops == {"o1": "s1", "o2": None}
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert "shop_source_id" not in {
        c["name"] for c in sa.inspect(store.engine).get_columns("raw_records")
    }
    store.migrate()
    assert [r.source_id for r in store.offers_of([("toutoulouse", "s1")])] == ["o1"]
    store.dispose()


def test_changes_since_a_time_name_new_changed_and_gone_records(store: Store) -> None:
    from aggregator.models import OfferRecord

    start = utcnow()
    counts, seen = RunCounts(), set()
    batch = IngestBatch(connector_id="toutoulouse-csv", items=[shop("1", "Ange"), shop("2", "Bio")])
    offer = OfferRecord(platform="toutoulouse", source_id="o1", shop_source_id="1", title="Pain")
    batch.items.append((RecordType.offer, "toutoulouse", "o1", {}, offer.model_dump(mode="json")))
    store.apply(batch, counts, seen)
    changes = store.shop_changes_since(start)
    assert [(c.key, c.gone) for c in changes] == [
        ("toutoulouse:1", False),
        ("toutoulouse:2", False),
    ]
    assert store.offer_changes_since(start) == [("toutoulouse", "o1", "1", False)]
    later = utcnow()
    assert store.shop_changes_since(later) == [] and store.offer_changes_since(later) == []
    store.mark_gone("toutoulouse-csv", {("toutoulouse", "shop", "1")})
    assert [(c.key, c.gone) for c in store.shop_changes_since(later)] == [("toutoulouse:2", True)]
    assert store.offer_changes_since(later) == [("toutoulouse", "o1", "1", True)]
    assert [
        r.source_id for r in store.get_raw_many([("toutoulouse", "1"), ("toutoulouse", "2")])
    ] == ["1"]
    assert store.offers_of([("toutoulouse", "1")]) == []  # the offer is gone too
    assert store.count_live(RecordType.shop) == 1
