"""Kind ``merchant_feed``: one shop's Google Merchant product feed (RSS 2.0, Atom or TSV).

The shop comes from the ``shop`` option and/or the feed's channel; it is emitted first, then one
offer per item. Prices keep their currency (``"1,27 EUR"``, ``"INR 250.00"``); the price is what
a customer pays now (``sale_price`` when lower and in its effective window); availability
spellings are normalised; local-inventory pickup fields make the shop ``click_and_collect``.
XML goes through ``connectors.xml_safe`` only. Locators: ``/rss/channel/item[12]``,
``/feed/entry[3]``, ``line 7``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, Emitted, Item, ReadContext
from connectors.http import fetch_if_changed, validators
from connectors.mapping import DuplicateGuard, excerpt
from connectors.merchant_feed.formats import Entry, read_feed
from connectors.merchant_feed.shop import (
    CLICK_AND_COLLECT,
    CatalogueOptions,
    offer_id,
    offer_or_rejection,
    refuse_mapping,
    shop_record,
)
from connectors.merchant_feed.values import (
    Price,
    normalise_availability,
    parse_price,
    selling_price,
    text_of,
)
from connectors.registry import check_by_reading, parse_options, register

#: ``pickup_method`` values that offer store pickup (Merchant Center's, in English).
PICKUP_METHODS = frozenset({"buy", "reserve", "ship to store", "ship_to_store"})
NO_PICKUP = frozenset({"not supported", "not_supported"})


class Config(CatalogueOptions):
    """Options of the ``merchant_feed`` kind."""

    format: Literal["auto", "rss", "atom", "tsv"] = Field(
        default="auto", description="The feed's shape; `auto` sniffs XML root or text."
    )
    shop_from_channel: bool = Field(
        default=False,
        description="Take the shop's name and website from the RSS channel (Atom feed) title "
        "and link when the `shop` option does not give them.",
    )
    default_currency: str | None = Field(
        default=None, description="ISO 4217 code for prices written without a currency."
    )

    @field_validator("default_currency")
    @classmethod
    def _iso_code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 3 and value.isalpha()):
            raise ValueError("a currency is a three-letter ISO 4217 code such as EUR")
        return value.upper() if value else None

    @model_validator(mode="after")
    def _shop_named(self) -> Config:
        if not self.shop_from_channel and (self.shop is None or self.shop.name is None):
            raise ValueError("give the shop option with at least a name, or shop_from_channel")
        return self


class MerchantFeedKind:
    """Reads the whole feed (a conditional GET), then emits the shop and its offers."""

    name: ClassVar[str] = "merchant_feed"
    Config: ClassVar[type[BaseModel]] = Config
    #: The registration validator needs no mapping: the Google attributes are fixed.
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        refuse_mapping(registration)
        url = registration.url
        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged since the last run: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        feed = read_feed(response.content, config.format, url)  # whole document, or nothing
        channel = feed.channel if config.shop_from_channel else None
        shop, _ = shop_record(registration, config.shop, channel)
        built = [(entry, *_offer(entry, shop, config)) for entry in feed.entries]
        pickup = any(offers_pickup for _, _, offers_pickup in built)
        # Where to send a customer when the options name no page: the feed's own link (read
        # even when the shop is not taken from the channel), else an item's page.
        links = [feed.channel.get("link")] if feed.channel else []
        links += [r.url for _, r, _ in built if isinstance(r, OfferRecord) and r.url][:1]
        shop, shop_raw = shop_record(
            registration, config.shop, channel, (CLICK_AND_COLLECT,) if pickup else (), links
        )
        where = {"rss": "/rss/channel", "atom": "/feed"}.get(feed.format) if channel else None
        yield Item(shop, shop_raw, where or "options.shop")
        guard = DuplicateGuard()
        for entry, result, _ in built:
            yield guard.admit(result, entry.attributes, entry.locator)
        yield Checkpoint(state=validators(response), complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def offers_pickup(attributes: dict[str, Any]) -> bool:
    """Store pickup: a ``pickup_method`` other than "not supported", or (the method being optional
    since September 2024) a ``pickup_sla`` without a method."""
    method = (_text(attributes, "pickup_method") or "").lower()
    if method:
        return method in PICKUP_METHODS
    return bool(_text(attributes, "pickup_sla"))


def _offer(entry: Entry, shop: ShopRecord, config: Config) -> tuple[OfferRecord | Rejection, bool]:
    """The offer an entry describes (or why it cannot be one), and whether it offers pickup."""
    attributes, locator = entry.attributes, entry.locator
    if entry.problem:
        return Rejection(locator=locator, reason=entry.problem, excerpt=excerpt(attributes)), False
    try:
        price = _price(attributes, config.default_currency)
    except ValueError as exc:
        return Rejection(locator=locator, reason=str(exc), excerpt=excerpt(attributes)), False
    data: dict[str, Any] = {"platform": shop.platform, "shop_source_id": shop.source_id}
    gid = _text(attributes, "id")
    if gid:
        data["source_id"] = offer_id(shop, gid, config.qualify_offer_ids)
    for field, attribute in (("title", "title"), ("description", "description")):
        if value := _text(attributes, attribute):
            data[field] = text_of(value)
    data["url"] = _text(attributes, "link") or _text(attributes, "mobile_link")
    data["image_url"] = _text(attributes, "image_link")
    if price is not None:
        data["price"], data["currency"] = price.amount, price.currency
    spelling = _text(attributes, "availability")
    data["availability"] = normalise_availability(spelling) if spelling else None
    data["category"] = _category(attributes)
    sources = {"source_id": "id", "title": "title", "url": "link", "image_url": "image_link"}
    result = offer_or_rejection(data, attributes, locator, sources)
    return result, isinstance(result, OfferRecord) and offers_pickup(attributes)


def _price(attributes: dict[str, Any], default_currency: str | None) -> Price | None:
    """The selling price: ``sale_price`` when lower, same currency and in its effective window
    (``sale_price_effective_date``), else ``price``. ``ValueError`` names an unreadable one."""
    parsed: dict[str, Price | None] = {}
    for name in ("price", "sale_price"):
        text = _text(attributes, name)
        try:
            parsed[name] = parse_price(text, default_currency) if text else None
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    effective = _text(attributes, "sale_price_effective_date")
    return selling_price(parsed["price"], parsed["sale_price"], effective)


def _category(attributes: dict[str, Any]) -> str | None:
    """Google's category when written as text, else the merchant's ``product_type``, else
    Google's category id (``2047``)."""
    google = _text(attributes, "google_product_category")
    if google and not google.isdigit():
        return google
    return _text(attributes, "product_type") or google


def _text(attributes: dict[str, Any], name: str) -> str | None:
    """An attribute as text: the first one when repeated; None for a group or a blank."""
    value = attributes.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return (value.strip() or None) if isinstance(value, str) else None


register(MerchantFeedKind())
