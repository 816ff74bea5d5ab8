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
    if "tousoccitariens" in listings:
        registrations.append(tousoccitariens_registration(base, schedule))
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


TOUSOCCITARIENS_SITEMAP = "/tousoccitariens/sitemap.xml"


def tousoccitariens_jsonld(record: dict[str, Any]) -> str:
    """The producer's page markup: a schema.org LocalBusiness offering its products."""
    business: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "name": record["name"],
        "url": record["url"],
        "address": {
            "@type": "PostalAddress",
            "streetAddress": record.get("address"),
            "postalCode": record.get("postcode"),
            "addressLocality": record.get("city"),
            "addressCountry": "FR",
        },
    }
    for key, prop in (("phone", "telephone"), ("email", "email"), ("description", "description"),
                      ("opening_hours", "openingHours")):  # fmt: skip
        if record.get(key):
            business[prop] = record[key]
    if record.get("lat") is not None and record.get("lon") is not None:
        business["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": record["lat"],
            "longitude": record["lon"],
        }
    offers = [
        {
            "@type": "Offer",
            "price": f"{p['price']:.2f}",
            "priceCurrency": p.get("currency") or "EUR",
            "availability": "https://schema.org/InStock",
            "itemOffered": {"@type": "Product", "name": p["title"], "sku": p["source_id"]},
        }
        for p in record.get("products") or []
    ]
    if offers:
        business["makesOffer"] = offers
    # "<" escaped so merchant text can never close the script element.
    text = json.dumps(business, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/ld+json">{text}</script>'


def tousoccitariens_sitemap(records: Iterable[dict[str, Any]], lastmod: str) -> bytes:
    urls = "".join(
        f"<url><loc>{escape(r['url'])}</loc><lastmod>{lastmod}</lastmod></url>" for r in records
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def tousoccitariens_registration(
    base_url: str, schedule: str | None = None
) -> ConnectorRegistration:
    return ConnectorRegistration(
        platform="tousoccitariens",
        kind="schema_org",
        url=base_url.rstrip("/") + TOUSOCCITARIENS_SITEMAP,
        name="Tous Occitariens (démo)",
        schedule=schedule,
        options={"source": "sitemap", "politeness_delay_s": 0, "concurrency_per_host": 4},
    )
