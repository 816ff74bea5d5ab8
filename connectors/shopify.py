"""Kind ``shopify``: a Shopify shop's public catalogue, ``GET {url}/products.json`` page by page.

The shop comes from the ``shop`` option and is emitted first; each product is one offer: its
title, ``body_html`` as plain text, ``{url}/products/{handle}``, the price of its first available
variant (the first variant when none is), in stock when any variant is available, its first
image and its ``product_type``. Pages (``?limit=250&page=N``, the classic storefront pagination)
are read until one is empty or short. Locators: ``page 2 /products/3``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, Field, field_validator, model_validator

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, Emitted, Item, ReadContext
from connectors.json_api import PagePagination
from connectors.mapping import DuplicateGuard, excerpt
from connectors.merchant_feed.shop import (
    CatalogueOptions,
    catalogue_pages,
    offer_id,
    offer_or_rejection,
    origin,
    refuse_mapping,
    shop_record,
)
from connectors.merchant_feed.values import html_to_text
from connectors.registry import check_by_reading, parse_options, register

MAX_LIMIT = 250  # Shopify's largest page


class Config(CatalogueOptions):
    """Options of the ``shopify`` kind."""

    currency: str = Field(
        default="EUR", description="The shop's currency: products.json prices carry none."
    )
    limit: int = Field(default=MAX_LIMIT, ge=1, le=MAX_LIMIT, description="Products per page.")
    max_pages: int = Field(default=400, ge=1, description="Safety limit on pages read.")

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if not (len(value) == 3 and value.isalpha()):
            raise ValueError("a currency is a three-letter ISO 4217 code such as EUR")
        return value.upper()

    @model_validator(mode="after")
    def _shop_named(self) -> Config:
        if self.shop is None or self.shop.name is None:
            raise ValueError("the shop option needs at least a name")
        return self


class ShopifyKind:
    """Emits the shop, then the offers of every page of ``/products.json``."""

    name: ClassVar[str] = "shopify"
    Config: ClassVar[type[BaseModel]] = Config
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        refuse_mapping(registration)
        shop, shop_raw = shop_record(registration, config.shop)
        yield Item(shop, shop_raw, "options.shop")
        url = products_url(registration.url)
        storefront = origin(registration.url) or shop.website
        pagination = PagePagination(
            style="page", param="page", start=1, size_param="limit", size=config.limit
        )
        guard = DuplicateGuard()
        for page in catalogue_pages(url, pagination, context, config.max_pages, _products):
            for index, product in enumerate(page.records):
                locator = f"page {page.number} /products/{index}"
                offer = _offer(product, locator, shop, storefront, config)
                yield guard.admit(offer, product, locator)
        yield Checkpoint(state={}, complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def products_url(url: str) -> str:
    """The catalogue endpoint of a shop URL (kept as is when it already names a ``.json``)."""
    return url if url.split("?", 1)[0].endswith(".json") else url.rstrip("/") + "/products.json"


def _products(document: Any) -> Any:
    return document.get("products") if isinstance(document, dict) else None


def _offer(
    product: Any, locator: str, shop: ShopRecord, storefront: str | None, config: Config
) -> OfferRecord | Rejection:
    if not isinstance(product, dict):
        return Rejection(
            locator=locator, reason="the product is not an object", excerpt=excerpt(product)
        )
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    flags = [v["available"] for v in variants if isinstance(v.get("available"), bool)]
    chosen = next(
        (v for v in variants if v.get("available") is True), variants[0] if variants else {}
    )
    data: dict[str, Any] = {"platform": shop.platform, "shop_source_id": shop.source_id}
    if product.get("id") not in (None, ""):
        data["source_id"] = offer_id(shop, str(product["id"]), config.qualify_offer_ids)
    data["title"] = str(product.get("title") or "").strip()
    data["description"] = html_to_text(str(product.get("body_html") or "")) or None
    handle = product.get("handle")
    if storefront and isinstance(handle, str) and handle:
        data["url"] = f"{storefront.rstrip('/')}/products/{quote(handle)}"
    if chosen.get("price") not in (None, ""):
        try:
            data["price"], data["currency"] = float(Decimal(str(chosen["price"]))), config.currency
        except InvalidOperation:
            reason = f"price (from variants): {chosen['price']!r} is not a number"
            return Rejection(locator=locator, reason=reason, excerpt=excerpt(product))
    data["availability"] = ("in_stock" if any(flags) else "out_of_stock") if flags else None
    data["category"] = str(product.get("product_type") or "").strip() or None
    data["image_url"] = _image(product)
    sources = {"source_id": "id", "title": "title", "price": "variants.price"}
    return offer_or_rejection(data, product, locator, sources)


def _image(product: dict[str, Any]) -> str | None:
    images = product.get("images")
    first = images[0] if isinstance(images, list) and images else product.get("image")
    src = first.get("src") if isinstance(first, dict) else None
    return src if isinstance(src, str) and src else None


register(ShopifyKind())
