"""A deterministic, realistic Toulouse-area catalogue of shops and products: the demo's truth."""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field

from aggregator.demo.data.names import (
    CATEGORIES,
    CHAINS,
    COMMON_NAMES,
    EMAIL_PROVIDERS,
    FIRST_NAMES,
    LEGAL_FORMS,
    SURNAMES,
)
from aggregator.demo.data.places import COMMUNES, LANDLINE_PREFIXES, Commune
from aggregator.demo.data.products import PRODUCTS, TAKEAWAY_CATEGORIES

KM_PER_DEGREE_LAT = 111.2
#: The platform built from the chambers' own registries (Géo'local31's map layer): where the
#: listings that only a person can match come from.
REGISTRY = "geolocal31"
#: The cases a real catalogue holds that no score settles, one of each per
#: :data:`SHOPS_PER_HARD_CASE` shops: the registry still shows where a shop was before it
#: moved; it lists a shop by name and town only; it abbreviates the shop's sign; a chain opens
#: a second branch a few streets from the first (a different shop with the same name).
HARD_CASES = ("moved", "sparse", "abbreviated", "branch")
SHOPS_PER_HARD_CASE = 150


@dataclass(frozen=True)
class DemoProduct:
    product_id: str
    name: str
    price: float
    currency: str = "EUR"


@dataclass
class DemoShop:
    """One real shop of the demo world; every platform listing derives from it."""

    true_id: str
    name: str
    legal_form: str | None
    category: str
    house_number: str
    street_name: str
    postcode: str
    city: str
    zone: str
    lat: float
    lon: float
    phone: str
    email: str | None
    website: str | None
    siret: str | None
    opening_hours: str | None
    services: tuple[str, ...]
    description: str
    products: list[DemoProduct] = field(default_factory=list)
    #: The chain the shop belongs to, if any (its name is shared with other shops).
    chain: str | None = None
    #: A case a chamber must judge (:data:`HARD_CASES`): how the chambers' registry
    #: (:data:`REGISTRY`) lists this shop, or ``"branch"`` for a chain's branch next door.
    hard_case: str | None = None
    #: A shop that moved: the street and point it had, which the registry still shows.
    former: tuple[str, float, float] | None = None

    @property
    def street(self) -> str:
        return f"{self.house_number} {self.street_name}"


@dataclass
class Catalogue:
    seed: int
    shops: list[DemoShop]

    def by_id(self) -> dict[str, DemoShop]:
        return {shop.true_id: shop for shop in self.shops}


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_accents(text).lower()).strip("-")


def format_phone(national: str, style: str) -> str:
    """A national number (``05 61 22 33 44``) in one of ``PHONE_STYLES``."""
    digits = national.replace(" ", "")
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    if style == "dotted":
        return ".".join(pairs)
    if style == "compact":
        return digits
    if style == "intl_spaced":
        return "+33 " + digits[1] + " " + " ".join(pairs[1:])
    if style == "intl_compact":
        return "+33" + digits[1:]
    return " ".join(pairs)


def luhn_valid(digits: str) -> bool:
    """The Luhn check SIREN and SIRET numbers pass."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the one check digit that makes it pass Luhn."""
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def random_siret(rng: random.Random, siren: str | None = None) -> str:
    siren = siren or luhn_complete(str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=7)))
    return luhn_complete(siren + f"{rng.randint(1, 999):04d}")


def _pick_commune(rng: random.Random, exclude: Collection[tuple[str, str]] = ()) -> Commune:
    choices = [c for c in COMMUNES if (c.postcode, c.city) not in exclude]
    return rng.choices(choices, weights=[c.weight for c in choices])[0]


def _place(rng: random.Random, commune: Commune) -> tuple[float, float]:
    distance = commune.radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(angle) / KM_PER_DEGREE_LAT
    dlon = distance * math.sin(angle) / (KM_PER_DEGREE_LAT * math.cos(math.radians(commune.lat)))
    return round(commune.lat + dlat, 6), round(commune.lon + dlon, 6)


def _name(rng: random.Random, category: str, commune: Commune) -> str:
    template = rng.choice(CATEGORIES[category][1])
    bare, de_form = rng.choice(commune.quarters)
    if commune.city != "Toulouse" and rng.random() < 0.5:
        bare, de_form = commune.city, ("d'" if commune.city[0] in "AEIOU" else "de ") + commune.city
    if bare.startswith(("Le ", "La ", "Les ", "L'")):
        bare = de_form
    name = template.format(
        surname=rng.choice(SURNAMES), first=rng.choice(FIRST_NAMES), q=bare, dq=de_form
    )
    return re.sub(r"\b([Dd])e (?=[AEIOUYÉÈ])", r"\1'", name)


