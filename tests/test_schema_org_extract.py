"""Extraction of schema.org shops and offers from pages: the real samples in
``../shared/data/real/schema_org_html`` (extruct's with their expected extraction, two French
agency pages) and generated pages for what real sites do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.schema_org.extract import (
    extract_page,
    is_business,
    opening_hours,
    parse_price,
    type_names,
)

URL = "https://tousoccitariens.example/producteurs/ferme-oustal"


def page(*blocks: str, body: str = "") -> bytes:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return f"<html><head>{scripts}</head><body>{body}</body></html>".encode()


@pytest.fixture
def samples(shared_real: Path) -> Path:
    return shared_real / "schema_org_html"


# -- real samples --------------------------------------------------------------------------------
def expected_things(value: Any) -> list[dict[str, Any]]:
    """Items of extruct's expected output (``{"type": ..., "properties": ...}``), nested too."""
    if isinstance(value, list):
        return [thing for v in value for thing in expected_things(v)]
    if not isinstance(value, dict) or not isinstance(value.get("properties"), dict):
        return []  # OpenGraph's expected output is a list of pairs: not schema.org
    found = [value] if "type" in value else []
    return found + [t for v in value["properties"].values() for t in expected_things(v)]


@pytest.mark.real_data
def test_extruct_samples_match_their_expected_extraction(samples: Path) -> None:
    checked = 0
    for expected_file in sorted(samples.glob("extruct_*.json")):
        html = expected_file.with_suffix(".html").read_bytes()
        result = extract_page(html, f"http://127.0.0.1/{expected_file.stem}.html")
        for thing in expected_things(json.loads(expected_file.read_text("utf-8"))):
            kind, props = thing["type"].rsplit("/", 1)[-1], thing["properties"]
            if kind == "Product":
                offer = next(o.fields for o in result.offers if o.fields["title"] == props["name"])
                offers = props["offers"] if isinstance(props["offers"], list) else [props["offers"]]
                prices = [
                    float(o["properties"].get("price") or o["properties"]["lowPrice"])
                    for o in offers
                ]
                assert offer["price"] == min(prices), expected_file.name
                checked += 1
            elif is_business([kind]):
                shop = next(s.fields for s in result.shops if s.fields["name"] == props["name"])
                assert shop["phone"] == props["telephone"]
                assert shop["postcode"] == props["address"]["properties"]["postalCode"]
                assert shop["website"] == props["url"]
                checked += 1
    assert checked >= 3


@pytest.mark.real_data
def test_gmf_agency_json_ld_with_hours_specification(samples: Path) -> None:
    html = (samples / "atp_gmf_fr_agency_jsonld.html").read_bytes()
    (shop,) = extract_page(html, "http://127.0.0.1/gmf.html").shops
    fields = shop.fields
    assert (fields["name"], fields["phone"], fields["postcode"]) == (
        "ORLEANS NORD",
        "0970809809",
        "45000",
    )
    assert (fields["lat"], fields["lon"]) == (47.9201639, 1.9018488)
    assert (
        fields["opening_hours"] == "Mo-Fr 10:00-12:45,14:00-18:00"
    )  # Saturday 00:00-00:00: closed
    assert (fields["category"], fields["country"]) == ("InsuranceAgency", "FR")


@pytest.mark.real_data
def test_maaf_agency_phone_in_address_hours_with_h_and_geo_elsewhere(samples: Path) -> None:
    html = (samples / "atp_maaf_fr_agency.html").read_bytes()
    (shop,) = extract_page(html, "http://127.0.0.1/maaf.html").shops
    fields = shop.fields
    assert (fields["phone"], fields["address"]) == ("0296618155", "25 RUE DE PARIS")
    assert fields["email"].endswith("@maaf.fr")
    assert fields["opening_hours"] == "Mo,We-Fr 09:00-17:30; Tu 10:00-17:30"
    assert (fields["lat"], fields["lon"]) == (48.50547359999999, -2.7438086)  # a microdata Place


