"""The shop behind a one-shop catalogue (merchant feed, Shopify, WooCommerce) and its offers.

A catalogue lists one shop's products; the shop itself comes from the registration's ``shop``
option (ShopRecord fields), completed by what the feed says about itself (an RSS channel's title
and link). Every offer points at that shop. Example options::

    shop: {source_id: fromagerie-carmes, name: Fromagerie des Carmes, city: Toulouse}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from aggregator.models import (
    ConnectorRegistration,
    OfferRecord,
    Rejection,
    ShopRecord,
    content_hash,
    web_url,
)
from connectors.base import ConnectorError, ReadContext
from connectors.http import fetch_source, local_path
from connectors.json_api import Page, PagePagination, PageRequest
from connectors.mapping import refusal

CLICK_AND_COLLECT = "click_and_collect"


class ShopOptions(BaseModel):
    """The shop a catalogue belongs to: any ShopRecord field but ``platform``."""

    model_config = ConfigDict(extra="forbid")

    source_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The shop's id; default: the host of its website or of the feed URL.",
    )
    name: str | None = Field(default=None, min_length=1, max_length=300)
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, min_length=2, max_length=2)
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    siret: str | None = None
    category: str | None = None
    description: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: str | None = None
    url: str | None = None
    services: list[str] = Field(default_factory=list)


class CatalogueOptions(BaseModel):
    """Options every one-shop catalogue kind has."""

    model_config = ConfigDict(extra="forbid")

    shop: ShopOptions | None = Field(
        default=None, description="The shop the catalogue belongs to (ShopRecord fields)."
    )
    qualify_offer_ids: bool = Field(
        default=False,
        description="Prefix offer ids with the shop's source_id and '/': set it when a platform "
        "registers several shops whose product ids may collide.",
    )


def refuse_mapping(registration: ConnectorRegistration) -> None:
    """These kinds read fixed fields: a mapping would be silently ignored, so refuse it."""
    if registration.mapping:
        raise ConnectorError(
            f"kind {registration.kind!r} reads its feed's own fields and takes no mapping; "
            "remove the mapping (the shop comes from the `shop` option)"
        )


def shop_record(
    registration: ConnectorRegistration,
    options: ShopOptions | None,
    channel: Mapping[str, str | None] | None = None,
    services: tuple[str, ...] = (),
    links: Sequence[str | None] = (),
) -> tuple[ShopRecord, dict[str, Any]]:
    """The shop and the payload it is stored with; ``ConnectorError`` naming the missing option.

    ``channel`` (``title``, ``link``) fills the name and website the options leave out. The
    listing URL (where a customer is sent) is the ``url`` option, else the first http(s)
    address among the channel's link, the website and ``links`` (the items' own links).
    """
    given = options.model_dump(exclude_none=True) if options else {}
    channel = {k: v for k, v in (channel or {}).items() if v}
    data: dict[str, Any] = {"platform": registration.platform, "country": registration.country}
    data.update(given)
    if "name" not in data and channel.get("title"):
        data["name"] = channel["title"]
    if "website" not in data and channel.get("link"):
        data["website"] = channel["link"]
    if "url" not in data:
        found = (_link(c) for c in (channel.get("link"), data.get("website"), *links))
        data["url"] = next((link for link in found if link), None)
    if "name" not in data:
        raise ConnectorError(
            "option shop.name is required: the feed does not name its shop "
            "(or set shop_from_channel for an RSS or Atom feed with a title)"
        )
    if "source_id" not in data:
        host = _host(data.get("website")) or _host(registration.url)
        if not host:
            raise ConnectorError("option shop.source_id is required: no website or URL host")
        data["source_id"] = host
    data["services"] = list(dict.fromkeys([*data.get("services", []), *services]))
    data["country"] = str(data["country"]).upper()
    try:
        record = ShopRecord.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"shop.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConnectorError(f"invalid shop for {registration.url}: {problems}") from None
    return record, {"shop": given, "channel": channel}


def offer_id(shop: ShopRecord, source_id: str, qualify: bool) -> str:
    """The offer's source id, prefixed with its shop's when asked."""
    return f"{shop.source_id}/{source_id}" if qualify else source_id


def offer_or_rejection(
    data: dict[str, Any], raw: Any, locator: str, sources: Mapping[str, str]
) -> OfferRecord | Rejection:
    """The validated offer, or a rejection naming each bad field and where it came from."""
    try:
        return OfferRecord.model_validate(data)
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            where = f" (from {sources[field]})" if field in sources else ""
            message = (
                "missing or empty"
                if error["type"] in ("missing", "string_too_short")
                else (error["msg"])
            )
            parts.append(f"{field}{where}: {message}")
        # Naming the id keeps the offer's last good version live (see ``refusal``).
        return refusal(OfferRecord, data.get("source_id"), locator, "; ".join(parts), raw)


def catalogue_pages(
    url: str,
    pagination: PagePagination,
    context: ReadContext,
    max_pages: int,
    records_of: Callable[[Any], Any],
) -> Iterator[Page]:
    """The pages of a JSON catalogue API (a local file is one page), until ``pagination`` says
    the last was read; ``ConnectorError`` past ``max_pages`` or when a page repeats the previous
    one (a shop that ignores the page parameter would otherwise loop)."""
    local = local_path(url) is not None
    request: PageRequest | None = PageRequest() if local else pagination.first()
    number, previous = 0, ""
    while request is not None:
        number += 1
        if number > max_pages:
            raise ConnectorError(f"stopped after max_pages={max_pages} pages of {url}")
        target = str(httpx.URL(url).copy_merge_params(request.params)) if request.params else url
        response = fetch_source(target, context, {"Accept": "application/json"})
        try:
            document = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(f"page {number} of {url} is not valid JSON: {exc}") from None
        records = records_of(document)
        if not isinstance(records, list):
            raise ConnectorError(f"page {number} of {url} holds no list of products")
        digest = content_hash(records)
        if records and digest == previous:
            raise ConnectorError(
                f"page {number} of {url} repeats page {number - 1}: is the page parameter ignored?"
            )
        previous = digest
        page = Page(number, request, response, document, records)
        yield page
        request = None if local else pagination.next(page)


def origin(url: str) -> str | None:
    """``https://shop.example/products.json`` -> ``https://shop.example`` (None for a path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _link(value: str | None) -> str | None:
    """``value`` when a record may store it as a link (``aggregator.models.web_url``) and it
    names a host, else None: an odd link in a feed must not cost the shop its record."""
    if not value:
        return None
    try:
        link = web_url(value)
    except PydanticCustomError:
        return None
    return link if link and _host(link) else None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None
