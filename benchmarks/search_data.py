"""Realistic shops, offers and customer queries for ``benchmarks/search.py``, at any scale.

The demo catalogue's word lists (categories, name templates, hours, descriptions, products,
communes) give the French flavour; synthetic surnames, hamlets, streets and product qualifiers
give a region's vocabulary size (a million documents hold over a hundred thousand distinct words,
which is what makes typo expansion and prefixes cost what they cost in production).
Same seed, same data.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aggregator.demo.data.names import CATEGORIES, FIRST_NAMES, SURNAMES
from aggregator.demo.data.places import COMMUNES
from aggregator.demo.data.products import PRODUCTS
from aggregator.models import Entity, GoldenRecord, Listing, OfferRecord, Provenanced, RecordKey
from search import SearchQuery
from search.analysis import ONE_TYPO_FROM, key, words

PLATFORMS = ("toutoulouse", "click-n-co", "tous-occitariens", "dans-ma-zone", "geolocal31")
SERVICES = ("click_and_collect", "delivery", "takeaway")
ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "br",
    "cr",
    "gr",
    "pr",
    "tr",
    "ch",
)
VOWELS = (
    "a",
    "e",
    "i",
    "o",
    "u",
    "ou",
    "au",
    "ai",
    "è",
    "é",
)
CODAS = ["", "", "", "l", "n", "r", "s", "t", "c", "x", "rt", "nt", "ls"]
PLACE_ROOTS = (
    "Saint-{s}",
    "{s}",
    "{s}-sur-Garonne",
    "{s}-de-Lauragais",
    "Castel{l}",
    "Villeneuve-{s}",
    "Mont{l}",
    "{s}-Tolosane",
)
STREET_KINDS = ("rue", "avenue", "chemin", "place", "allée", "impasse", "route", "boulevard")
QUALIFIERS = (
    "bio",
    "artisanal",
    "fermier",
    "maison",
    "de saison",
    "du Lauragais",
    "de Gascogne",
    "des Pyrénées",
    "label rouge",
    "AOP",
    "500 g",
    "1 kg",
    "(lot de 6)",
    "tradition",
    "à l'ancienne",
    "sans gluten",
    "du terroir",
)
FILLER = (
    "accueil",
    "chaleureux",
    "conseils",
    "personnalisés",
    "depuis",
    "génération",
    "famille",
    "quartier",
    "marché",
    "producteurs",
    "locaux",
    "circuit",
    "court",
    "qualité",
    "fraîcheur",
    "savoir-faire",
    "artisan",
    "passion",
    "atelier",
    "commande",
    "retrait",
    "livraison",
    "domicile",
    "cadeaux",
    "entreprises",
    "fêtes",
    "fin",
    "année",
    "dégustation",
    "recettes",
    "traditionnelles",
    "occitanes",
    "ingrédients",
    "sélectionnés",
    "région",
    "Toulouse",
    "Garonne",
    "Pyrénées",
    "Gers",
    "Tarn",
    "Ariège",
    "Lauragais",
    "terrasse",
    "parking",
    "accessible",
    "paiement",
    "carte",
    "nouveautés",
    "chaque",
    "semaine",
    "horaires",
    "été",
    "hiver",
    "sur",
    "rendez-vous",
    "réservation",
    "groupe",
)


@dataclass(frozen=True)
class BenchQuery:
    """One customer query; ``typo`` says a word was mistyped (within Meilisearch's budget)."""

    query: SearchQuery
    typo: bool


@dataclass(frozen=True)
class Place:
    city: str
    postcode: str
    lat: float
    lon: float
    radius_km: float
    streets: tuple[str, ...]


def _syllables(rng: random.Random, count: int) -> str:
    return "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + (rng.choice(CODAS) if i == count - 1 else "")
        for i in range(count)
    )


class World:
    """The vocabulary of one region: towns, streets, surnames."""

    def __init__(self, seed: int, n_towns: int = 400, n_surnames: int = 6000):
        rng = random.Random(seed)
        self.surnames = list(SURNAMES) + [
            _syllables(rng, rng.choice((2, 2, 3))).capitalize() for _ in range(n_surnames)
        ]
        self.places: list[Place] = [
            Place(c.city, c.postcode, c.lat, c.lon, c.radius_km, c.streets) for c in COMMUNES
        ]
        for _ in range(n_towns):
            root = _syllables(rng, rng.choice((2, 3))).capitalize()
            name = rng.choice(PLACE_ROOTS).format(s=root, l=root.lower())
            distance, angle = 60 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = 43.6045 + distance * math.cos(angle) / 111.2
            lon = 1.4442 + distance * math.sin(angle) / (111.2 * math.cos(math.radians(43.6)))
            streets = tuple(
                f"{rng.choice(STREET_KINDS)} {rng.choice(('de', 'du', 'des'))} "
                f"{_syllables(rng, 2).capitalize()}"
                for _ in range(12)
            )
            postcode = f"31{rng.randint(0, 999):03d}"
            self.places.append(Place(name, postcode, lat, lon, 1.5, streets))
        self.weights = [8.0 if p.city == "Toulouse" else 1.0 for p in self.places]


def generate_entities(n_docs: int, seed: int = 31) -> Iterator[Entity]:
    """Entities until their shop and offer documents number ``n_docs`` (about 1 shop in 5)."""
    rng = random.Random(seed)
    world = World(seed)
    categories = list(CATEGORIES)
    weights = [CATEGORIES[c][0] for c in categories]
    produced, index = 0, 0
    while produced < n_docs:
        index += 1
        entity = _entity(rng, world, index, rng.choices(categories, weights)[0])
        entity.offers[:] = entity.offers[: max(0, n_docs - produced - 1)]
        produced += 1 + len({key(o.title) for o in entity.offers})
        yield entity


