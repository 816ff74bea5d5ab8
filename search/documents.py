"""Entity -> search documents: one shop document and one document per offer, backend-neutral dicts.

Every backend indexes these same documents (adding its own derived fields); ``get`` returns the
shop document as built here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from aggregator.models import Entity, OfferRecord
from search.analysis import key

SHOP = "shop"
OFFER = "offer"


def shop_document(entity: Entity) -> dict[str, Any]:
    """The shop as the search shows it: golden values, every spelling, every listing."""
    # Each golden value read once (a rebuild builds a million of these documents).
    shown = {name: item.value for name, item in entity.golden.fields.items()}
    value = shown.get
    names = _unique([_text(value("name")), *entity.names])
    # A listing's JSON form, as ``model_dump(mode="json")`` writes it (its fields are text).
    listings = [
        {"platform": x.platform, "source_id": x.source_id, "url": x.url, "name": x.name}
        for x in entity.listings
    ]
    platforms = _unique([listing["platform"] for listing in listings])
    platforms += [p for p in _unique([k.platform for k in entity.members]) if p not in platforms]
    return {
        "id": entity.entity_id,
        "doc_type": SHOP,
        "entity_id": entity.entity_id,
        "name": names[0] if names else entity.entity_id,
        "names": names,
        "category": _text(value("category")),
        "description": _text(value("description")),
        "address": _text(value("address")),
        "postcode": _text(value("postcode")),
        "city": _text(value("city")),
        "phone": _text(value("phone")),
        "website": _text(value("website")),
        "opening_hours": _text(value("opening_hours")),
        "services": _string_list(value("services")),
        "platforms": platforms,
        "listings": listings,
        "lat": _float(value("lat")),
        "lon": _float(value("lon")),
    }


def offer_document(shop: dict[str, Any], offer: OfferRecord) -> dict[str, Any]:
    """An offer, carrying its shop's id, name, category, place, services and hours for filters."""
    return {
        "id": offer_id(shop["entity_id"], offer),
        "doc_type": OFFER,
        "entity_id": shop["entity_id"],
        "product_key": product_key(shop["entity_id"], offer.title),
        "source_id": offer.source_id,
        "platform": offer.platform,
        "title": offer.title,
        "description": offer.description,
        "price": offer.price,
        "currency": offer.currency,
        "availability": offer.availability,
        "offer_category": offer.category,
        "url": offer.url,
        "image_url": offer.image_url,
        "shop_name": shop["name"],
        "category": shop["category"],
        "postcode": shop["postcode"],
        "city": shop["city"],
        "services": shop["services"],
        "opening_hours": shop["opening_hours"],
        "lat": shop["lat"],
        "lon": shop["lon"],
    }


def offer_id(entity_id: str, offer: OfferRecord) -> str:
    return f"{entity_id}/{offer.platform}/{offer.source_id}"


def product_key(entity_id: str, title: str) -> str:
    """One product of one shop, however many platforms list it."""
    return f"{entity_id}/{_title_key(title)}"


@lru_cache(maxsize=65_536)  # product titles repeat across shops
def _title_key(title: str) -> str:
    return key(title)


def entity_documents(entity: Entity) -> list[dict[str, Any]]:
    """The shop document first, then one document per product: when several platforms list
    the same product of the shop (same title, whatever the case or accents), the first wins."""
    shop = shop_document(entity)
    offers: dict[str, dict[str, Any]] = {}
    for offer in entity.offers:
        document = offer_document(shop, offer)
        offers.setdefault(document["product_key"], document)
    return [shop, *offers.values()]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.strip() or None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no coordinate


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        items = [items]
    return _unique([_text(item) for item in items])


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
