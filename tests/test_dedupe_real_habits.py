"""Comparisons for habits of real directories met on the labelled sets (docs/matching.md 13)."""

from __future__ import annotations

import pytest

from aggregator.models import ShopRecord
from dedupe import explain
from dedupe.prepare.text import fold
from dedupe.prepare.values import parse_address
from dedupe.score.names import CONTAINED


def rec(platform: str, source_id: str, name: str, **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("department", "whole"),
    [
        ("Walmart Vision & Glasses", "Walmart"),
        ("Safeway Pharmacy", "Safeway"),
        ("Kreissparkasse Biberach - Geldautomat", "Kreissparkasse Biberach"),
        ("Bank of Scotland ATM", "Bank of Scotland"),
        ("Morrisons Petrol Station", "Morrisons"),
        ("Wells Fargo ATM", "Wells Fargo Bank"),
        ("Petco Grooming", "Petco Dog Training"),
    ],
)
def test_a_department_of_a_place_is_not_the_place(department: str, whole: str) -> None:
    address = {"address": "391 N Main St", "postcode": "99114", "country": "US"}
    a, b = rec("overture", "1", department, **address), rec("meta", "1", whole, **address)
    name = explain(a, b)["fields"]["name"]
    assert name["measure"] < 0.75 and name["level"] == "different", name


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Rosa Mexicano - Union Square", "Rosa Mexicano"),
        ("Boulangerie Pâtisserie Ange", "Ange"),
        ("Walmart Supercenter", "Walmart"),
    ],
)
def test_a_branch_or_a_trade_added_is_still_contained(one: str, other: str) -> None:
    name = explain(rec("a", "1", one), rec("b", "1", other))["fields"]["name"]
    assert name["measure"] >= CONTAINED, name


def test_department_words_on_both_sides_or_alone_are_no_department() -> None:
    # Both name a pharmacy: one place spelt two ways; nothing distinctive shared: no relation.
    both = explain(rec("a", "1", "Lloyds Pharmacy"), rec("b", "1", "Lloyds Pharmacy Leith"))
    assert both["fields"]["name"]["measure"] >= CONTAINED, both["fields"]["name"]
    only_trade = explain(rec("a", "1", "Pharmacy"), rec("b", "1", "Pharmacy Shop"))
    assert only_trade["fields"]["name"]["measure"] > 0.7, only_trade["fields"]["name"]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ul. Juliusza Słowackiego 43", "ul juliusza slowackiego 43"),
        ("Kadıköy İskele", "kadikoy iskele"),
        ("Đorđe Pub", "dorde pub"),
        ("Łódź", "lodz"),
        ("Épicerie Léa", "epicerie lea"),
    ],
)
def test_latin_letters_with_a_stroke_fold_to_their_base_letter(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_marks_that_are_part_of_a_letter_stay() -> None:
    # Thai vowels and tone marks, Japanese voicing: without them it is another word.
    assert fold("ร้านบ้านยาย") != fold("รานบานยาย")
    assert fold("バス停") == "バス停"
    assert fold("K.C. สุกี้") == "kc สุกี้"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Calle Granada No. 30", "Calle Granada 30"),
        ("Rua Padre Renato Nº 118", "R. Padre Renato, 118"),
        ("Corso Allamano N. 195", "Corso Allamano, 195"),
        ("İnkaya Mah. Uludağ Cad. No:82", "Inkaya Mahallesi Uludağ Caddesi 82"),
        ("Av. de la Estación, 12", "Avenida de la Estación 12"),
        ("ul. Wileńska 2", "Wileńska 2"),
        ("165 King St 1st Floor", "165 King Street"),
        ("Altamirano #140", "Altamirano 140"),
    ],
)
def test_addresses_written_the_ways_of_other_countries(one: str, other: str) -> None:
    assert parse_address(one) == parse_address(other)


def test_a_hash_after_a_house_number_is_still_a_suite() -> None:
    assert parse_address("239 Main Ave E # 60") == parse_address("239 Main Ave E")
