"""Platform views of the demo catalogue: who lists which shop, with each platform's noise.

``platform_listing`` returns the records in the platform's own shape (the JSON API record for
``toutoulouse``, the CSV row for ``clickn_co``, flat shop-field dicts for the others). Every record
also carries ``_true_id``, the bookkeeping the ground truth is read from; servers drop ``_`` keys.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aggregator.demo.data import noise
from aggregator.demo.data.names import SURNAMES
from aggregator.demo.data.profiles import LINK_PATHS, PLATFORMS, PROFILES, SOURCE_ID_FIELD, Profile
from aggregator.demo.generator import (
    REGISTRY,
    Catalogue,
    DemoShop,
    format_phone,
    slugify,
    strip_accents,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8031"


def source_id_field(platform: str) -> str:
    return SOURCE_ID_FIELD.get(platform, "source_id")


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip (swap, drop, double or replace a letter) inside the longest word."""
    word = max(re.findall(r"[^\W\d_]{5,}", text) or [""], key=len)
    if not word:
        return text
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == 1:
        new = word[:i] + word[i + 1 :]
    elif kind == 2:
        new = word[:i] + word[i] + word[i:]
    else:
        new = word[:i] + rng.choice("aeinorstu".replace(word[i].lower(), "")) + word[i + 1 :]
    return text.replace(word, new, 1)


def noisy_name(rng: random.Random, shop: DemoShop, p: Profile) -> str:
    name = shop.name
    first, _, rest = name.partition(" ")
    if rng.random() < p.article:
        if first in ("Le", "La", "Les", "Au", "Aux", "Chez") and rest:
            name = rest[0].upper() + rest[1:]
        elif name.startswith("L'"):
            name = name[2].upper() + name[3:]
        elif first in noise.ARTICLES:
            name = f"{noise.ARTICLES[first]} {name}"
        elif first in ("Restaurant", "Boucherie", "Salon") and rest in SURNAMES:
            name = f"Chez {rest}"
    if " et " in name and rng.random() < 0.5:
        name = name.replace(" et ", " & ")
    if "Saint-" in name and rng.random() < 0.3:
        name = name.replace("Saint-", rng.choice(("St-", "St ", "Saint ")))
    if shop.legal_form and rng.random() < p.legal:
        name = f"{name} {shop.legal_form}" if rng.random() < 0.6 else f"{shop.legal_form} {name}"
    if rng.random() < p.typo:
        name = typo(rng, name)
    if rng.random() < p.accents:
        name = strip_accents(name)
    return name.upper() if rng.random() < p.upper else name


def noisy_street(rng: random.Random, shop: DemoShop, p: Profile) -> str:
    number, street = shop.house_number, shop.street_name
    if " " in number and rng.random() < 0.5:
        digits, suffix = number.split(" ")
        number = digits + rng.choice((suffix, suffix.upper(), suffix[0].upper(), " " + suffix[0]))
    if rng.random() < p.abbreviate:
        for word, spellings in noise.STREET_ABBREVIATIONS.items():
            if re.search(rf"\b{word}\b", street) and rng.random() < 0.7:
                short = spellings[0] if rng.random() < 0.6 else rng.choice(spellings)
                street = re.sub(rf"\b{word}\b", short, street, count=1)
    text = f"{number}{',' if rng.random() < 0.1 else ''} {street}"
    if rng.random() < p.accents:
        text = strip_accents(text)
    return text.upper() if rng.random() < p.upper else text


def noisy_city(rng: random.Random, shop: DemoShop, p: Profile) -> str:
    if shop.city in noise.CITY_VARIANTS and rng.random() < 0.25:
        return rng.choice(noise.CITY_VARIANTS[shop.city])
    return strip_accents(shop.city) if rng.random() < p.accents else shop.city


def noisy_postcode(rng: random.Random, shop: DemoShop, p: Profile) -> str | None:
    if rng.random() < p.no_postcode:
        return None
    return "31000" if shop.city == "Toulouse" and rng.random() < 0.05 else shop.postcode


def noisy_phone(rng: random.Random, shop: DemoShop, p: Profile) -> str | None:
    if rng.random() < p.no_phone:
        return None
    style = p.phone_style if rng.random() < 0.6 else rng.choice(noise.PHONE_STYLES)
    return format_phone(shop.phone, style)


def noisy_geo(rng: random.Random, shop: DemoShop, p: Profile) -> tuple[float, float] | None:
    """The shop's point moved 10-60 m, or nothing."""
    if rng.random() < p.no_geo:
        return None
    distance, angle = rng.uniform(10, 60), rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(angle) / 111_200
    dlon = distance * math.sin(angle) / (111_200 * math.cos(math.radians(shop.lat)))
    return round(shop.lat + dlat, 6), round(shop.lon + dlon, 6)


def _maybe(rng: random.Random, value: str | None, missing: float) -> str | None:
    return None if value is None or rng.random() < missing else value


