"""Entity -> search documents: one shop document and one document per offer, backend-neutral dicts.

Every backend indexes these same documents (adding its own derived fields); ``get`` returns the
shop document as built here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from aggregator.models import Entity, OfferRecord
from search.analysis import key

try:
    from orjson import loads
except ImportError:  # pragma: no cover - an optional accelerator (no form is made without it)
    from json import loads  # type: ignore[assignment]

SHOP = "shop"
OFFER = "offer"


def shop_document(entity: Entity) -> dict[str, Any]:
    """The shop as the search shows it: golden values, every spelling, every listing."""
    # Each golden value read once (a rebuild builds a million of these documents).
    # A listing's JSON form, as ``model_dump(mode="json")`` writes it (its fields are text).
    return _shop(
        entity.entity_id,
        {name: item.value for name, item in entity.golden.fields.items()},
        entity.names,
        [
            {"platform": x.platform, "source_id": x.source_id, "url": x.url, "name": x.name}
            for x in entity.listings
        ],
        [k.platform for k in entity.members],
    )


def _shop(
    entity_id: str,
    shown: dict[str, Any],
    shown_names: list[str],
    listings: list[dict[str, Any]],
    member_platforms: list[str],
) -> dict[str, Any]:
    value = shown.get
    names = _unique([_text(value("name")), *shown_names])
    platforms = _unique([listing["platform"] for listing in listings])
    platforms += [p for p in _unique(member_platforms) if p not in platforms]
    return {
        "id": entity_id,
        "doc_type": SHOP,
        "entity_id": entity_id,
        "name": names[0] if names else entity_id,
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


def offer_document(shop: dict[str, Any], offer: OfferRecord | SimpleNamespace) -> dict[str, Any]:
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


def offer_id(entity_id: str, offer: OfferRecord | SimpleNamespace) -> str:
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
    return _with_offers(shop_document(entity), entity.offers)


def _with_offers(
    shop: dict[str, Any], offers: Iterable[OfferRecord | SimpleNamespace]
) -> list[dict[str, Any]]:
    products: dict[str, dict[str, Any]] = {}
    for offer in offers:
        document = offer_document(shop, offer)
        products.setdefault(document["product_key"], document)
    return [shop, *products.values()]


#: An entity's JSON form as its store row encodes it (``aggregator.store.entities``), by orjson
#: with sorted keys: its id, then the texts of its members, golden record, listings, names and
#: offers. Texts pickle as one copy each: a rebuild's worker process is sent these instead of
#: documents, and builds the documents itself (:func:`form_documents`).
Form = tuple[str, str, str, str, str, str]


def form_documents(form: Form) -> list[dict[str, Any]]:
    """:func:`entity_documents` of the entity whose JSON form is ``form``: the same documents,
    key order included (``tests/test_search_form.py`` compares both)."""
    entity_id, members, golden, listings, names, offers = form
    shop = _shop(
        entity_id,
        {name: item["value"] for name, item in loads(golden)["fields"].items()},
        loads(names),
        [
            {
                "platform": x["platform"],
                "source_id": x["source_id"],
                "url": x["url"],
                "name": x["name"],
            }
            for x in loads(listings)
        ],
        [m["platform"] for m in loads(members)],
    )
    held = loads(offers)
    return _with_offers(shop, [SimpleNamespace(**o) for o in held]) if held else [shop]


class Encoded:
    """Entities to index, and the JSON form (:data:`Form`) of those whose store row the feeder
    encoded by orjson, by entity id: a backend that can use the form pops it (the embedded
    rebuild sends it to its worker process), the others index the entities. The feeder keeps
    only the forms of the batch being consumed (it empties ``forms`` before the next one)."""

    def __init__(self, entities: Iterable[Entity], forms: dict[str, Form]) -> None:
        self.entities = entities
        self.forms = forms

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)


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
