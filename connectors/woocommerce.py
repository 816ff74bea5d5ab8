"""Kind ``woocommerce``: a WooCommerce shop's public Store API, page by page.

``GET {url}/wp-json/wc/store/v1/products?per_page=100&page=N`` needs no key. The shop comes from
the ``shop`` option and is emitted first; each product is one offer: ``name``, ``permalink``,
``short_description`` (else ``description``) as plain text, ``prices.price`` read in minor units
(``"1290"`` with ``currency_minor_unit`` 2 is 12.90 in ``currency_code``), ``is_in_stock`` /
``is_on_backorder``, the first image and the first category. Pages are read up to the
``X-WP-TotalPages`` header, or until one is empty or short. Locators: ``page 2 /3``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, Emitted, Item, ReadContext
from connectors.json_api import Page, PagePagination, PageRequest
from connectors.mapping import DuplicateGuard, excerpt
from connectors.merchant_feed.shop import (
    CatalogueOptions,
    catalogue_pages,
    offer_id,
    offer_or_rejection,
    refuse_mapping,
    shop_record,
)
from connectors.merchant_feed.values import html_to_text, minor_units
from connectors.registry import check_by_reading, parse_options, register

STORE_API_PATH = "/wp-json/wc/store/v1/products"
MAX_PER_PAGE = 100  # the Store API's largest page


class Config(CatalogueOptions):
    """Options of the ``woocommerce`` kind."""

    per_page: int = Field(default=MAX_PER_PAGE, ge=1, le=MAX_PER_PAGE)
    max_pages: int = Field(default=1000, ge=1, description="Safety limit on pages read.")

    @model_validator(mode="after")
    def _shop_named(self) -> Config:
        if self.shop is None or self.shop.name is None:
            raise ValueError("the shop option needs at least a name")
        return self


class StoreApiPagination(PagePagination):
    """Page numbers, stopping at the page ``X-WP-TotalPages`` names as the last (asking past it
    gets a 400 from WordPress), or at an empty or short page when the header is absent."""

    def next(self, page: Page) -> PageRequest | None:
        total = page.response.headers.get("x-wp-totalpages", "").strip()
        if total.isdigit() and int(page.request.params.get(self.param, "0")) >= int(total):
            return None
        return super().next(page)


class WooCommerceKind:
    """Emits the shop, then the offers of every page of the Store API's products."""

    name: ClassVar[str] = "woocommerce"
    Config: ClassVar[type[BaseModel]] = Config
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        refuse_mapping(registration)
        shop, shop_raw = shop_record(registration, config.shop)
        yield Item(shop, shop_raw, "options.shop")
        pagination = StoreApiPagination(
            style="page", param="page", start=1, size_param="per_page", size=config.per_page
        )
        url, guard = products_url(registration.url), DuplicateGuard()
        for page in catalogue_pages(url, pagination, context, config.max_pages, lambda d: d):
            for index, product in enumerate(page.records):
                locator = f"page {page.number} /{index}"
                yield guard.admit(_offer(product, locator, shop, config), product, locator)
        yield Checkpoint(state={}, complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def products_url(url: str) -> str:
    """The Store API products endpoint of a shop URL (kept when it already names the API)."""
    return url if "/wp-json/" in url or url.endswith(".json") else url.rstrip("/") + STORE_API_PATH


def _offer(product: Any, locator: str, shop: ShopRecord, config: Config) -> OfferRecord | Rejection:
    if not isinstance(product, dict):
        reason = "the product is not an object"
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(product))
    data: dict[str, Any] = {"platform": shop.platform, "shop_source_id": shop.source_id}
    if product.get("id") not in (None, ""):
        data["source_id"] = offer_id(shop, str(product["id"]), config.qualify_offer_ids)
    data["title"] = html_to_text(str(product.get("name") or ""))  # names carry &#8211; etc.
    description = product.get("short_description") or product.get("description") or ""
    data["description"] = html_to_text(str(description)) or None
    data["url"] = product.get("permalink") or None
    prices = product.get("prices")
    if isinstance(prices, dict) and prices.get("price") not in (None, ""):
        try:
            minor = int(prices.get("currency_minor_unit", 2))
            data["price"] = minor_units(prices["price"], minor)
        except (TypeError, ValueError) as exc:
            reason = f"price (from prices.price): {exc}"
            return Rejection(locator=locator, reason=reason, excerpt=excerpt(product))
        data["currency"] = prices.get("currency_code") or None
    data["availability"] = _availability(product)
    data["category"] = _first_name(product.get("categories"))
    images = product.get("images")
    first = images[0] if isinstance(images, list) and images else None
    data["image_url"] = (first.get("src") or None) if isinstance(first, dict) else None
    sources = {"source_id": "id", "title": "name", "url": "permalink", "price": "prices.price"}
    return offer_or_rejection(data, product, locator, sources)


def _availability(product: dict[str, Any]) -> str | None:
    if product.get("is_on_backorder") is True:  # WooCommerce counts backorders as in stock
        return "backorder"
    if product.get("is_in_stock") is True:
        return "in_stock"
    return "out_of_stock" if product.get("is_in_stock") is False else None


def _first_name(categories: Any) -> str | None:
    if isinstance(categories, list):
        for category in categories:
            if isinstance(category, dict) and category.get("name"):
                return html_to_text(str(category["name"])) or None
    return None


register(WooCommerceKind())
