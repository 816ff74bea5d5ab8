"""An entity's JSON form (``entity.model_dump(mode="json")``) read straight from its models.

A full matching encodes every entity for its row and its document hash; pydantic's serializer
walks every field's schema for each of a million entities. The models a matching builds hold
plain values only (text, finite numbers, lists of text), so their JSON form is their fields
as they are: :func:`entity_json` reads them so, and leaves anything else (a value of another
type, a NaN) to pydantic, which writes it as before.
"""

from __future__ import annotations

from typing import Any

from aggregator.models import Entity, OfferRecord

#: The fields of an offer's JSON form, in declaration order.
_OFFER_FIELDS = tuple(OfferRecord.model_fields)


def _plain(value: Any) -> bool:
    """Whether ``value`` is its own JSON form, and one orjson writes as ``json.dumps`` does:
    text, an integer within 64 bits, None, a float of zero or from 1e-4 to below 1e16 in size
    (outside, the two write exponents otherwise; NaN and infinities are no JSON), a list of
    texts."""
    kind = type(value)
    if kind is str or value is None:
        return True
    if kind is int:
        return -(1 << 63) <= value < (1 << 63)
    if kind is float:
        return value == 0.0 or 1e-4 <= abs(value) < 1e16
    if kind is list:
        return all(type(item) is str for item in value)
    return False


def entity_json(entity: Entity) -> dict[str, Any]:
    """``entity.model_dump(mode="json")``, equal value for value."""
    plain = plain_json(entity)
    return plain if plain is not None else entity.model_dump(mode="json")


def plain_json(entity: Entity) -> dict[str, Any] | None:
    """The entity's JSON form when it holds plain values only (see ``_plain``), else None."""
    fields: dict[str, Any] = {}
    for name, item in entity.golden.fields.items():
        shown = item.__dict__
        value = shown["value"]
        if not _plain(value):
            return None
        fields[name] = {
            "value": list(value) if type(value) is list else value,
            "platform": shown["platform"],
            "source_id": shown["source_id"],
        }
    offers = []
    for offer in entity.offers:
        held = offer.__dict__
        if type(held.get("price")) not in (float, type(None)) or not all(
            type(held.get(f)) in (str, type(None)) for f in _OFFER_FIELDS if f != "price"
        ):
            return None
        if held["price"] is not None and not _plain(held["price"]):
            return None
        offers.append({f: held.get(f) for f in _OFFER_FIELDS})
    return {
        "entity_id": entity.entity_id,
        "members": [{"platform": m.platform, "source_id": m.source_id} for m in entity.members],
        "golden": {"fields": fields, "chosen": dict(entity.golden.chosen)},
        "listings": [
            {"platform": x.platform, "source_id": x.source_id, "url": x.url, "name": x.name}
            for x in entity.listings
        ],
        "names": list(entity.names),
        "offers": offers,
    }