def _house_number(rng: random.Random) -> str:
    number = str(min(rng.randint(1, 60), rng.randint(1, 160)))
    roll = rng.random()
    return number + (" bis" if roll < 0.08 else " ter" if roll < 0.10 else "")


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        if rng.random() < 0.8:
            digits = "05" + rng.choice(LANDLINE_PREFIXES) + f"{rng.randint(0, 999999):06d}"
        else:  # allocated mobile ranges only (06 39 and 06 9x mostly are not)
            block = rng.choice(
                (f"06{rng.randint(10, 38)}", f"06{rng.randint(40, 89)}", f"07{rng.randint(50, 89)}")
            )
            digits = block + f"{rng.randint(0, 999999):06d}"
        if digits not in used:
            used.add(digits)
            return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _unique(stem: str, tail: str, commune: Commune, taken: set[str], sep: str = "-") -> str:
    """``stem + tail`` unless another shop has it: namesakes add their town, then postcode."""
    for extra in ("", sep + slugify(commune.city).replace("-", sep), sep + commune.postcode):
        candidate = stem + extra + tail
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise ValueError(f"{stem}{tail} is taken, even with {commune.city} and its postcode")


def _services(rng: random.Random, category: str) -> tuple[str, ...]:
    services = []
    if rng.random() < 0.55:
        services.append("click_and_collect")
    if rng.random() < (0.5 if category in ("restaurant", "pizzeria", "epicerie") else 0.2):
        services.append("delivery")
    if category in TAKEAWAY_CATEGORIES and rng.random() < 0.8:
        services.append("takeaway")
    return tuple(services)


def _products(rng: random.Random, true_id: str, category: str) -> list[DemoProduct]:
    pool = PRODUCTS[category]
    count = 0 if rng.random() < 0.15 else rng.randint(1, min(8, len(pool)))
    chosen = rng.sample(pool, count)
    return [
        DemoProduct(f"{true_id}-p{i + 1}", name, round(round(rng.uniform(low, high) * 20) / 20, 2))
        for i, (name, low, high) in enumerate(chosen)
    ]


def _shop(
    rng: random.Random,
    index: int,
    category: str,
    commune: Commune,
    name: str,
    taken: set[str],
    chain: tuple[str, str | None, str | None] | None = None,
) -> DemoShop:
    true_id = f"shop-{index:04d}"
    _, hours, sentences = CATEGORIES[category][1:]
    lat, lon = _place(rng, commune)
    slug = slugify(name)
    chain_name, chain_site, chain_siren = chain or (None, None, None)
    website, email = chain_site, None
    if not chain_site and rng.random() < 0.4:
        website = "https://www." + _unique(slug, rng.choice((".fr", ".fr", ".com")), commune, taken)
    if rng.random() < 0.6:
        email = (
            f"contact@{website.split('www.', 1)[1]}"
            if website and not chain_site
            else _unique(
                slug.replace("-", "."), "@" + rng.choice(EMAIL_PROVIDERS), commune, taken, "."
            )
        )
    siret = random_siret(rng, chain_siren) if chain_siren or rng.random() < 0.6 else None
    description = " ".join(
        rng.sample(sentences, 2 if len(sentences) > 1 and rng.random() < 0.45 else 1)
    )
    return DemoShop(
        true_id=true_id,
        name=name,
        category=category,
        chain=chain_name,
        legal_form=rng.choice(LEGAL_FORMS) if rng.random() < 0.35 else None,
        house_number=_house_number(rng),
        street_name=rng.choice(commune.streets),
        postcode=commune.postcode,
        city=commune.city,
        zone=commune.zone,
        lat=lat,
        lon=lon,
        phone=_phone(rng, taken),
        email=email,
        website=website,
        siret=siret,
        opening_hours=rng.choice(hours) if rng.random() < 0.9 else None,
        services=_services(rng, category),
        description=description,
        products=_products(rng, true_id, category),
    )


