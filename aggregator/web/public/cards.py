"""Results and shops as the pages show them: plain dicts of display values, built once here so
the templates only lay them out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aggregator.models import OfferRecord
from aggregator.runtime import Runtime
from aggregator.web.public import view
from dedupe import Taxonomy
from search import SearchAnswer
from search.analysis import key


class Shown(dict[str, Any]):
    """A dict whose keys read as attributes too: what ``card.name`` in a template looks up
    first, so the pages' thousands of look-ups per results page skip an AttributeError each."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


#: Golden fields shown on a shop page, with their French labels.
SHOP_FIELDS = (
    ("category", "Catégorie"),
    ("address", "Adresse"),
    ("postcode", "Code postal"),
    ("city", "Commune"),
    ("phone", "Téléphone"),
    ("email", "Courriel"),
    ("website", "Site web"),
    ("opening_hours", "Horaires"),
    ("services", "Services"),
    ("description", "Description"),
)


def listings_view(listings: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """One listing per platform (the first with a web address), by the platform's name; a
    listing without an http(s) address is shown without a link."""
    chosen: dict[str, dict[str, Any]] = {}
    for listing in listings:
        data = listing if isinstance(listing, dict) else listing.model_dump()
        url = view.web_url(data.get("url"))
        current = chosen.get(data["platform"])
        if current is None or (current["url"] is None and url):
            chosen[data["platform"]] = Shown(
                platform=data["platform"],
                platform_name=names.get(data["platform"], data["platform"]),
                name=data.get("name") or "",
                url=url,
            )
    return list(chosen.values())


def _offer_view(offer: Any, pickup: bool) -> dict[str, Any]:
    return Shown(
        title=offer.title,
        price=view.price_text(offer.price, offer.currency),
        availability=view.availability_text(offer.availability),
        url=view.web_url(offer.url),
        pickup=pickup,
    )


def result_cards(
    answer: SearchAnswer,
    names: dict[str, str],
    taxonomy: Taxonomy,
    now: datetime,
    communes: dict[str, str],
) -> list[dict[str, Any]]:
    """Shops of the page in their order, each with the page's products it sells; then one
    card per other shop whose products matched, in the order of its best product."""
    cards: list[dict[str, Any]] = []
    by_shop: dict[str, dict[str, Any]] = {}
    for hit in answer.hits:
        status = view.open_status(hit.opening_hours, now)
        city = communes.get(key(hit.city), hit.city) if hit.city else None
        card: dict[str, Any] = Shown(
            {
                "kind": "shop",
                "entity_id": hit.entity_id,
                "name": hit.name,
                "category": taxonomy.label(hit.category) or (hit.category or "").capitalize(),
                "group": taxonomy.group(hit.category) or "",
                "address": " ".join(p for p in (hit.address, hit.postcode, city) if p),
                "city": city or "",
                "distance": view.distance_text(hit.distance_m),
                "distance_m": hit.distance_m,
                "status": status,
                "services": [view.SERVICES[s] for s in hit.services if s in view.SERVICES],
                "tel": view.tel_href(hit.phone),
                "phone": view.phone_text(hit.phone) if hit.phone else None,
                "listings": listings_view(hit.listings, names),
                "offers": [],
                "pickup": "click_and_collect" in hit.services,
            }
        )
        cards.append(card)
        by_shop[hit.entity_id] = card
    for offer in answer.offers:
        found = by_shop.get(offer.entity_id)
        if found is None:
            card = Shown(
                {
                    "kind": "products",
                    "entity_id": offer.entity_id,
                    "name": offer.shop_name,
                    "city": communes.get(key(offer.city), offer.city) if offer.city else "",
                    "distance": view.distance_text(offer.distance_m),
                    "distance_m": offer.distance_m,
                    "group": "",
                    "offers": [],
                    "pickup": False,
                }
            )
            cards.append(card)
            by_shop[offer.entity_id] = card
        else:
            card = found
        card["offers"].append(_offer_view(offer, card["pickup"]))
    return cards


def shop_view(
    runtime: Runtime,
    shop: dict[str, Any],
    names: dict[str, str],
    taxonomy: Taxonomy,
    now: datetime,
) -> dict[str, Any]:
    """Everything the shop page shows: values with the platform each came from, the week,
    contact links, where to buy and every product."""
    golden = shop["golden"]

    def value(field: str) -> Any:
        entry = golden.get(field)
        return entry["value"] if entry else None

    fields = []
    for field, label in SHOP_FIELDS:
        raw = value(field)
        if raw in (None, "", []):
            continue
        shown: Any = raw
        if field == "category":
            shown = taxonomy.label(raw) or str(raw).capitalize()
        elif field == "services":
            items = raw if isinstance(raw, list) else str(raw).split(",")
            shown = ", ".join(view.SERVICES.get(s.strip(), s.strip()) for s in items)
        elif field == "phone":
            shown = view.phone_text(str(raw))
        source = golden[field]["platform"]
        fields.append(
            {
                "field": field,
                "label": label,
                "value": shown,
                "href": {
                    "phone": view.tel_href(raw),
                    "email": view.mailto_href(raw),
                    "website": view.web_url(raw),
                }.get(field),
                "source": names.get(source, source),
            }
        )
    services = value("services") or []
    pickup = "click_and_collect" in (services if isinstance(services, list) else [services])
    entity = runtime.store.get_entity(shop["entity_id"])
    offers: dict[str, dict[str, Any]] = {}
    if entity is not None:
        stored = runtime.store.offers_of((m.platform, m.source_id) for m in entity.members)
        for record in sorted(stored, key=lambda s: str(s.record.get("title", ""))):
            offer = OfferRecord.model_validate(record.record)
            item = _offer_view(offer, pickup)
            item["platform_name"] = names.get(offer.platform, offer.platform)
            offers.setdefault(key(offer.title), item)
    hours = value("opening_hours")
    return {
        "shop": shop,
        "name": value("name") or shop["entity_id"],
        "fields": fields,
        "status": view.open_status(hours, now),
        "week": view.week_table(hours, now),
        "hours_text": hours,
        "tel": view.tel_href(value("phone")),
        "phone": view.phone_text(str(value("phone"))) if value("phone") else None,
        "mailto": view.mailto_href(value("email")),
        "website": view.web_url(value("website")),
        "listings": listings_view(shop["listings"], names),
        "offers": list(offers.values()),
        "names": [n for n in shop["names"] if n != value("name")],
        "report_fields": [(f["field"], f["label"]) for f in fields],
    }
