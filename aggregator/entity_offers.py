"""Offers put on the entity of the shop record each belongs to, in one order everywhere."""

from __future__ import annotations

from collections.abc import Iterable

from aggregator.models import Entity, OfferRecord


def offers_by_shop(offers: Iterable[OfferRecord]) -> dict[str, list[OfferRecord]]:
    """``"platform:shop_source_id"`` -> the shop's offers, in (platform, source id) order."""
    by_shop: dict[str, list[OfferRecord]] = {}
    for offer in sorted(offers, key=lambda o: (o.platform, o.source_id)):
        if offer.shop_source_id is not None:
            by_shop.setdefault(f"{offer.platform}:{offer.shop_source_id}", []).append(offer)
    return by_shop


def attach(entity: Entity, offers: dict[str, list[OfferRecord]]) -> None:
    """Give ``entity`` the offers of its members, from :func:`offers_by_shop`."""
    if not offers:
        return
    found = [o for m in entity.members for o in offers.get(f"{m.platform}:{m.source_id}", ())]
    if len(entity.members) > 1:
        found.sort(key=lambda o: (o.platform, o.source_id))
    entity.offers.extend(found)


def attach_offers(entities: Iterable[Entity], offers: Iterable[OfferRecord]) -> None:
    """Each offer goes to the entity of the shop record it belongs to."""
    by_shop = offers_by_shop(offers)
    for entity in entities:
        attach(entity, by_shop)
