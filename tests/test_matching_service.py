"""Matching inside the service: the first run matches everything, later runs only what changed,
and what they write equals what a full matching of the same store writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aggregator import schema as t
from aggregator.matching import MODEL_FILE, Matching
from aggregator.models import (
    Decision,
    OfferRecord,
    RecordKey,
    RecordType,
    RunCounts,
    ShopRecord,
    Verdict,
)
from aggregator.settings import Settings
from aggregator.store import IngestBatch, Store

STREETS = ["rue Alsace-Lorraine", "rue du Taur", "allée Jean Jaurès", "place Esquirol"]
TRADES = ["Boulangerie", "Fromagerie", "Librairie", "Épicerie", "Fleuriste", "Cordonnerie"]


def shop(platform: str, source_id: str, name: str, n: int, **extra: Any) -> ShopRecord:
    return ShopRecord(
        platform=platform,
        source_id=source_id,
        name=name,
        address=f"{n + 1} {STREETS[n % len(STREETS)]}",
        postcode="31000",
        city="Toulouse",
        phone=f"05 61 {n // 100:02d} {n % 100:02d} 11",
        **extra,
    )


def catalogue() -> list[ShopRecord]:
    """30 shops on `toutoulouse`, the first 20 again on `clickn_co` (written differently)."""
    records = []
    for n in range(30):
        name = f"{TRADES[n % len(TRADES)]} {chr(65 + n % 26)}{n}"
        records.append(shop("toutoulouse", f"t{n}", name, n))
        if n < 20:
            records.append(shop("clickn_co", f"c{n}", f"SARL {name.upper()}", n))
    return records


def put(store: Store, *records: ShopRecord | OfferRecord, connector: str = "feed") -> None:
    batch = IngestBatch(connector_id=connector)
    for r in records:
        rtype = RecordType.offer if isinstance(r, OfferRecord) else RecordType.shop
        batch.items.append(
            (rtype, r.platform, r.source_id, {"id": r.source_id}, r.model_dump(mode="json"))
        )
    store.apply(batch, RunCounts(), set())


def gone(store: Store, platform: str, source_id: str, rtype: RecordType = RecordType.shop) -> None:
    c = t.raw_records.c
    with store.engine.begin() as conn:
        conn.execute(
            t.raw_records.update()
            .where(c.platform == platform, c.source_id == source_id, c.record_type == rtype.value)
            .values(gone_at=sa.func.current_timestamp())
        )


def snapshot(store: Store) -> dict[str, Any]:
    """What the search index is built from: each entity's members, golden record and offers."""
    return {
        e.entity_id: (
            [str(m) for m in e.members],
            e.golden.model_dump(mode="json"),
        )
        for e in store.iter_entities()
    }


def forget_sources(store: Store) -> None:
    """The next full matching builds every entity again, none skipped as unchanged."""
    with store.engine.begin() as conn:
        conn.execute(t.entities.update().values(source_hash=None))


def assert_same_as_full(store: Store, settings: Settings) -> None:
    before = snapshot(store)
    forget_sources(store)  # every entity built anew, compared with what was written
    outcome = Matching(store, settings).run()
    assert outcome.mode == "full"
    assert outcome.changed == [] and outcome.removed == []
    assert snapshot(store) == before


@pytest.fixture
def matching(store: Store, tmp_path: Path) -> Matching:
    settings = Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config")
    settings.ensure_dirs()
    put(store, *catalogue())
    return Matching(store, settings)


def test_first_run_is_full_and_saves_its_weights(matching: Matching) -> None:
    outcome = matching.run()
    assert outcome.mode == "full"
    assert outcome.entities == 30 and len(outcome.changed) == 30
    merged = [e for e in outcome.changed if len(e.members) == 2]
    assert len(merged) == 20
    assert matching.settings is not None
    saved = json.loads((matching.settings.data_dir / MODEL_FILE).read_text())
    assert saved["levels"]["phone"] and saved["source"] == outcome.stats["weights"]


