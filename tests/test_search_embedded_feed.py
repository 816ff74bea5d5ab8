"""What the index rebuild feeds tantivy is what the plain forms give, on the demo's shops."""

from __future__ import annotations

import json
from typing import Any

from aggregator.entity_offers import attach_offers
from aggregator.models import OfferRecord, ShopRecord
from dedupe import match_shops
from search.analysis import key, topics
from search.documents import entity_documents
from search.embedded_schema import _filter_values, _payload, _topics, filter_term
from tests.test_entity_form import _demo_records


def _plain_filters(
    shop: bool, city: Any, postcode: Any, category: Any, platforms: Any, services: Any
) -> tuple[str, tuple[tuple[str, str], ...]]:
    terms, facets = [], []
    for name, values, facet in (
        ("city", [city], shop),
        ("postcode", [postcode], False),
        ("category", [category], shop),
        ("platforms", platforms, shop),
        ("services", services, shop),
    ):
        by_key: dict[str, str] = {}
        for value in values:
            folded = key(str(value)) if value else ""
            if folded:
                by_key.setdefault(folded, str(value))
        for folded, value in by_key.items():
            terms.append(filter_term(name, folded))
            if facet:
                facets.append((name, value))
    return " ".join(terms), tuple(facets)


def test_topics_filters_and_payloads_as_plainly_worked_out() -> None:
    records: list[ShopRecord] = _demo_records(600)
    records.append(
        ShopRecord(platform="autre", source_id="x", name="Épicerie", city="Saint-Orens",
                   services=["Livraison", "livraison", "retrait"], category="épicerie-fine")
    )  # fmt: skip
    shops = [entity_documents(e)[0] for e in match_shops(records).entities]
    assert any(s["services"] for s in shops) and any(s["category"] for s in shops)
    for shop in shops:
        texts = [shop["category"], *shop["services"], *shop["names"], shop["description"]]
        assert _topics(shop["category"], shop["services"], shop["names"], shop["description"]) == (
            topics(texts)
        )
        plain = json.dumps(shop, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert _payload(shop) == plain
        values = (shop["city"], shop["postcode"], shop["category"])
        platforms, services = tuple(shop["platforms"]), tuple(shop["services"])
        assert _filter_values(True, *values, platforms, services) == _plain_filters(
            True, *values, platforms, services
        )
        assert _filter_values(False, *values, (), ()) == _plain_filters(False, *values, (), ())


def test_payloads_of_offers_and_odd_values_as_json_writes_them() -> None:
    records = _demo_records(300)
    entities = match_shops(records).entities
    offers = [
        OfferRecord(platform=r.platform, source_id=f"o{i}", shop_source_id=r.source_id,
                    title=f"Pain n°{i} \u2028 «bio»", price=[None, 0.0, 2.5, 1e-5, 1e17][i % 5])
        for i, r in enumerate(records[:100])
    ]  # fmt: skip
    attach_offers(entities, offers)
    documents = [d for e in entities for d in entity_documents(e)]
    assert any(d["doc_type"] == "offer" for d in documents)
    odd = {"id": "x", "lat": float("nan"), "lon": 1e-7, "names": ['a\x01\t"\\'], "n": 2**70}
    for document in [*documents, odd]:
        plain = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        assert _payload(document) == plain.encode("utf-8")
