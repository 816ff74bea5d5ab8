"""The decisions log, the review queue and reviewer keys, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.models import CandidatePair, Decision, RecordKey, RecordType, RunCounts, Verdict
from aggregator.store import IngestBatch, Store
from aggregator.store.review import ReviewError
from aggregator.store.reviewers import REVIEWER_KEY_PREFIX


def put_shops(store: Store, *keys: str) -> None:
    batch = IngestBatch(connector_id="c")
    for key in keys:
        platform, _, sid = key.partition(":")
        record = {
            "platform": platform,
            "source_id": sid,
            "name": f"Boulangerie {sid}",
            "city": "Toulouse" if sid == "1" else "Blagnac",
            "category": "boulangerie" if sid == "1" else "fromagerie",
        }
        batch.items.append((RecordType.shop, platform, sid, record, record))
    store.apply(batch, RunCounts(), set())


def candidates(store: Store, *pairs: tuple[str, str, float]) -> None:
    store.replace_entities(
        [],
        [],
        [
            CandidatePair(a=RecordKey.parse(a), b=RecordKey.parse(b), probability=p)
            for a, b, p in pairs
        ],
    )


def test_log_is_append_only_and_undo_restores_exactly(store: Store) -> None:
    put_shops(store, "p:1", "q:1", "q:2")
    candidates(store, ("p:1", "q:1", 0.6))
    before = store.list_decisions()
    first = store.decide("p:1", "q:1", "same", reviewer="anne", role="reviewer", note="même SIRET")
    assert (first.a, first.b, first.before, first.after) == ("p:1", "q:1", "none", "must_link")
    assert first.probability == pytest.approx(0.6) and first.role == "reviewer"
    second = store.decide("q:1", "p:1", "different", reviewer="anne")  # either order
    assert (second.before, second.after) == ("must_link", "cannot_link")
    (ruling,) = store.list_decisions()
    assert ruling.verdict is Verdict.cannot_link
    # Undo twice: back to must-link, then to no ruling at all; four rows are kept.
    assert store.undo_last("anne").after == "must_link"  # type: ignore[union-attr]
    assert [d.verdict for d in store.list_decisions()] == [Verdict.must_link]
    undone = store.undo_last("anne")
    assert undone is not None and undone.after == "none" and undone.undoes == first.id
    assert store.list_decisions() == before == []
    assert store.undo_last("anne") is None
    log = store.decision_log()
    assert [e.action for e in log] == ["undo", "undo", "decide", "decide"]
    assert store.decision_log("bob") == []


def test_add_decision_keeps_working(store: Store) -> None:
    a, b = RecordKey(platform="p", source_id="1"), RecordKey(platform="q", source_id="1")
    when = datetime(2026, 1, 2, tzinfo=UTC)
    store.add_decision(Decision(a=b, b=a, verdict=Verdict.must_link, reviewer="x", decided_at=when))
    (decision,) = store.list_decisions()
    assert {decision.a, decision.b} == {a, b} and decision.verdict is Verdict.must_link
    assert decision.decided_at.replace(tzinfo=UTC) == when


def test_implied_pairs_are_not_queued(store: Store) -> None:
    put_shops(store, "p:1", "q:1", "r:1", "s:1", "t:1")
    candidates(
        store,
        ("p:1", "q:1", 0.5),
        ("q:1", "r:1", 0.5),
        ("p:1", "r:1", 0.4),  # implied same by p=q and q=r
        ("r:1", "s:1", 0.5),
        ("p:1", "s:1", 0.45),  # implied different: s apart from r, r with p
        ("s:1", "t:1", 0.3),
    )
    assert len(store.review_queue()) == 6
    store.decide("p:1", "q:1", "same", reviewer="anne")
    store.decide("q:1", "r:1", "same", reviewer="anne")
    store.decide("r:1", "s:1", "different", reviewer="anne")
    assert [(i.a, i.b) for i in store.review_queue()] == [("s:1", "t:1")]
    assert store.review_progress() == (5, 6)
    store.undo_last("anne")  # r/s apart no longer: p/s comes back
    assert {(i.a, i.b) for i in store.review_queue()} == {
        ("r:1", "s:1"),
        ("p:1", "s:1"),
        ("s:1", "t:1"),
    }


def test_queue_orders_by_usefulness_and_filters(store: Store) -> None:
    put_shops(store, "p:1", "q:1", "q:2", "r:3")
    candidates(store, ("p:1", "q:1", 0.97), ("p:1", "q:2", 0.52), ("q:2", "r:3", 0.7))
    # Closest to the merge threshold (0.9) first: 0.97, then 0.7, then 0.52.
    order = [(i.a, i.b) for i in store.review_queue()]
    assert order == [("p:1", "q:1"), ("q:2", "r:3"), ("p:1", "q:2")]
    assert [(i.a, i.b) for i in store.review_queue(band="tres-haut")] == [("p:1", "q:1")]
    assert [(i.a, i.b) for i in store.review_queue(platforms=("r", "q"))] == [("q:2", "r:3")]
    assert [(i.a, i.b) for i in store.review_queue(limit=1)] == [("p:1", "q:1")]
    theirs = {("p:1", "q:2"), ("q:2", "r:3")}
    assert {(i.a, i.b) for i in store.review_queue(category="fromagerie")} == theirs
    assert {(i.a, i.b) for i in store.review_queue(commune="blagnac")} == theirs


def test_bad_rulings_are_refused_and_store_nothing(store: Store) -> None:
    put_shops(store, "p:1", "q:1")
    for a, b, word in [
        ("p:1", "q:1", "maybe"),
        ("p:1", "zz:9", "same"),
        ("p1", "q:1", "same"),
        ("p:1", "p:1", "same"),
    ]:
        with pytest.raises(ReviewError):
            store.decide(a, b, word, reviewer="anne")
    assert store.decision_log() == []


def test_keys_are_hashed_and_kept_apart(store: Store) -> None:
    _, reviewer_key = store.create_reviewer_key("Anne (CCI 31)", "reviewer")
    _, admin_key = store.create_reviewer_key("Paul", "admin")
    _, operator_key = store.create_api_key("toutoulouse")
    assert reviewer_key.startswith(REVIEWER_KEY_PREFIX)
    found = store.reviewer_for_key(reviewer_key)
    assert found is not None and (found.name, found.role) == ("Anne (CCI 31)", "reviewer")
    assert store.reviewer_for_key(admin_key).role == "admin"  # type: ignore[union-attr]
    # Neither kind of key opens the other's door.
    assert store.reviewer_for_key(operator_key) is None
    assert store.platform_for_key(reviewer_key) is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT key_hash FROM reviewer_keys").scalars().all()
    assert reviewer_key not in stored and all(len(h) == 64 for h in stored)
    with pytest.raises(Exception, match="role"):
        store.create_reviewer_key("Eve", "operator")
    token = store.open_session(found)
    assert store.reviewer_for_session(token) == found
    store.revoke_reviewer_key(found.key_id)
    assert store.reviewer_for_key(reviewer_key) is None
    assert store.reviewer_for_session(token) is None


def test_an_action_on_several_pairs_is_undone_at_once(store: Store) -> None:
    put_shops(store, "p:1", "q:1", "r:1")
    store.decide("p:1", "q:1", "same", reviewer="anne")
    store.record_decisions([("r:1", "p:1"), ("r:1", "q:1")], "cannot_link", reviewer="anne")
    assert len(store.list_decisions()) == 3
    store.undo_last("anne")
    assert [d.verdict for d in store.list_decisions()] == [Verdict.must_link]
    store.undo_last("anne")
    assert store.list_decisions() == []


def test_decisions_stored_before_the_log_survive_the_upgrade(database_url: str) -> None:
    from alembic import command

    from aggregator.store.base import _alembic_config

    store = Store.open(database_url)
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO decisions (a, b, verdict, reviewer, note, decided_at) "
            "VALUES ('q:1', 'p:1', 'cannot_link', 'cci31', NULL, '2026-01-02 00:00:00')"
        )
    store.migrate()
    (old,) = store.list_decisions()
    assert (str(old.a), str(old.b), old.verdict) == ("q:1", "p:1", Verdict.cannot_link)
    (entry,) = store.decision_log()
    assert (entry.action, entry.before, entry.role) == ("decide", "none", None)
    undone = store.undo_last("cci31")
    assert undone is not None and store.list_decisions() == []
    store.dispose()


def test_a_pair_that_moves_more_records_comes_first(store: Store) -> None:
    from aggregator.models import Entity, GoldenRecord

    put_shops(store, "p:1", "p:2", "q:1", "q:2", "q:3", "r:1", "s:1")

    def entity(eid: str, *keys: str) -> tuple[Entity, str]:
        members = [RecordKey.parse(k) for k in keys]
        return Entity(entity_id=eid, members=members, golden=GoldenRecord()), eid

    store.replace_entities(
        [entity("e1", "p:1", "p:2"), entity("e2", "q:1", "q:2", "q:3")],
        [],
        [
            CandidatePair(a=RecordKey.parse("r:1"), b=RecordKey.parse("s:1"), probability=0.8),
            CandidatePair(a=RecordKey.parse("p:1"), b=RecordKey.parse("q:1"), probability=0.8),
        ],
    )
    # Same score: joining a 2-record shop to a 3-record one moves two records, not one.
    assert [(i.a, i.b) for i in store.review_queue()] == [("p:1", "q:1"), ("r:1", "s:1")]