def _toutoulouse(
    rng: random.Random, shop: DemoShop, p: Profile, source_id: Any, name: str, link: str
) -> dict[str, Any]:
    geo = noisy_geo(rng, shop, p)
    return {
        "id": source_id,
        "name": name,
        "address": {
            "street": noisy_street(rng, shop, p),
            "postcode": noisy_postcode(rng, shop, p),
            "city": noisy_city(rng, shop, p),
        },
        "phone": noisy_phone(rng, shop, p),
        "email": _maybe(rng, shop.email, p.no_email),
        "website": _maybe(rng, shop.website, p.no_website),
        "category": shop.category,
        "siret": _maybe(rng, shop.siret, 0.5),
        "geo": {"lat": geo[0], "lng": geo[1]} if geo else None,
        "opening_hours": shop.opening_hours,
        "description": shop.description,
        "services": [s for s in shop.services if rng.random() < 0.9],
        "url": link,
        "products": [
            {
                "id": source_id * 100 + i,
                "name": product.name,
                "price": None if rng.random() < 0.03 else product.price,
                "currency": "EUR",
                "available": rng.random() < 0.9,
                "url": f"{link}?produit={source_id * 100 + i}",
            }
            for i, product in enumerate(shop.products, start=1)
        ],
    }


def _clickn_co(
    rng: random.Random, shop: DemoShop, p: Profile, source_id: Any, name: str, link: str
) -> dict[str, Any]:
    street, postcode = noisy_street(rng, shop, p), noisy_postcode(rng, shop, p) or ""
    city = noisy_city(rng, shop, p)
    if rng.random() < 0.25:  # the trader typed the whole address in one field
        street, postcode, city = f"{street} {postcode} {city}".replace("  ", " "), "", ""
    geo = noisy_geo(rng, shop, p)
    lat, lon = (f"{geo[0]:.6f}", f"{geo[1]:.6f}") if geo else ("", "")
    if rng.random() < 0.4:  # French spreadsheets write decimal commas
        lat, lon = lat.replace(".", ","), lon.replace(".", ",")
    return {
        "identifiant": source_id,
        "enseigne": name,
        "adresse": street,
        "code_postal": postcode,
        "ville": city,
        "telephone": noisy_phone(rng, shop, p) or "",
        "courriel": _maybe(rng, shop.email, p.no_email) or "",
        "site_web": _maybe(rng, shop.website, p.no_website) or "",
        "activite": noise.CLICKNCO_LABELS.get(shop.category, shop.category.capitalize()),
        "latitude": lat,
        "longitude": lon,
        "horaires": shop.opening_hours or "",
        "retrait_magasin": "oui" if "click_and_collect" in shop.services else "non",
        # The back office keeps the line breaks traders type between sentences.
        "description": shop.description.replace(". ", ".\n"),
        "lien": link,
    }


def _flat(
    rng: random.Random, shop: DemoShop, p: Profile, source_id: Any, name: str, link: str
) -> dict[str, Any]:
    geo = noisy_geo(rng, shop, p)
    return {
        "source_id": source_id,
        "name": name,
        "address": noisy_street(rng, shop, p),
        "postcode": noisy_postcode(rng, shop, p),
        "city": noisy_city(rng, shop, p),
        "phone": noisy_phone(rng, shop, p),
        "email": _maybe(rng, shop.email, p.no_email),
        "website": _maybe(rng, shop.website, p.no_website),
        "siret": shop.siret if rng.random() < 0.7 else None,
        "category": shop.category,
        "description": shop.description,
        "lat": geo[0] if geo else None,
        "lon": geo[1] if geo else None,
        "opening_hours": shop.opening_hours,
        "url": link,
        "services": list(shop.services),
        "products": [
            {
                "source_id": f"{source_id}-{i}",
                "title": product.name,
                "price": product.price,
                "currency": product.currency,
            }
            for i, product in enumerate(shop.products, start=1)
        ],
    }


def _selected(rng: random.Random, shop: DemoShop, p: Profile) -> bool:
    chance = p.share * p.zones.get(shop.zone, 1.0) * p.categories.get(shop.category, 1.0)
    return rng.random() < min(chance, 0.97)


def _ids(rng: random.Random, platform: str, count: int) -> list[str | int]:
    if platform == "toutoulouse":
        start, steps = 17, [rng.randint(1, 4) for _ in range(count)]
        return [start + sum(steps[:i]) for i in range(count)]
    if platform == "tousoccitariens":
        return [f"occ-{n:06x}" for n in rng.sample(range(0x100000, 0xFFFFFF), count)]
    prefix, first = {"clickn_co": ("CNC-", 101), "dans_ma_zone": ("DMZ", 4000)}.get(
        platform, ("G31-", 1)
    )
    numbers = sorted(rng.sample(range(first, first + count * 2), count))
    return [f"{prefix}{n:06d}" if prefix == "CNC-" else f"{prefix}{n:05d}" for n in numbers]


def _link(base_url: str, platform: str, source_id: str | int, name: str) -> str:
    tail = f"{slugify(name)}-{source_id}" if platform == "toutoulouse" else str(source_id).lower()
    return f"{base_url.rstrip('/')}/{LINK_PATHS[platform]}/{tail}"


