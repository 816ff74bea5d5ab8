"""The ``shopify`` kind against a loopback ``/products.json``: the standard suite, then variants,
prices, availability, HTML descriptions and pagination limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import RequestTarget, serve_routes

import connectors.shopify  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.shopify import ShopifyKind, products_url

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

SHOP = {"source_id": "epicerie-carmes", "name": "Épicerie des Carmes", "city": "Toulouse"}


def product(number: int, **fields: Any) -> dict[str, Any]:
    """A product as the storefront's products.json writes one (fictional shop)."""
    return {
        "id": 7000 + number,
        "title": f"Confiture n°{number}",
        "handle": f"confiture-{number}",
        "body_html": f"<p>Fruits <strong>d'Occitanie</strong> n°{number}.</p>",
        "vendor": "Épicerie des Carmes",
        "product_type": "Épicerie sucrée",
        "tags": ["bio"],
        "variants": [
            {"id": 9100 + number, "title": "250 g", "price": "4.90", "available": True},
            {"id": 9200 + number, "title": "500 g", "price": "8.50", "available": True},
        ],
        "images": [{"id": 1, "src": f"https://cdn.example/confiture-{number}.jpg"}],
        **fields,
    }


CATALOGUE = [product(n) for n in range(1, 6)]


def pages(size: int, catalogue: list[dict[str, Any]]) -> Any:
    def route(target: RequestTarget) -> tuple[int, dict[str, str], str]:
        limit = int(target.query.get("limit", "30"))
        assert limit == size, "the limit option is sent as ?limit="
        number = int(target.query.get("page", "1"))
        chunk = catalogue[(number - 1) * limit : number * limit]
        return 200, {"Content-Type": "application/json"}, json.dumps({"products": chunk})

    return route


def failing_after_first(target: RequestTarget) -> tuple[int, dict[str, str], str]:
    if target.query.get("page") != "1":
        return 503, {"Retry-After": "0"}, "maintenance"
    return pages(2, CATALOGUE)(target)


class TestShopifyKind(ConnectorSuite):
    kind = "shopify"

    def feed(self) -> dict[str, Any]:
        return {"/products.json": pages(2, CATALOGUE)}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "dans_ma_zone",
            "kind": "shopify",
            "url": base_url,
            "options": {"shop": SHOP, "limit": 2},
        }

    def broken_feed(self) -> dict[str, Any]:
        return {"/products.json": failing_after_first}


def registration(url: str, **options: Any) -> ConnectorRegistration:
    options.setdefault("shop", SHOP)
    return ConnectorRegistration(platform="dans_ma_zone", kind="shopify", url=url, options=options)


def read(reg: ConnectorRegistration, context: ReadContext) -> list[Emitted]:
    return list(ShopifyKind().read(reg, {}, context))


def offers(emitted: list[Emitted]) -> dict[str, OfferRecord]:
    return {
        e.record.source_id: e.record
        for e in emitted
        if isinstance(e, Item) and isinstance(e.record, OfferRecord)
    }


def test_products_become_offers_of_the_configured_shop(context: ReadContext) -> None:
    catalogue = [
        product(1),
        product(
            2,
            variants=[
                {"id": 1, "price": "12.00", "available": False},
                {"id": 2, "price": "15.00", "available": True},
            ],
        ),
        product(3, variants=[{"id": 3, "price": "3.10", "available": False}], images=[]),
        product(
            4,
            body_html='<div>Miel<script>alert("x")</script><br>'
            "de <em>lavande</em> &amp; thym</div>",
        ),
    ]
    with serve_routes({"/products.json": pages(250, catalogue)}) as base:
        emitted = read(registration(base), context)
    shop = emitted[0]
    assert isinstance(shop, Item) and isinstance(shop.record, ShopRecord)
    assert (shop.record.source_id, shop.record.name) == ("epicerie-carmes", "Épicerie des Carmes")
    found = offers(emitted)
    assert list(found) == ["7001", "7002", "7003", "7004"]
    first = found["7001"]
    assert first.title == "Confiture n°1" and first.shop_source_id == "epicerie-carmes"
    assert first.description == "Fruits d'Occitanie n°1."
    assert first.url == f"{base}/products/confiture-1"
    assert (first.price, first.currency, first.availability) == (4.9, "EUR", "in_stock")
    assert first.category == "Épicerie sucrée"
    assert first.image_url == "https://cdn.example/confiture-1.jpg"
    assert found["7002"].price == 15.0  # the first *available* variant
    assert (found["7003"].price, found["7003"].availability) == (3.1, "out_of_stock")
    assert found["7003"].image_url is None
    assert found["7004"].description == "Miel\nde lavande & thym"
    assert [e.locator for e in emitted if isinstance(e, Item)][1:3] == [
        "page 1 /products/0",
        "page 1 /products/1",
    ]
    assert emitted[-1] == Checkpoint(state={}, complete=True)


