"""Search documents built from an entity's JSON form, as its store row encodes it, are the
documents built from the entity: in the feeding process or in a rebuild's worker process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.models import Entity, GoldenRecord, Listing, OfferRecord, Provenanced, RecordKey
from aggregator.store.entity_rows import entity_row, entity_row_form
from search import EmbeddedBackend
from search.documents import Encoded, entity_documents, form_documents
from search.embedded_schema import to_tantivy

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_entity_form import demo_entities
    from tests.test_search_sample import sample_entities
except ImportError:
    from test_entity_form import demo_entities  # type: ignore[no-redef]
    from test_search_sample import sample_entities  # type: ignore[no-redef]


def _odd_entities() -> list[Entity]:
    """Values a generated catalogue seldom holds: accents, a services list and a services
    text, integers, no name, listings without a URL, members on platforms no listing names."""

    def shown(value: object, platform: str = "a") -> Provenanced:
        return Provenanced(value=value, platform=platform, source_id="1")

    return [
        Entity(
            entity_id="e-odd-1",
            members=[
                RecordKey(platform="b", source_id="2"),
                RecordKey(platform="a", source_id="1"),
            ],
            golden=GoldenRecord(
                fields={
                    "name": shown("  Boulangerie « Éclair »  "),
                    "city": shown("Saint-Orens-de-Gameville"),
                    "postcode": shown(31650),
                    "services": shown(["click & collect", " livraison ", ""]),
                    "lat": shown(43.5512),
                    "lon": shown(1.5),
                    "description": shown(None),
                }
            ),
            listings=[Listing(platform="a", source_id="1", url=None, name="Éclair")],
            names=["Éclair", "Boulangerie Éclair"],
            offers=[
                OfferRecord(
                    platform="a",
                    source_id="o1",
                    shop_source_id="1",
                    title="Pain Brié",
                    price=2.5,
                    currency="EUR",
                ),
                OfferRecord(platform="b", source_id="o2", shop_source_id="2", title="PAIN BRIE"),
                OfferRecord(
                    platform="b",
                    source_id="o3",
                    shop_source_id="2",
                    title="Fougasse",
                    price=0.0,
                    image_url="http://127.0.0.1/f.png",
                ),
            ],  # fmt: skip
        ),
        Entity(
            entity_id="e-odd-2",
            members=[RecordKey(platform="c", source_id="9")],
            golden=GoldenRecord(fields={"services": shown("retrait, livraison,", "c")}),
            listings=[],
            names=[],
        ),
    ]


def _entities() -> list[Entity]:
    return [*demo_entities(300, 150, titles=7), *_odd_entities()]


def test_documents_from_the_rows_json_form_are_the_entitys() -> None:
    entities = _entities()
    assert any(e.offers for e in entities) and any(len(e.members) > 1 for e in entities)
    formed = 0
    for entity in entities:
        row, form = entity_row_form(entity, source="s")
        assert row == entity_row(entity, source="s")
        if form is None:
            continue
        formed += 1
        built, expected = form_documents(form), entity_documents(entity)
        assert built == expected
        # Key order too: a document's payload is its JSON text.
        assert json.dumps(built) == json.dumps(expected)
        assert [to_tantivy(d).to_dict() for d in built] == [
            to_tantivy(d).to_dict() for d in expected
        ]
    assert formed == len(entities)


def test_an_entity_orjson_cannot_encode_has_no_form() -> None:
    far = _odd_entities()[1]  # orjson writes 1e+20 where json writes 1e20
    far.golden.fields["lat"] = Provenanced(value=1e20, platform="c", source_id="9")
    assert entity_row_form(far)[1] is None
    big = _odd_entities()[1]
    big.golden.fields["postcode"] = Provenanced(value=1 << 70, platform="c", source_id="9")
    assert entity_row_form(big)[1] is None


@pytest.mark.parametrize("hand_off", [2, 1000])
def test_a_rebuild_fed_forms_indexes_as_one_fed_entities(tmp_path: Path, hand_off: int) -> None:
    entities = [*sample_entities(), *_odd_entities()]
    forms = {}
    for entity in entities:
        form = entity_row_form(entity)[1]
        assert form is not None
        forms[entity.entity_id] = form
    plain = EmbeddedBackend(tmp_path / "plain")
    formed = EmbeddedBackend(tmp_path / "formed")
    formed.rebuild_hand_off = hand_off  # 2: through the worker process; 1000: in this one
    try:
        assert plain.rebuild(entities) == formed.rebuild(Encoded(entities, forms)) == len(entities)
        assert forms == {}  # every form was taken
        assert formed.count() == plain.count() == len(entities)
        for entity in entities:
            assert formed.get(entity.entity_id) == plain.get(entity.entity_id) is not None
    finally:
        plain.close()
        formed.close()