def _entity(rng: random.Random, world: World, index: int, category: str) -> Entity:
    place = rng.choices(world.places, world.weights)[0]
    _, templates, hours, sentences = CATEGORIES[category]
    surname, first = rng.choice(world.surnames), rng.choice(FIRST_NAMES)
    quarter = place.city
    name = rng.choice(templates).format(surname=surname, first=first, q=quarter, dq=f"de {quarter}")
    distance, angle = place.radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = round(place.lat + distance * math.cos(angle) / 111.2, 6)
    lon = round(place.lon + distance * math.sin(angle) / (111.2 * math.cos(math.radians(43.6))), 6)
    description = " ".join(rng.sample(sentences, 1)) + " " + " ".join(rng.sample(FILLER, 6))
    services = [s for s in SERVICES if rng.random() < (0.5 if s == "click_and_collect" else 0.2)]
    platforms = rng.sample(PLATFORMS, rng.choice((1, 1, 1, 2, 2, 3)))
    entity_id = f"ent-{index:07d}"
    values: dict[str, Any] = {
        "name": name,
        "category": category,
        "city": place.city,
        "postcode": place.postcode,
        "lat": lat,
        "lon": lon,
        "description": description,
        "services": services,
        "address": f"{rng.randint(1, 120)} {rng.choice(place.streets)}",
        "phone": "05 61 " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(3)),
        "opening_hours": rng.choice(hours) if rng.random() < 0.9 else None,
    }
    golden = GoldenRecord.model_construct(
        fields={
            k: Provenanced.model_construct(value=v, platform=platforms[0], source_id=entity_id)
            for k, v in values.items()
            if v is not None
        }
    )
    spellings = [name]
    if len(platforms) > 1 and rng.random() < 0.5:
        spellings.append(name.upper() if rng.random() < 0.5 else name.replace("de ", "d'"))
    pool = PRODUCTS.get(category, ())
    count = 0 if not pool or rng.random() < 0.1 else rng.randint(1, 8)
    offers = []
    for i in range(count):
        title, low, high = rng.choice(pool)
        if rng.random() < 0.7:
            title = f"{title} {rng.choice(QUALIFIERS)}"
        if rng.random() < 0.3:
            title = f"{title} {rng.choice(world.surnames)}"
        offers.append(
            OfferRecord.model_construct(
                platform=platforms[0],
                source_id=f"{entity_id}-o{i}",
                shop_source_id=entity_id,
                title=title,
                description=None,
                price=round(rng.uniform(low, high), 2),
                currency="EUR",
                availability="in_stock",
                category=category,
                url=f"https://{platforms[0]}.example/{entity_id}/o{i}",
                image_url=None,
            )
        )
    return Entity.model_construct(
        entity_id=entity_id,
        members=[RecordKey.model_construct(platform=p, source_id=entity_id) for p in platforms],
        golden=golden,
        listings=[
            Listing.model_construct(
                platform=p, source_id=entity_id, url=f"https://{p}.example/{entity_id}", name=name
            )
            for p in platforms
        ],
        names=spellings,
        offers=offers,
    )


def make_queries(sample: list[dict[str, Any]], count: int, seed: int = 7) -> list[BenchQuery]:
    """Queries a customer types: 1–3 words taken from a document (so it exists), 20% with one
    typo in a word long enough for one, half filtered by the document's city, a quarter within
    a few km of it; every query asks for the facets."""
    rng = random.Random(seed)
    queries: list[BenchQuery] = []
    while len(queries) < count:
        doc = rng.choice(sample)
        text = doc.get("title") or " ".join([doc["name"], doc.get("category") or ""])
        candidates = [w for w in words(text) if len(w) >= 3 and not w.isdigit()]
        if not candidates:
            continue
        size = min(len(candidates), rng.choice((1, 1, 2, 2, 3)))
        start = rng.randrange(len(candidates) - size + 1)
        chosen = candidates[start : start + size]
        typo = rng.random() < 0.2
        if typo:
            long_words = [i for i, w in enumerate(chosen) if len(w) >= ONE_TYPO_FROM]
            if not long_words:
                continue
            at = rng.choice(long_words)
            chosen[at] = _typo(rng, chosen[at])
        options: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.5 and doc.get("city"):
            options["city"] = doc["city"]
        elif roll < 0.75 and doc.get("lat") is not None:
            options.update(lat=doc["lat"], lon=doc["lon"], radius_m=rng.choice((1000, 3000, 8000)))
        text = " ".join(chosen)
        if rng.random() < 0.5:
            text += " "  # a finished word; otherwise the last word is still being typed
        queries.append(BenchQuery(SearchQuery(text=text, **options), typo))
    return queries


def _typo(rng: random.Random, word: str) -> str:
    """One edit away (never the first letter, as a phone keyboard slip rarely is), and still
    long enough for Meilisearch's rule to allow a typo (5 letters): a 4-letter word is searched
    exactly by both engines, so a typo there is a different word, not a tolerance test."""
    at = rng.randrange(1, len(word))
    edits = ["substitute", "insert"] + (["delete"] if len(word) > ONE_TYPO_FROM else [])
    edit = rng.choice(edits)
    if edit == "substitute":
        letter = rng.choice([c for c in string.ascii_lowercase if c != word[at]])
        return word[:at] + letter + word[at + 1 :]
    if edit == "delete":
        return word[:at] + word[at + 1 :]
    return word[:at] + rng.choice(string.ascii_lowercase) + word[at:]
