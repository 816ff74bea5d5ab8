"""The demo catalogue and its platform views: deterministic, realistic, with a complete truth."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter

import phonenumbers
import pytest

from aggregator.demo import PLATFORMS, generate_catalogue, ground_truth, platform_listing
from aggregator.demo.generator import Catalogue, format_phone, luhn_valid
from aggregator.demo.variations import write_truth_csv

CAPITOLE = (43.6045, 1.4440)
POSTCODES = {
    "31000": {"Toulouse"},
    "31100": {"Toulouse"},
    "31200": {"Toulouse"},
    "31300": {"Toulouse"},
    "31400": {"Toulouse"},
    "31500": {"Toulouse"},
    "31700": {"Blagnac"},
    "31770": {"Colomiers"},
    "31520": {"Ramonville-Saint-Agne"},
    "31130": {"Balma", "Quint-Fonsegrives"},
    "31240": {"L'Union", "Saint-Jean"},
    "31120": {"Portet-sur-Garonne"},
    "31670": {"Labège"},
    "31650": {"Saint-Orens-de-Gameville"},
    "31140": {"Aucamville", "Launaguet"},
    "31320": {"Castanet-Tolosan"},
    "31170": {"Tournefeuille"},
    "31270": {"Cugnaux"},
    "31750": {"Escalquens"},
}
CATEGORIES = {
    "boulangerie",
    "patisserie",
    "boucherie",
    "fromagerie",
    "epicerie",
    "primeur",
    "caviste",
    "fleuriste",
    "librairie",
    "coiffure",
    "restaurant",
    "pizzeria",
    "bar",
    "vetements",
    "chaussures",
    "bijouterie",
    "opticien",
    "quincaillerie",
    "producteur",
    "cave",
    "artisanat",
    "beaute",
    "sport",
    "jouets",
}
_DAYS = r"(Mo|Tu|We|Th|Fr|Sa|Su)(-(Mo|Tu|We|Th|Fr|Sa|Su))?"
_SPANS = r"\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)?"
OSM_HOURS = re.compile(rf"^{_DAYS} {_SPANS}(; {_DAYS} {_SPANS})*$")


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[0] - b[0]) * 111.2
    dx = (a[1] - b[1]) * 111.2 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return generate_catalogue()


@pytest.fixture(scope="module")
def listings(catalogue: Catalogue) -> dict[str, list[dict]]:
    return {platform: platform_listing(catalogue, platform) for platform in PLATFORMS}


def test_same_seed_same_world_different_seed_different_world() -> None:
    first, again, other = (
        generate_catalogue(150, seed=7),
        generate_catalogue(150, 7),
        generate_catalogue(150, 8),
    )
    assert first == again
    assert first != other
    assert [s.name for s in first.shops] != [s.name for s in other.shops]
    for platform in PLATFORMS:
        assert platform_listing(first, platform, seed=3) == platform_listing(again, platform, 3)
        assert platform_listing(first, platform, seed=3) != platform_listing(first, platform, 4)


def test_shops_are_distinct_and_categorised(catalogue: Catalogue) -> None:
    assert len(catalogue.shops) == 600
    assert len({s.true_id for s in catalogue.shops}) == 600
    assert len({s.phone for s in catalogue.shops}) == 600
    assert {s.category for s in catalogue.shops} == CATEGORIES
    assert {s.legal_form for s in catalogue.shops} >= {None, "SARL", "SAS", "EURL"}
    assert any(" bis " in s.street or " ter " in s.street for s in catalogue.shops)
    for shop in catalogue.shops:
        assert re.match(r"^\d+( bis| ter)? \S", shop.street)
        assert shop.opening_hours is None or OSM_HOURS.match(shop.opening_hours), shop
        assert set(shop.services) <= {"click_and_collect", "delivery", "takeaway"}
        assert shop.description
        assert len(shop.products) <= 8
        assert all(p.price > 0 and p.currency == "EUR" for p in shop.products)
    assert any(not s.products for s in catalogue.shops)


def test_postcodes_match_cities_and_points_lie_in_the_area(catalogue: Catalogue) -> None:
    for shop in catalogue.shops:
        assert shop.city in POSTCODES[shop.postcode], shop
        assert km((shop.lat, shop.lon), CAPITOLE) < 15
    toulouse = [s for s in catalogue.shops if s.city == "Toulouse"]
    assert 0.35 < len(toulouse) / len(catalogue.shops) < 0.6
    # Each commune's shops cluster around its centre, not anywhere in the area.
    blagnac = [(s.lat, s.lon) for s in catalogue.shops if s.city == "Blagnac"]
    assert blagnac and all(km(point, (43.6366, 1.3905)) < 3 for point in blagnac)


def test_phones_are_french_numbers_mostly_landlines(catalogue: Catalogue) -> None:
    for shop in catalogue.shops:
        assert phonenumbers.is_valid_number(phonenumbers.parse(shop.phone, "FR")), shop.phone
    landlines = sum(s.phone.startswith("05") for s in catalogue.shops)
    assert 0.65 < landlines / len(catalogue.shops) < 0.95
    assert format_phone("05 61 22 33 44", "intl_spaced") == "+33 5 61 22 33 44"
    assert format_phone("05 61 22 33 44", "dotted") == "05.61.22.33.44"


def test_sirets_pass_luhn(catalogue: Catalogue) -> None:
    sirets = [s.siret for s in catalogue.shops if s.siret]
    assert 0.4 < len(sirets) / len(catalogue.shops) < 0.8
    assert all(len(siret) == 14 and siret.isdigit() for siret in sirets)
    assert all(luhn_valid(siret) and luhn_valid(siret[:9]) for siret in sirets)
    assert not luhn_valid("73282932000075")


def test_chains_and_common_names_are_distinct_shops(catalogue: Catalogue) -> None:
    by_name: dict[str, list] = {}
    for shop in catalogue.shops:
        by_name.setdefault(shop.name, []).append(shop)
    for name, count in (("Boulangerie Ange", 3), ("Maison Pillon", 2)):
        shops = by_name[name]
        planned = [s for s in shops if s.hard_case != "branch"]  # a branch next door aside
        assert len(planned) == count and all(s.chain == name for s in shops)
        assert len({s.city for s in planned}) == count
        assert len({s.street + s.city for s in shops}) == len(shops)
        assert len({s.phone for s in shops}) == len(shops)
        assert len({s.siret[:9] for s in shops}) == 1  # one company, several establishments
    common = by_name["Boulangerie du Centre"]
    assert len(common) >= 2 and all(s.chain is None for s in common)
    assert len({s.city for s in common}) == len(common)


def test_hard_cases_are_there_and_the_truth_says_what_they_are(
    catalogue: Catalogue, listings: dict
) -> None:
    """The cases no score settles: each kind once per 150 shops, listed by the registry."""
    cases = Counter(s.hard_case for s in catalogue.shops if s.hard_case)
    assert cases == dict.fromkeys(("moved", "sparse", "abbreviated", "branch"), 4)
    shops = catalogue.by_id()
    registry: dict[str, dict] = {}
    for record in listings["geolocal31"]:  # the first listing of a shop is the one rewritten
        registry.setdefault(record["_true_id"], record)
    for shop in catalogue.shops:
        record = registry.get(shop.true_id)
        if shop.hard_case in ("moved", "sparse", "abbreviated"):
            assert record is not None and record["phone"] is None and record["siret"] is None
        if shop.hard_case == "moved":  # where it was, 300-800 m from where it is
            assert shop.former and record["address"] is None
            assert 0.29 < km((record["lat"], record["lon"]), (shop.lat, shop.lon)) < 0.81
        if shop.hard_case == "sparse":
            assert record["city"] and not any(record[k] for k in ("address", "postcode", "lat"))
        if shop.hard_case == "abbreviated":
            assert record["name"] == record["name"].upper() != shop.name
        if shop.hard_case == "branch":  # another shop: same sign, site and company, same town
            sibling = next(
                s
                for s in catalogue.shops
                if s.chain == shop.chain and s.city == shop.city and s is not shop
            )
            assert shop.true_id != sibling.true_id and shop.phone != sibling.phone
            assert (shop.website, shop.siret[:9]) == (sibling.website, sibling.siret[:9])
            assert 0.29 < km((shop.lat, shop.lon), (sibling.lat, sibling.lon)) < 0.71
    # The truth names each listing's own shop: a moved shop's old point is still that shop.
    truth = {(p, s): t for p, s, t in ground_truth(catalogue, listings)}
    for true_id, record in registry.items():
        assert truth[("geolocal31", record["source_id"])] == shops[true_id].true_id


def test_platform_shares_overlap_and_zones(catalogue: Catalogue, listings: dict) -> None:
    listed = {p: {r["_true_id"] for r in records} for p, records in listings.items()}
    shares = {p: len(ids) / len(catalogue.shops) for p, ids in listed.items()}
    assert 0.58 < shares["toutoulouse"] < 0.72
    assert 0.48 < shares["clickn_co"] < 0.62
    for platform in ("tousoccitariens", "dans_ma_zone", "geolocal31"):
        assert 0.28 < shares[platform] < 0.42, platform
    assert len(listed["toutoulouse"] & listed["clickn_co"]) >= 150

    def share_in(platform: str, zone: str) -> float:
        shops = [s for s in catalogue.shops if s.zone == zone]
        return sum(s.true_id in listed[platform] for s in shops) / len(shops)

    assert share_in("clickn_co", "southeast") > 0.8 > share_in("clickn_co", "toulouse")
    assert share_in("toutoulouse", "toulouse") > 0.8 > share_in("toutoulouse", "southeast")


def test_ground_truth_covers_every_listing_once(
    catalogue: Catalogue, listings: dict, tmp_path
) -> None:
    rows = ground_truth(catalogue, listings)
    assert len(rows) == sum(len(records) for records in listings.values())
    assert len({(platform, source_id) for platform, source_id, _ in rows}) == len(rows)
    known = {s.true_id for s in catalogue.shops}
    assert all(true_id in known for *_, true_id in rows)
    path = tmp_path / "truth.csv"
    write_truth_csv(path, rows)
    with path.open(newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert read[0] == ["platform", "source_id", "true_id"]
    assert [tuple(row) for row in read[1:]] == rows


def test_same_platform_duplicates_are_rare_and_have_two_ids(listings: dict) -> None:
    duplicates = 0
    for records in listings.values():
        counts = Counter(r["_true_id"] for r in records)
        duplicates += sum(n - 1 for n in counts.values())
        assert sum(n - 1 for n in counts.values()) <= 0.03 * len(records)
    assert duplicates >= 3


def test_source_id_schemes_and_links(listings: dict) -> None:
    base = "http://127.0.0.1:8031"
    for record in listings["toutoulouse"]:
        assert isinstance(record["id"], int)
        assert re.fullmatch(
            rf"{base}/toutoulouse/boutique/[a-z0-9-]+-{record['id']}", record["url"]
        )
    for record in listings["clickn_co"]:
        assert re.fullmatch(r"CNC-\d{6}", record["identifiant"])
        assert record["lien"] == f"{base}/clickn_co/commerce/{record['identifiant'].lower()}"


def test_listings_carry_realistic_noise(catalogue: Catalogue, listings: dict) -> None:
    shops = catalogue.by_id()
    names = [(r["name"], shops[r["_true_id"]].name) for r in listings["toutoulouse"]]
    exact = sum(listed == true for listed, true in names) / len(names)
    assert 0.4 < exact < 0.95
    streets = " ".join(
        [r["address"]["street"] for r in listings["toutoulouse"]]
        + [r["adresse"] for r in listings["clickn_co"]]
    )
    for abbreviation in ("av.", "bd", "pl.", "St"):
        assert re.search(rf"(?<!\w){re.escape(abbreviation)}(?!\w)", streets), abbreviation
    assert any(
        re.search(r" 31\d{3} ", r["adresse"]) and not r["ville"] for r in listings["clickn_co"]
    )
    assert any("," in r["latitude"] for r in listings["clickn_co"])
    phones = {re.sub(r"\d", "9", r["phone"]) for r in listings["geolocal31"] if r["phone"]}
    assert {"+99999999999", "+99 9 99 99 99 99", "99 99 99 99 99", "9999999999"} <= phones
    moved = []
    for record in listings["toutoulouse"]:
        shop = shops[record["_true_id"]]
        if record["geo"] is None:
            continue
        moved.append(km((record["geo"]["lat"], record["geo"]["lng"]), (shop.lat, shop.lon)))
    assert min(moved) > 0.009 and max(moved) < 0.061
    assert any(r["geo"] is None for r in listings["toutoulouse"])
    assert any(r["phone"] is None for r in listings["toutoulouse"])


def test_unknown_platform_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="known: toutoulouse"):
        platform_listing(catalogue, "leboncoin")