def generate_catalogue(n_shops: int = 600, seed: int = 31) -> Catalogue:
    """The demo world: ``n_shops`` shops with chains and common names; same seed, same world."""
    rng = random.Random(seed)
    plan: list[tuple[str, str, int, bool]] = [
        (name, category, count, True) for name, category, count in CHAINS
    ] + [(name, category, count, False) for name, category, count in COMMON_NAMES]
    specials = sum(count for *_, count, _ in plan)
    if n_shops < 3 * specials:
        plan = []
    slots = list(range(1, n_shops + 1))
    rng.shuffle(slots)
    # The branches next door take the ids the loop below would have given last.
    branches = n_shops // SHOPS_PER_HARD_CASE if plan else 0
    reserved, slots = slots[:branches], slots[branches:]
    taken: set[str] = set()  # phones, domains and e-mail addresses: one shop each
    used: dict[str, set[tuple[str, str]]] = {}
    shops: list[DemoShop] = []
    for name, category, count, is_chain in plan:
        site = f"https://www.{slugify(name)}.fr" if is_chain else None
        siren = random_siret(rng)[:9] if is_chain else None
        for _ in range(count):
            commune = _pick_commune(rng, used.get(name, set()))
            used.setdefault(name, set()).add((commune.postcode, commune.city))
            chain = (name, site, siren) if is_chain else None
            shops.append(_shop(rng, slots.pop(), category, commune, name, taken, chain))
    categories = list(CATEGORIES)
    weights = [CATEGORIES[c][0] for c in categories]
    while slots:
        category = rng.choices(categories, weights=weights)[0]
        commune = _pick_commune(rng)
        name = _name(rng, category, commune)
        places = used.setdefault(name, set())
        if (commune.postcode, commune.city) in places or len(places) >= 2:
            continue
        places.add((commune.postcode, commune.city))
        shops.append(_shop(rng, slots.pop(), category, commune, name, taken))
    # Drawn apart, so that the rest of the world is the same with or without them.
    _hard_cases(random.Random(f"{seed}:hard"), shops, reserved, taken, n_shops)
    shops.sort(key=lambda shop: shop.true_id)
    return Catalogue(seed=seed, shops=shops)


def _moved(
    rng: random.Random, lat: float, lon: float, low_m: float, high_m: float
) -> tuple[float, float]:
    """A point ``low_m`` to ``high_m`` metres from (lat, lon), in any direction."""
    distance, angle = rng.uniform(low_m, high_m) / 1000, rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(angle) / KM_PER_DEGREE_LAT
    dlon = distance * math.sin(angle) / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _hard_cases(
    rng: random.Random, shops: list[DemoShop], reserved: list[int], taken: set[str], n: int
) -> None:
    """Mark the shops whose registry listing a person must judge, and open the branches next
    door (in ``reserved`` ids). Shops with a name of their own only: a namesake elsewhere
    would turn a hard case into a wrong one."""
    count = n // SHOPS_PER_HARD_CASE
    names = [shop.name for shop in shops]
    plain = [s for s in shops if s.chain is None and names.count(s.name) == 1]
    picked = rng.sample(plain, min(len(plain), 3 * count))
    for kind, shop in zip(("moved", "sparse", "abbreviated") * count, picked, strict=False):
        shop.hard_case = kind
        if kind == "moved":  # it was a few streets away; the registry was not told
            commune = next(
                c for c in COMMUNES if (c.postcode, c.city) == (shop.postcode, shop.city)
            )
            street = rng.choice([s for s in commune.streets if s != shop.street_name])
            lat, lon = _moved(rng, shop.lat, shop.lon, 300, 800)
            shop.former = (f"{_house_number(rng)} {street}", lat, lon)
    siblings = rng.sample(
        [s for s in shops if s.chain], min(len(reserved), sum(1 for s in shops if s.chain))
    )
    for slot, sibling in zip(reserved, siblings, strict=False):
        commune = next(
            c for c in COMMUNES if (c.postcode, c.city) == (sibling.postcode, sibling.city)
        )
        assert sibling.chain is not None  # drawn among chain shops
        chain = (sibling.chain, sibling.website, (sibling.siret or "")[:9] or None)
        branch = _shop(rng, slot, sibling.category, commune, sibling.name, taken, chain)
        branch.street_name = rng.choice([s for s in commune.streets if s != sibling.street_name])
        branch.lat, branch.lon = _moved(rng, sibling.lat, sibling.lon, 300, 700)
        branch.hard_case = "branch"
        shops.append(branch)
