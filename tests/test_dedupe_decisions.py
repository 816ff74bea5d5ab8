"""Reviewers' decisions: must-link always merges, cannot-link always separates, latest wins."""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.models import Decision, RecordKey, ShopRecord, Verdict
from dedupe import MatchResult, match_shops

T, C, G = "toutoulouse", "clicknco", "geolocal31"

RECORDS = [
    # One bakery on three platforms.
    ShopRecord(
        platform=T,
        source_id="t1",
        name="SARL Boulangerie du Centre",
        address="12 bis av. Jean Jaurès",
        postcode="31000",
        phone="05 61 22 33 44",
    ),
    ShopRecord(
        platform=C,
        source_id="c1",
        name="Boulangerie du centre",
        address="12B avenue Jean-Jaures",
        postcode="31000",
        phone="+33 5 61 22 33 44",
    ),
    ShopRecord(
        platform=G,
        source_id="g1",
        name="Boulangerie du Centre",
        address="12 bis avenue Jean Jaurès",
        postcode="31000",
        phone="0561223344",
    ),
    # One generic name in two towns: two shops for the matcher.
    ShopRecord(
        platform=T,
        source_id="t14",
        name="Le Fournil",
        address="5 av. de Toulouse",
        postcode="31130",
        city="Balma",
        phone="05 61 24 00 00",
    ),
    ShopRecord(
        platform=C,
        source_id="c14",
        name="Le Fournil",
        address="5 av. de Toulouse",
        postcode="31770",
        city="Colomiers",
    ),
    # Three unrelated shops.
    ShopRecord(platform=T, source_id="t12", name="Salon Hair du Temps", postcode="31000"),
    ShopRecord(platform=T, source_id="t13", name="Librairie des Arts", postcode="31000"),
    ShopRecord(platform=C, source_id="c13", name="Bijouterie Gambetta", postcode="31000"),
]


def key(platform: str, source_id: str) -> RecordKey:
    return RecordKey(platform=platform, source_id=source_id)


def entity_of(result: MatchResult, platform: str, source_id: str) -> str:
    return result.assignments()[key(platform, source_id)]


def decide(a: RecordKey, b: RecordKey, verdict: Verdict, day: int = 1) -> Decision:
    return Decision(
        a=a, b=b, verdict=verdict, reviewer="cci31", decided_at=datetime(2026, 3, day, tzinfo=UTC)
    )


def test_without_decisions() -> None:
    result = match_shops(RECORDS)
    assert entity_of(result, T, "t1") == entity_of(result, C, "c1") == entity_of(result, G, "g1")
    assert entity_of(result, T, "t14") != entity_of(result, C, "c14")


def test_must_link_and_cannot_link_win() -> None:
    decisions = [
        decide(key(T, "t14"), key(C, "c14"), Verdict.must_link),
        decide(key(T, "t1"), key(C, "c1"), Verdict.cannot_link),
    ]
    result = match_shops(RECORDS, decisions=decisions)
    assert entity_of(result, T, "t14") == entity_of(result, C, "c14")
    assert entity_of(result, T, "t1") != entity_of(result, C, "c1")
    # The third listing of the bakery joins one side only.
    assert entity_of(result, G, "g1") in {entity_of(result, T, "t1"), entity_of(result, C, "c1")}
    assert result.stats["decisions_applied"] == 2
    # A decided pair is no longer offered for review.
    decided = {(str(d.a), str(d.b)) for d in decisions} | {(str(d.b), str(d.a)) for d in decisions}
    assert not any((str(c.a), str(c.b)) in decided for c in result.candidates)


def test_decisions_about_absent_records_are_ignored() -> None:
    ghost = decide(key(T, "t1"), key("elsewhere", "x"), Verdict.cannot_link)
    result = match_shops(RECORDS, decisions=[ghost])
    assert entity_of(result, T, "t1") == entity_of(result, C, "c1")
    assert result.stats["decisions_applied"] == 0


def test_the_latest_decision_on_a_pair_wins() -> None:
    a, b = key(T, "t14"), key(C, "c14")
    merge = decide(a, b, Verdict.must_link, day=2)
    split = Decision(
        a=b, b=a, verdict=Verdict.cannot_link, reviewer="y", decided_at=datetime(2026, 3, 3)
    )  # naive: read as UTC
    result = match_shops(RECORDS, decisions=[split, merge])
    assert entity_of(result, T, "t14") != entity_of(result, C, "c14")
    result = match_shops(RECORDS, decisions=[split, decide(a, b, Verdict.must_link, day=4)])
    assert entity_of(result, T, "t14") == entity_of(result, C, "c14")


def test_cannot_link_beats_a_chain_of_must_links() -> None:
    decisions = [
        decide(key(T, "t12"), key(T, "t13"), Verdict.must_link, day=2),
        decide(key(T, "t13"), key(C, "c13"), Verdict.must_link, day=1),
        decide(key(T, "t12"), key(C, "c13"), Verdict.cannot_link, day=1),
    ]
    result = match_shops(RECORDS, decisions=decisions)
    # The newest must-link holds; the older one would break the cannot-link and yields.
    assert entity_of(result, T, "t12") == entity_of(result, T, "t13")
    assert entity_of(result, T, "t13") != entity_of(result, C, "c13")
    assert result.stats["refused_must_links"] == 1
