"""Stable entity ids: same records, same ids, whatever the order; inherited across runs."""

from __future__ import annotations

import hashlib
import random

from aggregator.models import Decision, RecordKey, ShopRecord, Verdict
from dedupe import match_shops
from dedupe.cluster.entity_ids import assign_entity_ids, derived_id

T, C = "toutoulouse", "clicknco"


def shop(platform: str, source_id: str, name: str, **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


RECORDS = [
    shop(
        T,
        "1",
        "Boulangerie du Centre",
        address="12 bis av. Jean Jaurès",
        postcode="31000",
        phone="05 61 22 33 44",
    ),
    shop(
        C,
        "a",
        "SARL Boulangerie du Centre",
        address="12B avenue Jean Jaures",
        postcode="31000",
        phone="0561223344",
    ),
    shop(
        T,
        "2",
        "Fromagerie des Carmes",
        address="1 place des Carmes",
        postcode="31000",
        phone="05 61 52 00 01",
    ),
    shop(C, "b", "Fromagerie Des Carmes", address="1 pl. des Carmes", postcode="31000"),
    shop(T, "3", "Librairie des Arts", address="50 rue Gambetta", postcode="31000"),
    shop(C, "c", "Bijouterie Gambetta", address="52 rue Gambetta", postcode="31000"),
    shop(
        T,
        "4",
        "Boulangerie Ange",
        address="45 bd de Strasbourg",
        postcode="31000",
        phone="05 61 11 11 11",
    ),
    shop(
        T,
        "5",
        "Boulangerie Ange",
        address="8 av. de l'URSS",
        postcode="31400",
        phone="05 61 22 22 22",
    ),
]


def key(platform: str, source_id: str) -> RecordKey:
    return RecordKey(platform=platform, source_id=source_id)


def test_derived_id_format() -> None:
    expected = "e" + hashlib.sha1(b"clicknco:a").hexdigest()[:12]
    assert derived_id("clicknco:a") == expected
    assert len(expected) == 13


def test_ids_do_not_depend_on_record_order() -> None:
    reference = match_shops(RECORDS).assignments()
    assert len(set(reference.values())) == 6
    for seed in range(5):
        shuffled = RECORDS[:]
        random.Random(seed).shuffle(shuffled)
        assert match_shops(shuffled).assignments() == reference


def test_fresh_ids_come_from_the_smallest_member_key() -> None:
    ids = match_shops(RECORDS).assignments()
    assert ids[key(T, "1")] == ids[key(C, "a")] == derived_id("clicknco:a")
    assert ids[key(T, "4")] == derived_id("toutoulouse:4")


def test_an_unrelated_record_changes_no_id() -> None:
    first = match_shops(RECORDS).assignments()
    newcomer = shop(
        C, "0", "Pizzeria Bella Napoli", address="27 rue Pargaminières", postcode="31000"
    )
    for previous in ({}, first):
        second = match_shops([newcomer, *RECORDS], previous_ids=previous).assignments()
        assert {k: v for k, v in second.items() if k != newcomer.key} == first
        assert second[newcomer.key] not in first.values()


def test_ids_are_inherited_from_the_last_run() -> None:
    previous = {key(T, "1"): "shop-7", key(C, "a"): "shop-7", key(T, "2"): "shop-9"}
    ids = match_shops(RECORDS, previous_ids=previous).assignments()
    assert ids[key(T, "1")] == "shop-7"
    assert ids[key(C, "b")] == "shop-9"  # joined the entity its partner held


def test_majority_then_smallest_id_wins_when_entities_merge() -> None:
    previous = {key(T, "1"): "shop-b", key(C, "a"): "shop-a"}
    assert match_shops(RECORDS, previous_ids=previous).assignments()[key(T, "1")] == "shop-a"
    ids = assign_entity_ids([["p:1", "p:2", "p:3"]], {"p:1": "z", "p:2": "z", "p:3": "a"})
    assert ids == ["z"]


def test_a_split_entity_keeps_its_id_on_the_larger_side() -> None:
    previous = {key(T, "1"): "shop-1", key(C, "a"): "shop-1", key(T, "3"): "shop-1"}
    result = match_shops(RECORDS, previous_ids=previous)
    ids = result.assignments()
    assert ids[key(T, "1")] == "shop-1"
    assert ids[key(T, "3")] == derived_id("toutoulouse:3")
    assert len({e.entity_id for e in result.entities}) == len(result.entities)


def test_ids_survive_a_reviewer_split() -> None:
    first = match_shops(RECORDS).assignments()
    cut = Decision(a=key(T, "1"), b=key(C, "a"), verdict=Verdict.cannot_link, reviewer="cma")
    second = match_shops(RECORDS, decisions=[cut], previous_ids=first).assignments()
    assert second[key(T, "1")] != second[key(C, "a")]
    # Tie (one holder each, one member each): the smallest member key keeps the id.
    assert second[key(C, "a")] == first[key(C, "a")]
    assert second[key(T, "1")] == derived_id("toutoulouse:1")


def test_ids_are_unique_even_when_a_derived_id_is_taken() -> None:
    taken = derived_id("p:2")
    ids = assign_entity_ids([["p:1"], ["p:2"]], {"p:1": taken})
    assert ids[0] == taken
    assert ids[1] == derived_id("p:2", salt=1)
    assert len(set(ids)) == 2


def test_one_record_entities_claiming_one_id_settle_by_the_rules() -> None:
    # Two records alone and a two-record entity all held "shop-x": the entity keeps it (more
    # holders); of two records alone holding "shop-y", the smallest key keeps it.
    previous = {
        key(T, "1"): "shop-x",
        key(C, "a"): "shop-x",
        key(T, "3"): "shop-x",
        key(T, "5"): "shop-y",
        key(T, "4"): "shop-y",
        key(C, "c"): derived_id("toutoulouse:3"),  # the id toutoulouse:3 will need
    }
    stored = dict(previous)
    ids = match_shops(RECORDS, previous_ids=previous).assignments()
    assert previous == stored  # read, never changed
    assert ids[key(T, "1")] == ids[key(C, "a")] == "shop-x"
    assert ids[key(T, "4")] == "shop-y"
    assert ids[key(T, "5")] == derived_id("toutoulouse:5")
    assert ids[key(C, "c")] == derived_id("toutoulouse:3")
    assert ids[key(T, "3")] == derived_id("toutoulouse:3", salt=1)
    assert len(set(ids.values())) == 6  # eight records, two of them pairs
