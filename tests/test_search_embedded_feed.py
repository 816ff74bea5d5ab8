"""What the index rebuild feeds tantivy is what the plain forms give, on the demo's shops."""

from __future__ import annotations

import json
from typing import Any

from aggregator.models import ShopRecord
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
        assert _payload(shop) == json.dumps(shop, ensure_ascii=False, separators=(",", ":"))
        values = (shop["city"], shop["postcode"], shop["category"])
        platforms, services = tuple(shop["platforms"]), tuple(shop["services"])
        assert _filter_values(True, *values, platforms, services) == _plain_filters(
            True, *values, platforms, services
        )
        assert _filter_values(False, *values, (), ()) == _plain_filters(False, *values, (), ())
