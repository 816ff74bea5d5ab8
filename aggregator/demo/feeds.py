"""The feeds of the other demo platforms: Géo'local31's map layer and Dans ma zone's per-shop
Google Merchant feeds, rendered from the platform listings, with their registrations."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from aggregator.models import ConnectorRegistration

GEOLOCAL31_PATH = "/geolocal31/commerces.geojson"
DANS_MA_ZONE_PREFIX = "/dans_ma_zone/flux/"
GEOLOCAL31_MAPPING = {
    "source_id": "identifiant",
    "name": "nom",
    "address": "adresse",
    "postcode": "code_postal",
    "city": "commune",
    "phone": "telephone",
    "email": "courriel",
    "website": "site",
    "siret": "siret",
    "category": "activite",
    "opening_hours": "horaires",
    "description": "presentation",
    "url": "lien",
}


def geolocal31_geojson(records: Iterable[dict[str, Any]]) -> bytes:
    """A FeatureCollection as a map viewer publishes it: one Point per shop."""
    features = []
    for r in records:
        located = r.get("lat") is not None and r.get("lon") is not None
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                if located
                else None,
                "properties": {
                    "identifiant": r["source_id"],
                    "nom": r["name"],
                    "adresse": r.get("address"),
                    "code_postal": r.get("postcode"),
                    "commune": r.get("city"),
                    "telephone": r.get("phone"),
                    "courriel": r.get("email"),
                    "site": r.get("website"),
                    "siret": r.get("siret"),
                    "activite": r.get("category"),
                    "horaires": r.get("opening_hours"),
                    "presentation": r.get("description"),
                    "lien": r.get("url"),
                },
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def dans_ma_zone_feed(record: dict[str, Any]) -> bytes:
    """One shop's product feed in Google Merchant RSS 2.0 (the ``g:`` namespace)."""
    pickup = "click_and_collect" in (record.get("services") or [])
    items = []
    for product in record.get("products") or []:
        fields = [
            f"<g:id>{escape(str(product['source_id']))}</g:id>",
            f"<title>{escape(product['title'])}</title>",
            f"<link>{escape(record['url'])}#{escape(str(product['source_id']))}</link>",
            f"<g:price>{product['price']:.2f} {escape(product.get('currency') or 'EUR')}</g:price>",
            "<g:availability>in stock</g:availability>",
        ]
        if pickup:
            fields += [
                "<g:pickup_method>reserve</g:pickup_method>",
                "<g:pickup_SLA>same day</g:pickup_SLA>",
            ]
        items.append("<item>" + "".join(fields) + "</item>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>'
        f"<title>{escape(record['name'])}</title><link>{escape(record['url'])}</link>"
        "<description>Catalogue</description>" + "".join(items) + "</channel></rss>"
    )
    return body.encode("utf-8")


def more_registrations(
    base_url: str, listings: dict[str, list[dict[str, Any]]], schedule: str | None = None
) -> list[ConnectorRegistration]:
    """Géo'local31 as one geojson connector; Dans ma zone as one merchant feed per shop."""
    base = base_url.rstrip("/")
    registrations = []
    if "geolocal31" in listings:
        registrations.append(
            ConnectorRegistration(
                platform="geolocal31",
                kind="geojson",
                url=base + GEOLOCAL31_PATH,
                name="Géo'local31 (démo)",
                schedule=schedule,
                options={"source_id_from": "id"},
                mapping=dict(GEOLOCAL31_MAPPING),
            )
        )
    for record in listings.get("dans_ma_zone", []):
        shop = {
            key: record.get(key)
            for key in (
                "source_id",
                "name",
                "address",
                "postcode",
                "city",
                "phone",
                "email",
                "website",
                "siret",
                "category",
                "description",
                "lat",
                "lon",
                "opening_hours",
                "url",
                "services",
            )
            if record.get(key) not in (None, "", [])
        }
        registrations.append(
            ConnectorRegistration(
                id=f"dans-ma-zone-{record['source_id'].lower()}",
                platform="dans_ma_zone",
                kind="merchant_feed",
                url=f"{base}{DANS_MA_ZONE_PREFIX}{record['source_id'].lower()}.xml",
                name=f"Dans ma zone: {record['name']} (démo)",
                schedule=schedule,
                options={"format": "rss", "shop": shop},
            )
        )
    return registrations