# -- opening hours, prices, types ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("Mo 09H00-17H30", "Mo 09:00-17:30"),
        ("Mo-Fr 9h-12h, 14h-18h30", "Mo-Fr 09:00-12:00,14:00-18:30"),
        (
            ["Mo-Sa 11:00-14:30", "Mo-Th 17:00-21:30"],
            "Mo-Th 11:00-14:30,17:00-21:30; Fr,Sa 11:00-14:30",
        ),
        ("Mo,We,Fr 08:00-12:00", "Mo,We,Fr 08:00-12:00"),
        ("Sa-Mo 10:00-12:00", "Mo,Sa,Su 10:00-12:00"),
        ("Tu-Fr 18:00-00:00", "Tu-Fr 18:00-24:00"),
        ("08:00-12:00", "Mo-Su 08:00-12:00"),
        ("du lundi au vendredi 9h-18h", "du lundi au vendredi 9h-18h"),  # kept, not guessed
        ("24/7", "24/7"),
    ],
)
def test_opening_hours_become_osm_like(hours: Any, expected: str) -> None:
    assert opening_hours({"openingHours": hours}) == expected


def test_opening_hours_specification() -> None:
    spec = [
        {
            "dayOfWeek": ["https://schema.org/Monday", "Tuesday"],
            "opens": "09:00:00",
            "closes": "12:00",
        },
        {"dayOfWeek": "http://schema.org/Tuesday", "opens": "14:00", "closes": "00:00"},
        {"dayOfWeek": "Sunday", "opens": "00:00", "closes": "00:00"},  # closed
    ]
    assert opening_hours({"openingHoursSpecification": spec}) == (
        "Mo 09:00-12:00; Tu 09:00-12:00,14:00-24:00"
    )
    assert opening_hours({}) is None


@pytest.mark.parametrize(
    ("text", "price"),
    [("12,50 €", 12.5), ("1 234,56", 1234.56), ("1.234,56", 1234.56), ("1,234.56", 1234.56),
     (7, 7.0), ("EUR 3.5", 3.5), ("1,500", 1500.0), ("gratuit", None), (None, None), (-2, None)],
)  # fmt: skip
def test_prices(text: Any, price: float | None) -> None:
    assert parse_price(text) == price


def test_business_types() -> None:
    assert type_names({"@type": ["http://schema.org/Bakery", "schema:Winery"]}) == [
        "Bakery",
        "Winery",
    ]
    assert all(is_business([t]) for t in ("InsuranceAgency", "ButcherShop", "BookStore", "Farm"))
    assert not any(is_business([t]) for t in ("Organization", "Product", "Place", "WebPage"))


# -- what real sites do --------------------------------------------------------------------------
def test_graph_with_references_one_shop_and_its_catalogue() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "@id": "#page", "mainEntity": {"@id": "#farm"}},
            {"@type": "Farm", "@id": "#farm", "name": "Ferme de l'Oustal",
             "address": "Lieu-dit l'Oustal, 31290 Villefranche-de-Lauragais",
             "geo": {"@type": "GeoCoordinates", "latitude": "43,40", "longitude": "1,72"},
             "hasOfferCatalog": {"@type": "OfferCatalog", "itemListElement": [
                 {"@type": "Offer", "price": 3, "itemOffered": {"@id": "#oeufs"}}]}},
            {"@type": "Product", "@id": "#oeufs", "name": "Oeufs plein air (x6)"},
        ],
    }  # fmt: skip
    result = extract_page(page(json.dumps(graph)), URL)
    (shop,) = result.shops
    assert shop.fields["address"] == "Lieu-dit l'Oustal, 31290 Villefranche-de-Lauragais"
    assert (shop.fields["lat"], shop.fields["lon"], shop.fields["source_id"]) == (43.4, 1.72, URL)
    (offer,) = result.offers
    assert offer.fields["title"] == "Oeufs plein air (x6)"
    assert (offer.fields["price"], offer.fields["shop_source_id"]) == (3.0, URL)
    assert "hasOfferCatalog" not in shop.raw  # offers are records of their own


