"""The demo platforms as data: who each lists, how sloppy, its ids, links, columns, mappings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FOOD = frozenset(
    {
        "boulangerie",
        "patisserie",
        "boucherie",
        "fromagerie",
        "epicerie",
        "primeur",
        "caviste",
        "cave",
    }
)
NON_FOOD = frozenset(
    {
        "librairie",
        "vetements",
        "chaussures",
        "bijouterie",
        "opticien",
        "sport",
        "quincaillerie",
        "artisanat",
        "beaute",
        "jouets",
        "fleuriste",
        "coiffure",
    }
)


@dataclass(frozen=True)
class Profile:
    """Who a platform lists and how sloppy its data is (probabilities per listing)."""

    share: float
    zones: Mapping[str, float] = field(default_factory=dict)
    categories: Mapping[str, float] = field(default_factory=dict)
    typo: float = 0.04
    accents: float = 0.1
    abbreviate: float = 0.3
    upper: float = 0.03
    legal: float = 0.2
    article: float = 0.1
    phone_style: str = "spaced"
    no_phone: float = 0.08
    no_geo: float = 0.06
    no_email: float = 0.2
    no_website: float = 0.15
    no_postcode: float = 0.03
    duplicate: float = 0.01


PROFILES: dict[str, Profile] = {
    "toutoulouse": Profile(0.88, {"north": 0.62, "west": 0.62, "east": 0.62, "southeast": 0.28}),
    "clickn_co": Profile(
        0.55,
        {"southeast": 1.75, "east": 0.82, "north": 0.45, "west": 0.45},
        typo=0.06,
        accents=0.3,
        abbreviate=0.5,
        upper=0.1,
        legal=0.25,
        phone_style="dotted",
        no_phone=0.1,
        no_geo=0.12,
    ),
    "tousoccitariens": Profile(
        0.12,
        categories={"producteur": 8.0, **dict.fromkeys(FOOD, 4.2)},
        accents=0.2,
        phone_style="compact",
        no_geo=0.1,
        no_website=0.3,
    ),
    "dans_ma_zone": Profile(
        0.15,
        categories=dict.fromkeys(NON_FOOD, 5.6),
        abbreviate=0.4,
        phone_style="intl_spaced",
        no_email=0.3,
    ),
    "geolocal31": Profile(
        0.35,
        typo=0.05,
        accents=0.15,
        upper=0.08,
        legal=0.3,
        phone_style="intl_compact",
        no_phone=0.12,
        no_geo=0.2,
    ),
}
PLATFORMS: tuple[str, ...] = tuple(PROFILES)

#: How the platforms call themselves (for the pages the demo server shows).
PLATFORM_NAMES: dict[str, str] = {
    "toutoulouse": "Toutoulouse",
    "clickn_co": "Click'n CO",
    "tousoccitariens": "Tous Occitariens",
    "dans_ma_zone": "Dans ma zone",
    "geolocal31": "Géo'local31",
}
#: The key holding the platform's own id in each platform's records.
SOURCE_ID_FIELD: dict[str, str] = {"toutoulouse": "id", "clickn_co": "identifiant"}
LINK_PATHS: dict[str, str] = {
    "toutoulouse": "toutoulouse/boutique",
    "clickn_co": "clickn_co/commerce",
    "tousoccitariens": "tousoccitariens/producteur",
    "dans_ma_zone": "dans_ma_zone/boutique",
    "geolocal31": "geolocal31/commerce",
}

#: The columns of the Click'n CO export, in order.
# fmt: off
CLICKNCO_COLUMNS = (
    "identifiant", "enseigne", "adresse", "code_postal", "ville", "telephone", "courriel",
    "site_web", "activite", "latitude", "longitude", "horaires", "retrait_magasin", "description",
    "lien",
)
# fmt: on

# Mappings read best as tables: record field -> source column or dotted path.
# fmt: off
TOUTOULOUSE_MAPPING = {
    "source_id": "id", "name": "name", "address": "address.street",
    "postcode": "address.postcode", "city": "address.city", "phone": "phone", "email": "email",
    "website": "website", "siret": "siret", "category": "category", "description": "description",
    "lat": "geo.lat", "lon": "geo.lng", "opening_hours": "opening_hours", "url": "url",
    "services": "services",
    "offer.source_id": "id", "offer.title": "name", "offer.price": "price",
    "offer.currency": "currency", "offer.url": "url",
}
CLICKNCO_MAPPING = {
    "source_id": "identifiant", "name": "enseigne", "address": "adresse",
    "postcode": "code_postal", "city": "ville", "phone": "telephone", "email": "courriel",
    "website": "site_web", "category": "activite", "lat": "latitude", "lon": "longitude",
    "opening_hours": "horaires", "description": "description", "url": "lien",
}
# fmt: on
