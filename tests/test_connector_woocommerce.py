"""The ``woocommerce`` kind against a loopback Store API: the standard suite, then prices in minor
units, stock flags, HTML fields and the ``X-WP-TotalPages`` header."""

from __future__ import annotations

import json
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import RequestTarget, serve_routes

import connectors.woocommerce  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.woocommerce import STORE_API_PATH, WooCommerceKind, products_url

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

SHOP = {
    "source_id": "ferme-lauragais",
    "name": "Ferme du Lauragais",
    "city": "Villefranche-de-Lauragais",
}


def product(number: int, **fields: Any) -> dict[str, Any]:
    """A product as the Store API writes one (fictional shop)."""
    return {
        "id": 300 + number,
        "name": f"Panier de légumes n°{number}",
        "slug": f"panier-{number}",
        "permalink": f"https://ferme-lauragais.example/produit/panier-{number}/",
        "short_description": f"<p>Légumes de saison &#8211; panier n°{number}</p>",
        "description": "<p>Longue description.</p>",
        "prices": {
            "price": "1290",
            "regular_price": "1490",
            "sale_price": "1290",
            "currency_code": "EUR",
            "currency_symbol": "€",
            "currency_minor_unit": 2,
            "currency_decimal_separator": ",",
            "currency_thousand_separator": " ",
        },
        "is_in_stock": True,
        "is_on_backorder": False,
        "images": [{"id": 1, "src": f"https://ferme-lauragais.example/img/panier-{number}.jpg"}],
        "categories": [{"id": 4, "name": "Fruits &amp; légumes", "slug": "fruits-legumes"}],
        **fields,
    }


CATALOGUE = [product(n) for n in range(1, 6)]


