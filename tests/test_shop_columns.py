"""Stored shop records read as columns give the matcher what records gave it, and an entity's
row hashes as ``content_hash`` of its JSON form."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from aggregator.models import (
    Entity,
    GoldenRecord,
    Listing,
    OfferRecord,
    Provenanced,
    RecordKey,
    ShopRecord,
    content_hash,
)
from aggregator.shop_columns import Extras, ShopColumns
from aggregator.store.entity_rows import entity_row
from dedupe import match_shops, match_table
from dedupe.config import MatchConfig
from dedupe.prepare.columns import KeyIndex
from dedupe.prepare.table import TABLE_FIELDS, ShopTable

RECORDS = [
    ShopRecord(platform="toutoulouse", source_id="2", name="Boulangerie Ange",
               phone="05 61 22 33 44", lat=43.6, lon=1.44, url="https://toutoulouse.fr/s/2",
               description="Pain au levain", services=["click_and_collect"]),
    ShopRecord(platform="clicknco", source_id="9", name="SARL Boulangerie Ange",
               phone="+33 5 61 22 33 44", address="3 rue des Lois", postcode="31000",
               city="Toulouse", opening_hours="Mo-Sa 07:00-19:00"),
    ShopRecord(platform="clicknco", source_id="10", name="Fromagerie Léa", country="BE",
               email="lea@example.org", website="https://fromagerie-lea.be/contact"),
]  # fmt: skip


def stored(records: list[ShopRecord]) -> ShopTable:
    reading = ShopColumns()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    # In the store's order, which may not be Python's: the reading puts it right.
    reading.add((r.model_dump(mode="json"), f"h{i}", when) for i, r in enumerate(records))
    return reading.table()


def test_columns_hold_the_records_values_in_key_order() -> None:
    table = stored(RECORDS)
    expected = ShopTable.from_records(sorted(RECORDS, key=lambda r: (r.platform, r.source_id)))
    assert list(table.keys) == list(expected.keys)
    for name in TABLE_FIELDS:
        assert [table.value(name, i) for i in range(len(table))] == [
            expected.value(name, i) for i in range(len(expected))
        ], name


def test_rows_taken_from_a_table_read_before_are_the_rows_read_again() -> None:
    """A full matching after others takes the unchanged records' rows from the state's table
    (found by key, many at once) instead of reading them: the same columns and extras."""
    when = datetime(2026, 1, 1, tzinfo=UTC)
    before = stored(RECORDS)
    index = KeyIndex(before.keys, np.arange(len(before)))
    index["zz:1"] = 7  # a later change, which wins over the sorted hashes
    keys = ["clicknco:9", "nowhere:0", "toutoulouse:2", "zz:1", "clicknco:10"]
    assert index.rows_of(keys).tolist() == [index.get(k) if k in index else -1 for k in keys]
    ordered = sorted(RECORDS, key=lambda r: (r.platform, r.source_id))
    stamps = [(r.platform, r.source_id, f"h{i}", when) for i, r in enumerate(ordered)]
    reading = ShopColumns()
    reading.add_rows(before, index.rows_of([f"{p}:{s}" for p, s, _, _ in stamps[:2]]), stamps[:2])
    reading.add((r.model_dump(mode="json"), f"h{i + 2}", when) for i, r in enumerate(ordered[2:]))
    again = reading.table()
    assert list(again.keys) == list(before.keys)
    for name in TABLE_FIELDS:
        assert [again.value(name, i) for i in range(3)] == [before.value(name, i) for i in range(3)]
    fields = Extras.__slots__
    assert [e and [getattr(e, f) for f in fields] for e in again.records or []] == [
        e and [getattr(e, f) for f in fields] for e in before.records or []
    ]
    assert reading.hashes == {f"{p}:{s}": h for p, s, h, _ in stamps}


def test_the_same_entities_as_from_records() -> None:
    from_records = match_shops(RECORDS).entities
    from_columns = match_table(stored(RECORDS), config=MatchConfig()).entities
    dump = [e.model_dump(mode="json") for e in from_records]
    assert dump == [e.model_dump(mode="json") for e in from_columns]
    (bakery,) = [e for e in from_columns if len(e.members) == 2]
    assert {"description", "opening_hours", "services"} <= set(bakery.golden.fields)
    assert any(listing.url for e in from_columns for listing in e.listings)


def test_entity_row_hash_is_the_content_hash() -> None:
    offer = OfferRecord(platform="a", source_id="o1", shop_source_id="1", title='Pain "bis" é')
    entity = Entity(
        entity_id="e1",
        members=[RecordKey(platform="a", source_id="1"), RecordKey(platform="b", source_id="2")],
        golden=GoldenRecord(
            fields={
                "name": Provenanced(value="Chez Léa", platform="a", source_id="1"),
                "lat": Provenanced(value=43.6, platform="b", source_id="2"),
            },
            chosen={"name": "camille"},
        ),
        names=["Chez Léa", "CHEZ LEA"],
        listings=[Listing(platform="a", source_id="1", name="Chez Léa", url="https://a.fr/1")],
        offers=[offer],
    )
    row = entity_row(entity)
    assert row.doc_hash == content_hash(entity.model_dump(mode="json"))
    assert row.members == [("a", "1"), ("b", "2")]
