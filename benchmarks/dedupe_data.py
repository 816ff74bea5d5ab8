"""Synthetic French shop listings with known duplicates, for ``benchmarks/dedupe.py``.

``generate(n_records, seed)`` draws shops across ~95 départements (Zipf-sized communes, several
postcodes for big towns, chains with one name and website in many towns, namesakes such as
"Boulangerie du Centre"), lists each on 1-5 of eight platforms (about 23% of the records are
duplicates, 1% listed twice by one platform) and writes every listing with its platform's noise:
legal forms, dropped articles, capitals, missing accents, typos, street abbreviations, house
numbers "12bis"/"12 B", whole addresses in one field, phone formats, a mobile instead of the
landline, Facebook pages instead of a website, OSM tags and NAF codes for categories, points
10-60 m apart (sometimes hundreds), missing fields. Same ``(n_records, seed)``, same records.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

try:
    from dedupe_shops import ACCENTS, Shops
    from dedupe_vocab import CATEGORIES, STREET_TYPES
except ImportError:  # imported as benchmarks.dedupe_data (tests)
    from benchmarks.dedupe_shops import ACCENTS, Shops
    from benchmarks.dedupe_vocab import CATEGORIES, STREET_TYPES

COLUMNS = (
    "platform", "source_id", "name", "address", "postcode", "city", "phone", "email",
    "website", "siret", "category", "lat", "lon",
)  # fmt: skip
_ABBREVIATIONS = {t[0]: t[2] for t in STREET_TYPES}


@dataclass(frozen=True)
class Profile:
    """A platform: how many shops it lists and how sloppy its data is (probabilities)."""

    share: float
    upper: float = 0.05
    accents: float = 0.1
    typo: float = 0.04
    legal: float = 0.2
    abbreviate: float = 0.3
    one_field: float = 0.0
    no_address: float = 0.03
    no_postcode: float = 0.03
    no_phone: float = 0.1
    no_geo: float = 0.08
    no_email: float = 0.3
    no_website: float = 0.2
    siret: float = 0.3
    phone_style: int = 0
    label: int = 0


PLATFORMS: dict[str, Profile] = {
    "toutoulouse": Profile(0.30),
    "clickn_co": Profile(0.20, upper=0.1, accents=0.35, typo=0.06, abbreviate=0.5, one_field=0.25,
                         phone_style=1, no_geo=0.12),
    "tous_occitariens": Profile(0.10, accents=0.2, phone_style=2, no_website=0.35, label=1),
    "dans_ma_zone": Profile(0.10, abbreviate=0.4, phone_style=3, no_email=0.4, label=1),
    "geolocal31": Profile(0.15, upper=0.08, legal=0.3, typo=0.05, phone_style=4, no_geo=0.2),
    "achat_local": Profile(0.10, one_field=1.0, no_postcode=1.0, no_geo=0.3, phone_style=1),
    "osm": Profile(0.10, legal=0.05, no_email=0.5, phone_style=3, label=2, siret=0.0),
    "sirene": Profile(0.05, upper=0.95, legal=0.7, abbreviate=0.7, no_phone=0.9, no_geo=0.5,
                      no_email=1.0, no_website=1.0, siret=1.0, label=3),
}  # fmt: skip
PLATFORM_NAMES = tuple(PLATFORMS)
PLATFORM_WEIGHTS = tuple(p.share for p in PLATFORMS.values())
#: Number of platforms listing a shop: 1 to 5 (about 23% of the records are duplicates).
LISTINGS_WEIGHTS = (80, 13, 5, 1.5, 0.5)


@dataclass
class Dataset:
    """Records as columns (one list per field) and the true shop of each record."""

    columns: dict[str, list]
    truth: list[int]

    def __len__(self) -> int:
        return len(self.truth)

    def true_pairs(self) -> int:
        counts: dict[int, int] = {}
        for shop in self.truth:
            counts[shop] = counts.get(shop, 0) + 1
        return sum(c * (c - 1) // 2 for c in counts.values())

    def digest(self) -> str:
        """A fingerprint of the records, to check two processes hold the same ones."""
        h = hashlib.sha256()
        for name in COLUMNS:
            h.update(repr(self.columns[name]).encode())
        return h.hexdigest()[:16]


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 2)
    k = rng.randrange(3)
    if k == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if k == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


_PHONE_STYLES = (
    lambda d: " ".join(d[i : i + 2] for i in range(0, 10, 2)),
    lambda d: ".".join(d[i : i + 2] for i in range(0, 10, 2)),
    lambda d: d,
    lambda d: "+33 " + d[1] + " " + " ".join(d[i : i + 2] for i in range(2, 10, 2)),
    lambda d: "+33" + d[1:],
)


def _listing(rng: random.Random, shop: tuple, p: Profile) -> list:
    (name, legal, category, number, suffix, kind, street, postcode, city, lat, lon, phone,
     mobile, email, website, siret) = shop  # fmt: skip
    r = rng.random
    if name.startswith(("Le ", "La ", "Les ", "L'")) and r() < 0.1:
        name = name.split(" ", 1)[1] if " " in name[:4] else name[2:]
    if legal and r() < p.legal:
        name = f"{legal} {name}" if r() < 0.5 else f"{name} {legal}"
    if " et " in name and r() < 0.4:
        name = name.replace(" et ", " & ")
    if r() < p.typo:
        name = _typo(rng, name)
    if r() < p.accents:
        name = name.translate(ACCENTS)
    if r() < p.upper:
        name = name.upper()
    address = None
    if r() >= p.no_address:
        num = number
        if suffix:
            num = number + rng.choice((" " + suffix, suffix, " " + suffix[0].upper(), suffix[0]))
        kind_text = kind
        if r() < p.abbreviate:
            kind_text = rng.choice(_ABBREVIATIONS[kind])
        text = street.replace("Saint-", "St ") if r() < p.abbreviate else street
        address = f"{num}{',' if r() < 0.1 else ''} {kind_text} {text}"
        if r() < 0.03:
            address = _typo(rng, address)
        if r() < p.accents:
            address = address.translate(ACCENTS)
        if r() < p.upper:
            address = address.upper()
    city_text = city if r() >= p.upper else city.upper()
    if r() < 0.1:
        city_text = city_text.replace("Saint-", "St ").replace("-", " ")
    if r() < 0.01:
        city_text += " Cedex"
    postcode_text = None if r() < p.no_postcode else postcode
    if address and r() < p.one_field:
        address = f"{address} {postcode} {city_text}"
        postcode_text = city_text = None
    phone_text = None
    if r() >= p.no_phone:
        digits = mobile if mobile and r() < 0.3 else phone
        phone_text = _PHONE_STYLES[p.phone_style if r() < 0.7 else rng.randrange(5)](digits)
        if mobile and r() < 0.05:
            phone_text += " / " + _PHONE_STYLES[2](mobile)
    email_text = email if email and r() >= p.no_email else None
    site = website if website and r() >= p.no_website else None
    if site and not site.startswith("https://www.facebook") and r() < 0.5:
        site = rng.choice(("http://", "https://")) + site + rng.choice(("", "/", "/contact"))
    siret_text = siret if siret and r() < p.siret else None
    if siret_text and r() < 0.3:
        siret_text = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    labels = CATEGORIES[category][2]
    label = labels[min(p.label, len(labels) - 1)] if r() < 0.8 else rng.choice(labels)
    out_lat = out_lon = None
    if r() >= p.no_geo:
        far = r() < 0.05
        d, a = (rng.uniform(100, 400) if far else rng.uniform(5, 60)), rng.uniform(0, 6.283)
        out_lat = round(lat + d * math.cos(a) / 111_200, 6)
        out_lon = round(lon + d * math.sin(a) / (111_200 * math.cos(math.radians(lat))), 6)
    return [name, address, postcode_text, city_text, phone_text, email_text, site, siret_text,
            label, out_lat, out_lon]  # fmt: skip


def generate(n_records: int, seed: int = 2020) -> Dataset:
    """``n_records`` listings of about ``n_records / 1.3`` shops; deterministic."""
    rng = random.Random(seed)
    shops = Shops(rng, max(1, int(n_records / 1.29)))
    listings: list[tuple[int, str]] = []
    counts = rng.choices(range(1, 6), weights=LISTINGS_WEIGHTS, k=len(shops.rows))
    for shop, k in enumerate(counts):
        chosen: set[str] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(PLATFORM_NAMES, weights=PLATFORM_WEIGHTS)[0])
        for platform in sorted(chosen):
            listings.append((shop, platform))
            if rng.random() < 0.01:
                listings.append((shop, platform))
        if len(listings) >= n_records:
            break
    del listings[n_records:]
    rng.shuffle(listings)
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    truth: list[int] = []
    serial = dict.fromkeys(PLATFORM_NAMES, 0)
    fields = COLUMNS[2:]
    appenders = [columns[f].append for f in fields]
    for shop, platform in listings:
        serial[platform] += 1
        columns["platform"].append(platform)
        columns["source_id"].append(f"{platform[:3].upper()}{serial[platform]:07d}")
        values = _listing(rng, shops.rows[shop], PLATFORMS[platform])
        for append, value in zip(appenders, values, strict=True):
            append(value)
        truth.append(shop)
    return Dataset(columns, truth)


if __name__ == "__main__":
    import sys
    import time

    started = time.perf_counter()
    data = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    print(f"{len(data)} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for i in range(min(len(data), 30)):
        print(data.truth[i], [data.columns[c][i] for c in COLUMNS])
