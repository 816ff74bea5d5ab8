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
from aggregator.store.entities import entity_row
from aggregator.store.entity_form import entity_json
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


def test_the_demo_entities_json_form_is_pydantics() -> None:
    records = _demo_records(600)
    entities = match_shops(records).entities
    offers = [
        OfferRecord(platform=r.platform, source_id=f"o{i}", shop_source_id=r.source_id,
                    title=f"Pain n°{i}", price=1.5 + i if i % 3 else None)
        for i, r in enumerate(records[:200])
    ]  # fmt: skip
    attach_offers(entities, offers)
    assert any(e.offers for e in entities) and any(len(e.members) > 1 for e in entities)
    for entity in entities:
        dumped = entity.model_dump(mode="json")
        assert entity_json(entity) == dumped
        assert entity_row(entity).doc_hash == content_hash(dumped)


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
    assert entity_row(entity).doc_hash == content_hash(entity.model_dump(mode="json"))