def store_api(size: int, catalogue: list[dict[str, Any]], total_header: bool = True) -> Any:
    total_pages = max(1, -(-len(catalogue) // size))

    def route(target: RequestTarget) -> tuple[int, dict[str, str], str]:
        per_page = int(target.query.get("per_page", "10"))
        assert per_page == size, "the per_page option is sent as ?per_page="
        number = int(target.query.get("page", "1"))
        if total_header and number > total_pages:  # what WordPress answers past the last page
            return 400, {}, json.dumps({"code": "rest_post_invalid_page_number"})
        chunk = catalogue[(number - 1) * per_page : number * per_page]
        headers = {"Content-Type": "application/json"}
        if total_header:
            headers |= {"X-WP-Total": str(len(catalogue)), "X-WP-TotalPages": str(total_pages)}
        return 200, headers, json.dumps(chunk)

    return route


def failing_after_first(target: RequestTarget) -> tuple[int, dict[str, str], str]:
    if target.query.get("page") != "1":
        return 503, {"Retry-After": "0"}, "maintenance"
    return store_api(2, CATALOGUE)(target)


class TestWooCommerceKind(ConnectorSuite):
    kind = "woocommerce"

    def feed(self) -> dict[str, Any]:
        return {STORE_API_PATH: store_api(2, CATALOGUE)}

    def registration(self, base_url: str) -> dict[str, Any]:
        options = {"shop": SHOP, "per_page": 2}
        return {
            "platform": "dans_ma_zone",
            "kind": "woocommerce",
            "url": base_url,
            "options": options,
        }

    def broken_feed(self) -> dict[str, Any]:
        return {STORE_API_PATH: failing_after_first}


def registration(url: str, **options: Any) -> ConnectorRegistration:
    options.setdefault("shop", SHOP)
    return ConnectorRegistration(
        platform="dans_ma_zone", kind="woocommerce", url=url, options=options
    )


def read(reg: ConnectorRegistration, context: ReadContext) -> list[Emitted]:
    return list(WooCommerceKind().read(reg, {}, context))


def offers(emitted: list[Emitted]) -> dict[str, OfferRecord]:
    return {
        e.record.source_id: e.record
        for e in emitted
        if isinstance(e, Item) and isinstance(e.record, OfferRecord)
    }


def test_products_become_offers_of_the_configured_shop(context: ReadContext) -> None:
    yen = {"price": "1500", "currency_code": "JPY", "currency_minor_unit": 0}
    catalogue = [
        product(1),
        product(2, is_in_stock=False, images=[], categories=[]),
        product(3, is_on_backorder=True),  # WooCommerce says in stock for backorders too
        product(4, short_description="", prices=yen),
        product(5, name="Œufs &amp; poules <em>plein air</em>"),
    ]
    with serve_routes({STORE_API_PATH: store_api(100, catalogue)}) as base:
        emitted = read(registration(base), context)
    shop = emitted[0]
    assert isinstance(shop, Item) and isinstance(shop.record, ShopRecord)
    assert shop.record.source_id == "ferme-lauragais"
    found = offers(emitted)
    assert list(found) == ["301", "302", "303", "304", "305"]
    first = found["301"]
    assert (first.title, first.shop_source_id) == ("Panier de légumes n°1", "ferme-lauragais")
    assert first.description == "Légumes de saison – panier n°1"
    assert (first.price, first.currency, first.availability) == (12.9, "EUR", "in_stock")
    assert first.url == "https://ferme-lauragais.example/produit/panier-1/"
    assert first.image_url == "https://ferme-lauragais.example/img/panier-1.jpg"
    assert first.category == "Fruits & légumes"
    assert (found["302"].availability, found["302"].image_url, found["302"].category) == (
        "out_of_stock",
        None,
        None,
    )
    assert found["303"].availability == "backorder"
    assert (found["304"].price, found["304"].currency) == (1500.0, "JPY")
    assert found["304"].description == "Longue description."  # no short one: the long one
    assert found["305"].title == "Œufs & poules plein air"
    assert emitted[-1] == Checkpoint(state={}, complete=True)


def test_the_total_pages_header_ends_the_read(context: ReadContext) -> None:
    catalogue = [product(n) for n in range(1, 5)]  # two full pages: no short page to stop on
    with serve_routes({STORE_API_PATH: store_api(2, catalogue)}) as base:
        emitted = read(registration(base, per_page=2), context)
    assert len(offers(emitted)) == 4
    assert [r.query["page"] for r in base.requests] == ["1", "2"]  # never asks for page 3


def test_without_the_header_an_empty_page_ends_the_read(context: ReadContext) -> None:
    catalogue = [product(n) for n in range(1, 5)]
    with serve_routes({STORE_API_PATH: store_api(2, catalogue, total_header=False)}) as base:
        emitted = read(registration(base, per_page=2), context)
    assert len(offers(emitted)) == 4
    assert [r.query["page"] for r in base.requests] == ["1", "2", "3"]


def test_refusals_name_page_and_index(context: ReadContext) -> None:
    catalogue = [
        product(1),
        product(2, name=""),
        product(3, prices={"price": "12,90", "currency_code": "EUR", "currency_minor_unit": 2}),
        product(4, prices={"price": "-5", "currency_code": "EUR", "currency_minor_unit": 2}),
    ]
    with serve_routes({STORE_API_PATH: store_api(2, catalogue)}) as base:
        emitted = read(registration(base, per_page=2), context)
    assert [(r.locator, r.reason) for r in emitted if isinstance(r, Rejection)] == [
        ("page 1 /1", "title (from name): missing or empty"),
        ("page 2 /0", "price (from prices.price): '12,90' is not an amount in minor units"),
        ("page 2 /1", "price (from prices.price): '-5' is not an amount in minor units"),
    ]


def test_a_page_that_is_not_a_list_stops_the_read(context: ReadContext) -> None:
    body = json.dumps({"code": "rest_no_route", "message": "No route was found"})
    stopped = pytest.raises(ConnectorError, match="page 1 of .* holds no list of products")
    with serve_routes({STORE_API_PATH: (200, {}, body)}) as base, stopped:
        read(registration(base), context)


def test_options_need_a_shop_name(context: ReadContext) -> None:
    with pytest.raises(ConnectorError, match="the shop option needs at least a name"):
        read(registration("https://shop.example", shop={"source_id": "x"}), context)
    with pytest.raises(ConnectorError, match="option 'per_page'"):
        read(registration("https://shop.example", per_page=500), context)


def test_products_url() -> None:
    assert products_url("https://ferme.example/") == f"https://ferme.example{STORE_API_PATH}"
    assert products_url("https://ferme.example/shop/wp-json/wc/store/v1/products") == (
        "https://ferme.example/shop/wp-json/wc/store/v1/products"
    )