def platform_listing(
    catalogue: Catalogue, platform: str, seed: int = 31, base_url: str = DEFAULT_BASE_URL
) -> list[dict[str, Any]]:
    """The platform's records for ``catalogue``, in its own shape; same inputs, same output."""
    if platform not in PROFILES:
        raise ValueError(f"unknown demo platform {platform!r}; known: {', '.join(PLATFORMS)}")
    profile, rng = PROFILES[platform], random.Random(f"{seed}:{platform}")
    picked: list[DemoShop] = []
    for shop in catalogue.shops:
        if _selected(rng, shop, profile):
            picked.append(shop)
            if rng.random() < profile.duplicate:
                picked.append(shop)
    rng.shuffle(picked)
    records = []
    for shop, source_id in zip(picked, _ids(rng, platform, len(picked)), strict=True):
        name = noisy_name(rng, shop, profile)
        link = _link(base_url, platform, source_id, name)
        shaper = {"toutoulouse": _toutoulouse, "clickn_co": _clickn_co}.get(platform, _flat)
        record = shaper(rng, shop, profile, source_id, name, link)
        record["_true_id"] = shop.true_id
        records.append(record)
    if platform == REGISTRY:
        _registry_entries(catalogue, records, profile, seed, base_url)
    return records


#: How a trades registry shortens the words of a shop's sign.
SIGN_ABBREVIATIONS = {
    "Boulangerie": "BOUL.",
    "Pâtisserie": "PAT.",
    "Boucherie": "BOUCH.",
    "Charcuterie": "CHARC.",
    "Fromagerie": "FROM.",
    "Épicerie": "EPIC.",
    "Restaurant": "REST.",
    "Pizzeria": "PIZZ.",
    "Librairie": "LIB.",
    "Quincaillerie": "QUINC.",
    "Bijouterie": "BIJ.",
    "Fleuriste": "FLEUR.",
    "Coiffure": "COIFF.",
    "Maison": "MAIS.",
    "Fruits": "FRTS",
    "Légumes": "LEG.",
    "Saint": "ST",
}


def abbreviated(name: str) -> str:
    """A shop's sign as a registry keeps it: capitals, no accents or articles, long words cut."""
    words = []
    for word in re.split(r"[\s']+", name):
        if word.casefold() in {"le", "la", "les", "l", "de", "du", "des", "d", "et", "au", "aux"}:
            continue
        short = SIGN_ABBREVIATIONS.get(word)
        words.append(short or (strip_accents(word)[:5] + "." if len(word) > 7 else word))
    return strip_accents(" ".join(words)).upper()


def _registry_entries(
    catalogue: Catalogue, records: list[dict[str, Any]], p: Profile, seed: int, base_url: str
) -> None:
    """The registry's view of the shops a person must judge (``DemoShop.hard_case``): their
    listing rewritten, or added when the registry did not list them yet. Its own random
    draws, so every other listing stays as it was."""
    numbers = [int(str(r["source_id"]).removeprefix("G31-")) for r in records]
    next_number = max(numbers, default=0) + 1
    for shop in catalogue.shops:
        if shop.hard_case not in ("moved", "sparse", "abbreviated"):
            continue
        rng = random.Random(f"{seed}:{REGISTRY}:{shop.true_id}")
        record = next((r for r in records if r["_true_id"] == shop.true_id), None)
        if record is None:
            source_id = f"G31-{next_number:05d}"
            next_number += 1
            name = noisy_name(rng, shop, p)
            record = _flat(
                rng, shop, p, source_id, name, _link(base_url, REGISTRY, source_id, name)
            )
            record["_true_id"] = shop.true_id
            records.append(record)
        gone: tuple[str, ...] = ("phone", "email", "website", "siret")
        if shop.hard_case == "moved" and shop.former:  # the point where it was; no street
            record["lat"], record["lon"] = shop.former[1], shop.former[2]
            gone += ("address",)
        elif shop.hard_case == "sparse":  # a name and a town, nothing else
            gone += ("address", "postcode", "lat", "lon")
        else:  # its sign abbreviated; the point geocoded to the street, not the door
            record["name"] = abbreviated(shop.name)
            moved = noisy_geo(rng, shop, replace(p, no_geo=0.0))
            assert moved is not None
            record["lat"], record["lon"] = moved
        for key in gone:
            record[key] = None


def ground_truth(
    catalogue: Catalogue, listings_by_platform: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[tuple[str, str, str]]:
    """``(platform, source_id, true_id)`` for every listing, each exactly once."""
    known = {shop.true_id for shop in catalogue.shops}
    rows: list[tuple[str, str, str]] = []
    for platform, listings in listings_by_platform.items():
        for record in listings:
            true_id = record["_true_id"]
            if true_id not in known:
                raise ValueError(f"{platform} lists {true_id!r}, which is not in the catalogue")
            rows.append((platform, str(record[source_id_field(platform)]), true_id))
    if len(set(rows)) != len(rows):
        raise ValueError("a platform uses the same source id twice")
    return rows


def write_truth_csv(path: str | Path, rows: Sequence[tuple[str, str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("platform", "source_id", "true_id"))
        writer.writerows(rows)