def test_pages_are_read_until_an_empty_one(context: ReadContext) -> None:
    catalogue = [product(n) for n in range(1, 5)]
    with serve_routes({"/products.json": pages(2, catalogue)}) as base:
        emitted = read(registration(base, limit=2), context)
    assert len(offers(emitted)) == 4
    assert [r.query["page"] for r in base.requests] == ["1", "2", "3"]


def test_refusals_name_page_and_product(context: ReadContext) -> None:
    catalogue = [
        product(1),
        product(2, title=""),
        product(3, variants=[{"id": 1, "price": "quatre", "available": True}]),
        product(1),
        "not a product",
    ]
    with serve_routes({"/products.json": pages(250, catalogue)}) as base:
        emitted = read(registration(base), context)
    assert [(r.locator, r.reason) for r in emitted if isinstance(r, Rejection)] == [
        ("page 1 /products/1", "title (from title): missing or empty"),
        ("page 1 /products/2", "price (from variants): 'quatre' is not a number"),
        ("page 1 /products/3", "duplicate source_id '7001' (first seen at page 1 /products/0)"),
        ("page 1 /products/4", "the product is not an object"),
    ]


def test_a_shop_ignoring_the_page_parameter_does_not_loop(context: ReadContext) -> None:
    body = json.dumps({"products": CATALOGUE[:2]})
    looping = pytest.raises(ConnectorError, match="page 2 .* repeats page 1")
    with serve_routes({"/products.json": (200, {}, body)}) as base, looping:
        read(registration(base, limit=2), context)


def test_max_pages_stops_the_read(context: ReadContext) -> None:
    stopped = pytest.raises(ConnectorError, match="stopped after max_pages=2 pages")
    with serve_routes({"/products.json": pages(1, CATALOGUE)}) as base, stopped:
        read(registration(base, limit=1, max_pages=2), context)


def test_options_need_a_shop_name_and_a_currency_code(context: ReadContext) -> None:
    with pytest.raises(ConnectorError, match="the shop option needs at least a name"):
        read(registration("https://shop.example", shop={"city": "Albi"}), context)
    with pytest.raises(ConnectorError, match="option 'currency'"):
        read(registration("https://shop.example", currency="euros"), context)
    with pytest.raises(ConnectorError, match="option 'limit'"):
        read(registration("https://shop.example", limit=500), context)


def test_currency_and_qualified_ids_from_options(context: ReadContext) -> None:
    with serve_routes({"/products.json": pages(250, CATALOGUE[:1])}) as base:
        emitted = read(registration(base, currency="chf", qualify_offer_ids=True), context)
    assert offers(emitted)["epicerie-carmes/7001"].currency == "CHF"


def test_a_local_products_json_is_one_page(tmp_path: Path, context: ReadContext) -> None:
    path = tmp_path / "products.json"
    path.write_text(json.dumps({"products": CATALOGUE}), "utf-8")
    shop = dict(SHOP, website="https://epicerie-carmes.example")
    found = offers(read(registration(str(path), shop=shop), context))
    assert len(found) == 5
    assert found["7001"].url == "https://epicerie-carmes.example/products/confiture-1"


def test_products_url() -> None:
    assert products_url("https://shop.example/") == "https://shop.example/products.json"
    assert products_url("https://shop.example/collections/miel/products.json") == (
        "https://shop.example/collections/miel/products.json"
    )