def test_several_businesses_and_a_product_sold_by_one_of_them() -> None:
    shops = [
        {"@type": "Bakery", "name": "Fournil A"},
        {"@type": "ButcherShop", "name": "Boucherie B"},
    ]
    offer = {"@type": "Offer", "price": "9", "seller": {"name": "Boucherie B"}}
    product = {"@type": "Product", "name": "Saucisse", "offers": offer}
    result = extract_page(page(json.dumps(shops), json.dumps(product)), URL)
    assert [s.fields["source_id"] for s in result.shops] == [f"{URL}#1", f"{URL}#2"]
    assert result.offers[0].fields["shop_source_id"] == f"{URL}#2"


def test_the_same_shop_in_json_ld_and_microdata_is_one_shop() -> None:
    microdata = (
        '<div itemscope itemtype="http://schema.org/Store"><span itemprop="name">Fournil A</span>'
        '<span itemprop="telephone">05 61 00 00 01</span></div>'
    )
    jsonld = json.dumps({"@type": "Store", "name": "Fournil  A", "email": "mailto:a@example.org"})
    (shop,) = extract_page(page(jsonld, body=microdata), URL).shops
    assert (shop.fields["phone"], shop.fields["email"]) == ("05 61 00 00 01", "a@example.org")


def test_rdfa_is_read_in_a_stable_order_without_blank_node_names() -> None:
    body = "".join(
        f'<div vocab="https://schema.org/" typeof="Product"><span property="name">{name}</span>'
        f'<div property="offers" typeof="Offer"><span property="price">{price}</span></div></div>'
        for name, price in (("Miel", "8"), ("Confiture", "4,5"), ("Huile", "12"))
    )
    runs = [extract_page(page(body=body), URL) for _ in range(3)]
    titles = [[o.fields["title"] for o in run.offers] for run in runs]
    assert titles[0] == titles[1] == titles[2] and sorted(titles[0]) == [
        "Confiture",
        "Huile",
        "Miel",
    ]
    assert {o.fields["title"]: o.fields["price"] for o in runs[0].offers}["Confiture"] == 4.5
    assert "_:" not in json.dumps([o.raw for o in runs[0].offers])


def test_canonical_url_only_on_the_same_host() -> None:
    link = '<link rel="canonical" href="{}">'
    html = page(json.dumps({"@type": "Bakery", "name": "A"}))
    here = html.replace(b"<head>", link.format("/producteurs/oustal#top").encode())
    away = html.replace(b"<head>", link.format("https://elsewhere.example/x").encode())
    assert extract_page(here, URL).url == "https://tousoccitariens.example/producteurs/oustal"
    assert extract_page(away, f"{URL}#frag").url == URL


def test_broken_json_ld_is_reported_and_the_rest_still_read() -> None:
    result = extract_page(page("{not json", json.dumps({"@type": "Bakery", "name": "A"})), URL)
    assert [s.fields["name"] for s in result.shops] == ["A"]
    assert result.problems and "JSON-LD block 1" in result.problems[0]
    assert extract_page(b"", URL).problems  # an empty document is a problem, not a crash


def test_a_business_url_on_the_platform_is_its_page_not_its_website() -> None:
    on_platform = {"@type": "Bakery", "name": "A", "url": "/producteurs/a"}
    own_site = {"@type": "Bakery", "name": "B", "url": "https://www.fournil-b.example/"}
    result = extract_page(page(json.dumps([on_platform, own_site])), URL)
    assert [s.fields.get("website") for s in result.shops] == [
        None,
        "https://www.fournil-b.example/",
    ]


def test_odd_values_do_not_break_a_page() -> None:
    odd = {"@type": ["Bakery", {"x": 1}], "@id": ["a"], "name": ["Fournil", "Le Fournil"]}
    odd |= {"geo": {"latitude": "nord", "longitude": 1}, "telephone": 561000000, "address": None}
    (shop,) = extract_page(page(json.dumps(odd)), URL).shops
    assert (shop.fields["name"], shop.fields["phone"]) == ("Fournil", "561000000")
    assert "lat" not in shop.fields