def test_a_full_matching_builds_again_only_entities_whose_inputs_changed(
    matching: Matching, store: Store
) -> None:
    matching.run()
    again = matching.run(full=True)
    assert again.mode == "full" and again.stats["entities_not_built"] == 30
    assert again.changed == [] and again.removed == [] and again.written == 0
    # A renamed listing: its entity is built and written again, the 29 others are not.
    renamed = shop("clickn_co", "c3", "SARL LIBRAIRIE D3 & FILS", 3)
    put(store, renamed)
    outcome = matching.run(full=True)
    assert outcome.stats["entities_not_built"] == 29
    assert [[str(m) for m in e.members] for e in outcome.changed] == [
        ["clickn_co:c3", "toutoulouse:t3"]
    ]
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_full_matching_after_others_reads_only_the_records_that_changed(
    matching: Matching, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The others are taken from the state's table; the result is a fresh process's."""
    matching.run()
    put(store, shop("clickn_co", "c3", "SARL LIBRAIRIE D3 & FILS", 3))
    put(store, shop("toutoulouse", "t99", "Fleuriste Nouveau", 31))
    gone(store, "toutoulouse", "t5")
    read: list[tuple[str, str]] = []
    get_raw_many = store.get_raw_many

    def spied(keys: list[tuple[str, str]], *args: Any) -> Any:
        read.extend(keys)
        return get_raw_many(keys, *args)

    monkeypatch.setattr(store, "get_raw_many", spied)
    monkeypatch.setattr(store, "iter_live_records", lambda *_: pytest.fail("all read again"))
    outcome = matching.run(full=True)
    assert outcome.mode == "full" and outcome.entities == 31
    assert sorted(read) == [("clickn_co", "c3"), ("toutoulouse", "t99")]
    monkeypatch.undo()
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_full_matching_after_others_lets_the_old_state_go_before_matching(
    matching: Matching, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two states at once would double the peak memory of a full matching after others: the
    old one is freed (by reference counting: the cyclic collector is paused during a run)
    once its unchanged rows are taken, before the new one is built."""
    import weakref

    import aggregator.matching as module

    matching.run()
    assert matching.result is not None
    old_state = weakref.ref(matching.result.state)
    old_table = weakref.ref(matching.result.state.table)
    put(store, shop("clickn_co", "c3", "SARL LIBRAIRIE D3 & FILS", 3))
    alive_when_matching: list[bool] = []
    match_table = module.match_table

    def spied(*args: Any, **kwargs: Any) -> Any:
        alive_when_matching.append(old_state() is not None or old_table() is not None)
        return match_table(*args, **kwargs)

    monkeypatch.setattr(module, "match_table", spied)
    outcome = matching.run(full=True)
    assert outcome.mode == "full" and outcome.entities == 30
    assert alive_when_matching == [False]
    monkeypatch.undo()
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_shop_spelled_two_ways_is_built_again_only_when_its_words_uses_change(
    matching: Matching, store: Store
) -> None:
    """Its golden name weighs a likely typo ("boulanegrie", one record) by how many records
    use each word: unchanged uses, nothing built; one more record using the word, built."""
    put(store, shop("toutoulouse", "ty", "Boulanegrie Ange", 40))
    put(store, shop("clickn_co", "cy", "Boulangerie Ange", 40))
    first = matching.run()
    ange = [e for e in first.changed if "toutoulouse:ty" in {str(m) for m in e.members}]
    assert len(ange[0].members) == 2 and ange[0].golden.value("name") == "Boulangerie Ange"
    again = matching.run(full=True)
    assert again.stats["entities_not_built"] == again.entities == 31 and again.written == 0
    put(store, shop("toutoulouse", "tz", "Boulanegrie Zed", 77))
    outcome = matching.run(full=True)
    assert outcome.entities == 32
    assert outcome.stats["entities_not_built"] == 30  # built: the new shop, and Ange
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_new_taxonomy_builds_every_entity_again(matching: Matching) -> None:
    matching.run()
    assert matching.settings is not None
    source = Path(__file__).resolve().parents[1] / "config" / "taxonomy.yaml"
    target = matching.settings.config_dir / "taxonomy.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    outcome = matching.run()
    assert outcome.mode == "full" and outcome.stats["entities_not_built"] == 0


def test_nothing_changed_reads_nothing_and_writes_nothing(matching: Matching) -> None:
    matching.run()
    before = snapshot(matching.store)
    outcome = matching.run()
    assert outcome.mode == "incremental"
    assert outcome.changed == [] and outcome.removed == []
    assert outcome.stats["records_changed"] == 0
    assert outcome.entities == 30
    assert snapshot(matching.store) == before


def test_a_new_listing_joins_its_shop_incrementally(matching: Matching, store: Store) -> None:
    matching.run()
    ids = store.entity_ids_by_record()
    put(store, shop("dans_ma_zone", "d25", "Cordonnerie Z25", 25))
    outcome = matching.run()
    assert outcome.mode == "incremental"
    assert outcome.stats["records_changed"] == 1
    (entity,) = outcome.changed
    assert entity.entity_id == ids[RecordKey(platform="toutoulouse", source_id="t25")]
    assert {m.platform for m in entity.members} == {"toutoulouse", "dans_ma_zone"}
    assert store.get_entity(entity.entity_id).members == entity.members  # type: ignore[union-attr]
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_changed_and_gone_listings(matching: Matching, store: Store) -> None:
    matching.run()
    ids = store.entity_ids_by_record()
    # t3 moves across town and changes its phone: it no longer matches c3.
    put(store, shop("toutoulouse", "t3", "Fromagerie D3", 77))
    gone(store, "toutoulouse", "t28")  # a shop listed once closes
    outcome = matching.run()
    assert outcome.mode == "incremental"
    assert outcome.removed == [ids[RecordKey(platform="toutoulouse", source_id="t28")]]
    assert store.get_entity(outcome.removed[0]) is None
    after = store.entity_ids_by_record()
    t3, c3 = (
        RecordKey(platform=p, source_id=s) for p, s in (("toutoulouse", "t3"), ("clickn_co", "c3"))
    )
    assert after[t3] != after[c3]
    assert RecordKey(platform="toutoulouse", source_id="t28") not in after
    assert outcome.entities == 30
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_listing_back_after_being_gone_is_matched_again(matching: Matching, store: Store) -> None:
    matching.run()
    gone(store, "clickn_co", "c5")
    matching.run()
    assert RecordKey(platform="clickn_co", source_id="c5") not in store.entity_ids_by_record()
    put(store, next(r for r in catalogue() if r.source_id == "c5"))
    outcome = matching.run()
    assert outcome.mode == "incremental"
    ids = store.entity_ids_by_record()
    assert (
        ids[RecordKey(platform="clickn_co", source_id="c5")]
        == ids[RecordKey(platform="toutoulouse", source_id="t5")]
    )
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_chamber_decision_is_applied_incrementally(matching: Matching, store: Store) -> None:
    matching.run()
    a, b = (
        RecordKey(platform="toutoulouse", source_id="t7"),
        RecordKey(platform="clickn_co", source_id="c7"),
    )
    assert store.entity_ids_by_record()[a] == store.entity_ids_by_record()[b]
    store.add_decision(Decision(a=a, b=b, verdict=Verdict.cannot_link, reviewer="cci31"))
    outcome = matching.run()
    assert outcome.mode == "incremental"
    ids = store.entity_ids_by_record()
    assert ids[a] != ids[b]
    assert len(outcome.changed) == 2 and outcome.entities == 31
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_offers_follow_their_shop_and_reindex_it(matching: Matching, store: Store) -> None:
    first = matching.run()
    owner = {str(m): e.entity_id for e in first.changed for m in e.members}
    offer = OfferRecord(
        platform="toutoulouse", source_id="o1", shop_source_id="t1", title="Pain de seigle"
    )
    put(store, offer)
    outcome = matching.run()
    assert outcome.mode == "incremental" and outcome.stats["records_changed"] == 0
    (entity,) = outcome.changed
    assert entity.entity_id == owner["toutoulouse:t1"]
    assert [o.title for o in entity.offers] == ["Pain de seigle"]
    # The offer moves to another shop: both shops are re-indexed.
    put(store, offer.model_copy(update={"shop_source_id": "t2"}))
    outcome = matching.run()
    changed = {e.entity_id: [o.source_id for o in e.offers] for e in outcome.changed}
    assert changed == {owner["toutoulouse:t1"]: [], owner["toutoulouse:t2"]: ["o1"]}
    gone(store, "toutoulouse", "o1", RecordType.offer)
    outcome = matching.run()
    assert {e.entity_id: e.offers for e in outcome.changed} == {owner["toutoulouse:t2"]: []}


def test_a_store_that_disagrees_with_the_state_gets_a_full_matching(
    matching: Matching, store: Store
) -> None:
    matching.run()
    # A record erased behind the service's back (by hand, or a restore): no change is dated.
    c = t.raw_records.c
    with store.engine.begin() as conn:
        conn.execute(
            t.raw_records.delete().where(c.platform == "toutoulouse", c.source_id == "t29")
        )
    outcome = matching.run()
    assert outcome.mode == "full"
    assert RecordKey(platform="toutoulouse", source_id="t29") not in store.entity_ids_by_record()
    assert outcome.entities == 29


def test_a_changed_taxonomy_or_asking_gives_a_full_matching(matching: Matching) -> None:
    assert matching.settings is not None
    matching.run()
    assert matching.run().mode == "incremental"
    assert matching.run(full=True).mode == "full"
    source = Path(__file__).resolve().parents[1] / "config" / "taxonomy.yaml"
    target = matching.settings.config_dir / "taxonomy.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert matching.run().mode == "full"
    assert matching.run().mode == "incremental"


def test_a_zero_period_matches_everything_every_time(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", config_dir=tmp_path / "config", match_full_every_h=0
    )
    settings.ensure_dirs()
    put(store, *catalogue())
    matching = Matching(store, settings)
    assert [matching.run().mode for _ in range(2)] == ["full", "full"]


def test_many_incremental_steps_equal_one_full_matching(matching: Matching, store: Store) -> None:
    """A sequence of arrivals, edits, departures and decisions, matched step by step."""
    matching.run()
    records = {r.key: r for r in catalogue()}
    steps = 0
    for n in range(30, 45):  # new shops, some listed on two platforms at once
        name = f"{TRADES[n % len(TRADES)]} {n}"
        put(store, shop("toutoulouse", f"t{n}", name, n))
        if n % 3 == 0:
            put(store, shop("geolocal31", f"g{n}", f"{name} (Toulouse)", n))
        if n % 4 == 0:
            key = RecordKey(platform="clickn_co", source_id=f"c{n % 20}")
            put(store, records[key].model_copy(update={"name": records[key].name + " & Fils"}))
        if n % 5 == 0:
            gone(store, "toutoulouse", f"t{n - 25}")
        if n == 40:
            store.add_decision(
                Decision(
                    a=RecordKey(platform="toutoulouse", source_id="t11"),
                    b=RecordKey(platform="clickn_co", source_id="c11"),
                    verdict=Verdict.cannot_link,
                    reviewer="cci31",
                )
            )
        assert matching.run().mode == "incremental"
        steps += 1
    assert steps == 15
    assert_same_as_full(store, matching.settings)  # type: ignore[arg-type]


def test_a_full_matching_removes_only_the_entities_left_without_records(
    matching: Matching, store: Store
) -> None:
    matching.run()
    ids = store.entity_ids_by_record()
    gone(store, "toutoulouse", "t28")  # a shop listed once closes
    fed: list[str] = []

    def index(entities: Any) -> int:
        fed.extend(e.entity_id for e in entities)
        return len(fed)

    outcome = matching.run(full=True, index=index)
    assert outcome.mode == "full"
    removed = ids[RecordKey(platform="toutoulouse", source_id="t28")]
    assert outcome.removed == [removed]
    assert store.get_entity(removed) is None
    assert len(fed) == outcome.indexed == 29 and removed not in fed
    assert set(store.entity_ids_by_record().values()) == set(fed)
