"""The true shops behind the benchmark's listings (see ``dedupe_data.py``).

Communes in ~95 départements (Zipf-sized, several postcodes for the biggest), and per shop: a
name from its category's templates (or a chain's brand), a legal form now and then, a house
number (sometimes bis/ter) on one of its commune's streets, a point, a landline (and sometimes a
mobile), and for some an e-mail, a website (or a Facebook page) and a valid SIRET. Chains share
their website and SIREN.
"""

from __future__ import annotations

import math
import random
import re

try:
    from dedupe_vocab import (
        CATEGORIES,
        CHAINS,
        COMMUNE_ROOTS,
        COMMUNE_SUFFIXES,
        COMMUNE_TAILS,
        EMAIL_PROVIDERS,
        FIRST_NAMES,
        LEGAL_FORMS,
        STREET_NAMES,
        STREET_TYPES,
        SURNAMES,
        SYLLABLES,
    )  # fmt: skip
except ImportError:  # imported as benchmarks.dedupe_shops (tests)
    from benchmarks.dedupe_vocab import (
        CATEGORIES,
        CHAINS,
        COMMUNE_ROOTS,
        COMMUNE_SUFFIXES,
        COMMUNE_TAILS,
        EMAIL_PROVIDERS,
        FIRST_NAMES,
        LEGAL_FORMS,
        STREET_NAMES,
        STREET_TYPES,
        SURNAMES,
        SYLLABLES,
    )  # fmt: skip

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
ACCENTS = str.maketrans("éèêëàâäîïôöûüùçÉÈÊÀÂÎÔÛÇœ", "eeeeaaaiioouuucEEEAAIOUCo")


def _luhn_complete(prefix: str) -> str:
    """``prefix`` and the check digit that makes it pass Luhn (as SIREN and SIRET do)."""
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        v = int(ch) * (1 if i % 2 else 2)
        total += v - 9 if v > 9 else v
    return prefix + str(-total % 10)


def _communes(rng: random.Random, count: int) -> list[tuple]:
    """(postcodes, city, lat, lon, radius_km, streets) per commune, biggest first per dept."""
    communes = []
    depts = [d for d in range(1, 96) if d != 20]
    per_dept = max(1, count // len(depts))
    for k, dept in enumerate(depts):
        dlat, dlon = 43.0 + (k // 10) * 0.85, -1.5 + (k % 10) * 0.85
        used: set[str] = set()
        for rank in range(per_dept):
            root = rng.choice(COMMUNE_ROOTS)
            name = root + rng.choice(COMMUNE_SUFFIXES)
            if rng.random() < 0.2:
                name = "Saint-" + rng.choice(SURNAMES)
            if rng.random() < 0.15:
                name += "-" + rng.choice(COMMUNE_TAILS)
            while name in used:
                name += rng.choice(SYLLABLES)
            used.add(name)
            n_codes = 5 if rank == 0 else 2 if rank < 3 else 1
            base = dept * 1000 + (rank * 10) % 1000
            codes = tuple(
                f"{base + 100 * i if rank == 0 else base + i:05d}" for i in range(n_codes)
            )
            weight = 1.0 / (rank + 1) ** 0.9
            radius = 4.0 if rank == 0 else 2.0 if rank < 5 else 0.8
            n_streets = max(6, int(160 * weight))
            streets = []
            for _ in range(n_streets):
                kind = rng.choices(STREET_TYPES, weights=[t[1] for t in STREET_TYPES])[0]
                streets.append((kind[0], rng.choice(STREET_NAMES)))
            lat = dlat + rng.uniform(-0.35, 0.35)
            lon = dlon + rng.uniform(-0.35, 0.35)
            communes.append((codes, name, lat, lon, radius, tuple(streets), weight))
    return communes


class Shops:
    """The true shops: parallel tuples, one per shop."""

    def __init__(self, rng: random.Random, n: int) -> None:
        communes = _communes(rng, max(200, n // 120))
        cats = list(CATEGORIES)
        picked = rng.choices(communes, weights=[c[6] for c in communes], k=n)
        kinds = rng.choices(cats, weights=[CATEGORIES[c][0] for c in cats], k=n)
        self.rows: list[tuple] = []
        brand_sirens = {b: _luhn_complete(f"{rng.randrange(10**7, 10**8)}") for b, _ in CHAINS}
        for i in range(n):
            commune, category = picked[i], kinds[i]
            codes, city, clat, clon, radius, streets, _ = commune
            chain = None
            if rng.random() < 0.03:
                chain, category = rng.choice(CHAINS)
                name = chain
            else:
                template = rng.choice(CATEGORIES[category][1])
                name = template.format(
                    s=rng.choice(SURNAMES), f=rng.choice(FIRST_NAMES), c=city,
                    w=rng.choice(STREET_NAMES),
                )  # fmt: skip
            legal = rng.choice(LEGAL_FORMS) if chain is None and rng.random() < 0.35 else None
            number = str(min(rng.randint(1, 80), rng.randint(1, 250)))
            roll = rng.random()
            suffix = "bis" if roll < 0.05 else "ter" if roll < 0.06 else ""
            kind, street = rng.choice(streets)
            d, a = radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = clat + d * math.cos(a) / 111.2
            lon = clon + d * math.sin(a) / (111.2 * math.cos(math.radians(clat)))
            prefix = "0" + str(min(5, 1 + int(codes[0][:2]) // 20))
            phone = prefix + f"{rng.randrange(10**8):08d}"
            mobile = f"0{rng.choice('67')}{rng.randrange(10**8):08d}" if roll < 0.35 else None
            slug = _slug(name)
            town = _slug(city)[:8]
            own = f"{slug}-{town}{_base36(i)}"  # one shop's own domain (namesakes differ)
            if chain:
                website = f"www.{slug}.fr"
                email = f"{town}{_base36(i)}@{slug}.fr"
                siret = _luhn_complete(brand_sirens[chain] + f"{rng.randrange(1, 9999):04d}")
            else:
                r = rng.random()
                website = f"www.{own}.fr" if r < 0.35 else None
                if r > 0.9:
                    website = f"https://www.facebook.com/{slug}{i}"
                r = rng.random()
                email = (
                    f"contact@{own}.fr"
                    if r < 0.25
                    else f"{slug}{_base36(i)}@{rng.choice(EMAIL_PROVIDERS)}"
                    if r < 0.55
                    else None
                )
                siret = None
                if rng.random() < 0.5:
                    siren = _luhn_complete(f"{rng.randrange(10**7, 10**8)}")
                    siret = _luhn_complete(siren + "0001")
            self.rows.append(
                (name, legal, category, number, suffix, kind, street, rng.choice(codes),
                 city, lat, lon, phone, mobile, email, website, siret)
            )  # fmt: skip


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        if not number:
            return digits


def _slug(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower().translate(ACCENTS))
