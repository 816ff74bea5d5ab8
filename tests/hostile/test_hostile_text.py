"""Hostile text: stray bytes and encodings switching mid-feed, 10 MB strings, NUL and other
control characters, lone surrogates, emoji and right-to-left text, NaN and out-of-range
coordinates, duplicate ids. Each case: a quarantined record (or text stored as sent), the rest
of the feed read, and every record stored before unchanged, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from tests.hostile.evil_platform import EvilPlatform, good_shop, good_shops, shops_csv, snapshot

pytestmark = pytest.mark.usefixtures("loopback_only")
TEN_MB = 10 * 1024 * 1024


def test_one_latin1_byte_in_a_utf8_csv_refuses_that_row_only(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    rows = [
        ("1", "Le numéro un", "Toulouse"),
        ("2", "Café du coin", "Albi"),
        ("3", "Épicerie", "Foix"),
    ]
    evil.serve("/shops.csv", (200, {}, shops_csv(rows)))
    runner = evil.runner(store, context, settings, "/shops.csv")
    assert runner().counts.new == 3
    before = snapshot(store)
    body = shops_csv(rows).replace("Café".encode(), b"Caf\xe9")  # one latin-1 byte
    evil.serve("/shops.csv", (200, {}, body))
    run = runner()
    assert (run.status, run.counts.rejected, run.counts.gone) == ("ok", 1, 0), run.errors
    offset = body.index(b"\xe9")
    assert runner.quarantined(run) == [
        f"1 byte(s) that are not utf-8, the first at offset {offset}: the row is refused, "
        "the rest of the file is read"
    ]
    assert snapshot(store) == before  # no mojibake: "numéro" is still "numéro"
    stored = store.get_raw("evil", "1")
    assert stored is not None and stored.record["name"] == "Le numéro un"


def test_an_encoding_switch_mid_feed_refuses_the_rows_that_do_not_decode(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    head = "id;nom;ville\n1;Boulangerie Sœur;Toulouse\n2;Plain;Albi\n".encode()
    tail = "3;Fromagerie Lozère;Mende\n4;Ascii;Rodez\n".encode("cp1252")
    evil.serve("/shops.csv", (200, {}, head + tail))
    run = evil.runner(store, context, settings, "/shops.csv")()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 3, 1), run.errors
    names = {r.source_id: r.record["name"] for r in store.iter_raw()}
    assert names == {"1": "Boulangerie Sœur", "2": "Plain", "4": "Ascii"}


def test_a_row_refused_for_its_bytes_keeps_its_last_good_version(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    rows = [("1", "Épicerie fine", "Foix"), ("2", "Crèmerie", "Albi")]
    evil.serve("/shops.csv", (200, {}, shops_csv(rows)))
    runner = evil.runner(store, context, settings, "/shops.csv")
    assert runner().counts.new == 2
    before = snapshot(store)
    evil.serve("/shops.csv", (200, {}, shops_csv(rows).replace("Crè".encode(), b"Cr\xe8")))
    run = runner()
    assert (run.counts.rejected, run.counts.gone) == (1, 0)
    assert snapshot(store) == before


def test_a_declared_charset_is_used(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    body = "id;nom;ville\n1;Crèmerie;Albi\n".encode("iso-8859-15")
    evil.serve("/shops.csv", (200, {"Content-Type": "text/csv; charset=ISO-8859-15"}, body))
    assert evil.runner(store, context, settings, "/shops.csv")().counts.new == 1
    stored = store.get_raw("evil", "1")
    assert stored is not None and stored.record["name"] == "Crèmerie"


def test_a_10_mb_description_refuses_the_record_and_keeps_its_last_version(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops(good_shops(5))
    runner = evil.runner(store, context, settings)
    assert runner().counts.new == 5
    before = snapshot(store)
    evil.json_shops([good_shop(1, description="x" * TEN_MB), *good_shops(5)[1:]])
    run = runner()
    assert (run.status, run.counts.rejected, run.counts.gone) == ("ok", 1, 0)
    (reason,) = runner.quarantined(run)
    assert reason.startswith("description (from 'description'): String should have at most 5000")
    assert snapshot(store) == before


@pytest.mark.parametrize(("field", "limit"), [("name", 300), ("city", 500), ("website", 2048)])
def test_each_field_has_a_size_limit(
    field: str,
    limit: int,
    evil: EvilPlatform,
    store: Store,
    context: ReadContext,
    settings: Settings,
) -> None:
    long_value = ("https://x.example/" if field == "website" else "") + "é" * (limit + 1)
    evil.json_shops([good_shop(1, **{field: long_value}), good_shop(2)])
    run = evil.runner(store, context, settings)()
    assert (run.counts.new, run.counts.rejected) == (1, 1)
    reasons = [r.reason for r in store.list_quarantine(run.id or 0)]
    assert reasons[0].startswith(f"{field} (from '{field}'): String should have at most {limit}")


def test_one_10_mb_csv_field_refuses_its_row_not_the_feed(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    rows = [("1", "Fournil", "Albi"), ("2", "N" * TEN_MB, "Foix"), ("3", "Cave", "Auch")]
    evil.serve("/shops.csv", (200, {}, shops_csv(rows)))
    run = evil.runner(store, context, settings, "/shops.csv")()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 2, 1), run.errors
    assert {r.source_id for r in store.iter_raw()} == {"1", "3"}


def test_emoji_and_right_to_left_text_are_stored_as_sent(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    names = {
        "s1": "🥖 Boulangerie 🥐 des Carmes",
        "s2": "مخبز الحي",  # Arabic, right to left
        "s3": "Fleurs \u202eevil\u202c & Co",  # an RTL override: text, shown escaped
        "s4": "👨‍👩‍👧 Famille",  # a zero-width-joined emoji sequence
    }
    evil.json_shops([good_shop(int(k[1:]), name=v) for k, v in names.items()])
    run = evil.runner(store, context, settings)()
    assert (run.status, run.counts.new) == ("ok", 4), run.errors
    assert {r.source_id: r.record["name"] for r in store.iter_raw()} == names


def test_a_nul_byte_in_a_source_id_refuses_that_record_on_every_store(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """PostgreSQL cannot store NUL: the record is refused by validation, before the store, so
    both stores see the same run."""
    evil.json_shops(good_shops(3))
    runner = evil.runner(store, context, settings)
    assert runner().counts.new == 3
    before = snapshot(store)
    evil.json_shops([*good_shops(3), good_shop(4, id="s4\x00; DROP TABLE raw_records")])
    run = runner()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 0, 1), run.errors
    (reason,) = runner.quarantined(run)
    assert reason == "source_id (from 'id'): holds the control character U+0000"
    assert snapshot(store) == before


def test_control_characters_in_text_are_removed_the_same_on_every_store(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops(
        [
            good_shop(1, name="Fromag\x00erie\x07", city="Tou\x1blouse", description="a\tb\nc"),
            good_shop(2, name="\x00\x01"),  # nothing left of the name: refused
        ]
    )
    run = evil.runner(store, context, settings)()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 1, 1), run.errors
    stored = store.get_raw("evil", "s1")
    assert stored is not None
    assert (stored.record["name"], stored.record["city"]) == ("Fromagerie", "Toulouse")
    assert stored.record["description"] == "a\tb\nc"
    assert stored.payload["name"] == "Fromag\x00erie\x07"  # the payload is kept as received


def test_a_lone_surrogate_refuses_a_mapped_field_and_is_replaced_in_the_payload(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    shops = [good_shop(1, name="Caf\\ud800"), good_shop(2) | {"extra": "x\\udfffy"}]
    body = json.dumps({"data": shops}).replace("\\\\ud", "\\ud")  # JSON escapes, not text
    evil.serve("/shops.json", (200, {}, body))
    run = evil.runner(store, context, settings)()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 1, 1), run.errors
    stored = store.get_raw("evil", "s2")
    assert stored is not None and stored.payload["extra"] == "x\ufffdy"


@pytest.mark.parametrize("bad", ["999", "NaN", "Infinity", "-91"])
def test_out_of_range_coordinates_refuse_the_record_and_keep_its_last_version(
    bad: str, evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """The probe's case: 9 of 20 shops with coordinates 999 or NaN left search."""
    evil.json_shops(good_shops(20))
    runner = evil.runner(store, context, settings)
    assert runner().counts.new == 20
    before = snapshot(store)
    shops = good_shops(20)
    body = json.dumps({"data": shops})
    for i in range(1, 10):  # 9 of 20, as the probe did; NaN as the JSON extension spells it
        body = body.replace(f'"lat": {shops[i]["lat"]}', f'"lat": {bad}', 1)
    evil.serve("/shops.json", (200, {}, body))
    run = runner()
    assert (run.status, run.counts.rejected, run.counts.gone) == ("ok", 9, 0), run.errors
    assert store.count_raw(runner.cid) == 20
    assert snapshot(store) == before


def test_duplicate_ids_keep_the_first_and_quarantine_the_others(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops([good_shop(1), good_shop(1, name="Imposteur"), good_shop(2)])
    run = evil.runner(store, context, settings)()
    assert (run.counts.new, run.counts.rejected) == (2, 1)
    stored = store.get_raw("evil", "s1")
    assert stored is not None and stored.record["name"] == "Boulangerie n°1"
    (reason,) = [r.reason for r in store.list_quarantine(run.id or 0)]
    assert reason == "duplicate source_id 's1' (first seen at page 1 /data/0)"
