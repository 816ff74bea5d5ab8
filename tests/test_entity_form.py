"""An entity's JSON form read from its models is pydantic's, on the demo catalogue's entities."""

from __future__ import annotations

from aggregator.demo import PLATFORMS, generate_catalogue, platform_listing
from aggregator.demo.platforms import demo_registrations
from aggregator.entity_offers import attach_offers
from aggregator.models import (
    Entity,
    GoldenRecord,
    OfferRecord,
    Provenanced,
    RecordKey,
    ShopRecord,
    content_hash,
)
from aggregator.store.entity_form import entity_json
from aggregator.store.entity_rows import dumps, entity_row
from connectors.mapping import shop_from_row
from dedupe import match_shops


def _demo_records(n_shops: int) -> list[ShopRecord]:
    catalogue = generate_catalogue(n_shops=n_shops)
    registrations = {r.platform: r for r in demo_registrations("http://127.0.0.1:8031")}
    records: list[ShopRecord] = []
    for platform in PLATFORMS:
        for index, row in enumerate(platform_listing(catalogue, platform)):
            if platform in registrations:
                record = shop_from_row(registrations[platform], row, f"{platform}:{index}")
            else:
                fields = {k: v for k, v in row.items() if k in ShopRecord.model_fields}
                fields.update(platform=platform, source_id=str(row["source_id"]))
                record = ShopRecord(**{k: v for k, v in fields.items() if v is not None})
            assert isinstance(record, ShopRecord)
            records.append(record)
    return records


def demo_entities(n_shops: int, offered: int, titles: int) -> list[Entity]:
    """The demo catalogue's entities, the first ``offered`` records each with an offer (one of
    ``titles`` titles, a price on two in three)."""
    records = _demo_records(n_shops)
    entities = match_shops(records).entities
    offers = [
        OfferRecord(platform=r.platform, source_id=f"o{i}", shop_source_id=r.source_id,
                    title=f"Pain n°{i % titles}", price=1.5 + i if i % 3 else None)
        for i, r in enumerate(records[:offered])
    ]  # fmt: skip
    attach_offers(entities, offers)
    return entities


def test_the_demo_entities_json_form_is_pydantics() -> None:
    entities = demo_entities(600, 200, titles=1000)
    assert any(e.offers for e in entities) and any(len(e.members) > 1 for e in entities)
    for entity in entities:
        dumped = entity.model_dump(mode="json")
        assert entity_json(entity) == dumped
        _assert_row_as_encoded_before(entity)


def _assert_row_as_encoded_before(entity: Entity) -> None:
    """The row's columns and hash are those of ``dumps`` of pydantic's JSON form."""
    dumped = entity.model_dump(mode="json")
    row = entity_row(entity)
    assert (row.golden, row.names, row.listings) == (
        dumps(dumped["golden"]),
        dumps(dumped["names"]),
        dumps(dumped["listings"]),
    )
    assert row.doc_hash == content_hash(dumped)


def test_values_not_their_own_json_form_are_left_to_pydantic() -> None:
    entity = Entity(
        entity_id="e1",
        members=[RecordKey(platform="a", source_id="1")],
        golden=GoldenRecord(
            fields={
                "lat": Provenanced(value=float("nan"), platform="a", source_id="1"),
                "services": Provenanced(value=("b", "a"), platform="a", source_id="1"),
            }
        ),
    )
    assert entity_json(entity) == entity.model_dump(mode="json")
    _assert_row_as_encoded_before(entity)


def test_texts_and_numbers_orjson_writes_otherwise_are_encoded_as_before() -> None:
    odd = 'ctrl \x01\x1f tab\t quote" slash\\ \u2028 é 😀'
    for value in (odd, 1e-5, 1e16, 2.5e-7, -0.0, 0.0, 123456789.125, 2**70, True):
        entity = Entity(
            entity_id="e2",
            members=[RecordKey(platform="a", source_id="1")],
            golden=GoldenRecord(
                fields={"name": Provenanced(value=value, platform="a", source_id="1")}
            ),
            names=[odd if isinstance(value, str) else "Chez Léa"],
        )
        assert entity_json(entity) == entity.model_dump(mode="json")
        _assert_row_as_encoded_before(entity)
