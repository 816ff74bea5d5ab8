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
        ("Rua Benjamin Constant, 61 - Sala 409", "Rua Benjamin Constant, 61"),
        ("Estr. da Boiada, 97 - Jardim Casa Verde", "Estr. da Boiada 97"),
        ("1005 Alameda dos Jurupis, cj. 102", "Alameda dos Jurupis, 1005"),
        ("京都府京都市上京区天秤丸町１８２−１", "上京区天秤丸町182-1"),
        ("東京都港区赤坂１丁目１２−３２", "赤坂1-12-32"),
        ("愛知県名古屋市中村区名駅１丁目１−１", "中村区名駅1丁目1-1"),
        ("滋賀県草津市野路東 5丁目 25-21", "野路東５丁目２５−２１"),
        ("4-8 七日町2丁目", "山形県山形市七日町２丁目４−８"),  # lot and house written first
        ("Calle Vicente Lombardo Toledano 303", "Vicente Lombardo Toledano 303"),
        ("Rua Gerson Coutinho da Silva, 529 lj 2", "Rua Gerson Coutinho da Silva 529"),
        ("Štefánikova 320/42", "Štefánikova 42"),  # register number, then street number
        ("Jl. Cempaka Putih 5", "Jalan Cempaka Putih 5"),
        ("51511 US-97", "51511 Highway 97"),
        ("4514 U S 2", "4514 US Hwy 2"),
        ("11401 US Highway 301 S", "11401 Highway 301 South"),
        ("2058 Bells Hwy Ste B-2a", "2058 Bells Highway"),
        ("331 N Alafaya Trl", "331 North Alafaya Trail"),
        ("7015 Village Ctr Dr", "7015 Village Center Drive"),
        ("Paseo De Duraznos 127 Piso 4", "Paseo de Duraznos, 127"),  # a floor after the number
        ("Av. Américas y Vallarta S/N", "Avenida Américas y Vallarta"),  # sin número
        ("31 Pte 2519", "31 Poniente 2519"),  # a numbered street, the house number after
        ("Via della Cava 257", "Via Cava, 257"),  # articles and prepositions left out
        ("Carrer de Sant Bartomeu, 2", "Carrer Sant Bartomeu 2"),
    ],
)
def test_addresses_written_the_ways_of_other_countries(one: str, other: str) -> None:
    assert parse_address(one) == parse_address(other)


def test_numbered_streets_and_ranges_keep_their_numbers() -> None:
    # "Calle 9 Sur": a numbered street keeps its word, the number is no house number.
    found = parse_address("Calle 9 Sur 8")
    assert found is not None and (found.number, found.street) == ("8", "calle 9 sur")
    # A second number larger than the first is no register number: "9/11" stays a range.
    assert parse_address("Sokolovská 28/77") != parse_address("Sokolovská 77")
    ranged = parse_address("9/11 rue X")
    assert ranged is not None and (ranged.number, ranged.number_to) == ("9", 11)
    # "Calle 2 Norte" keeps its number as the street's; "31 Pte 2519" is number 2519.
    numbered = parse_address("31 Pte 2519")
    assert numbered is not None and (numbered.number, numbered.street) == ("2519", "31 poniente")
    # "Us and them" is no highway, nor "U 2".
    bare = parse_address("U 2 Tower 5")
    assert bare is not None and bare.street == "u 2 tower"
    assert parse_address("Us and Them 4") == parse_address("Us and them, 4")
    other = parse_address("Us and Them 4")
    assert other is not None and other.street == "us and them"


def test_a_hash_after_a_house_number_is_still_a_suite() -> None:
    assert parse_address("239 Main Ave E # 60") == parse_address("239 Main Ave E")


def test_japanese_addresses_keep_their_numbers_apart() -> None:
    # The district and block agree, the lot and house do not: two addresses.
    one, other = (
        parse_address("東京都千代田区外神田２丁目１−１５"),
        parse_address("外神田2丁目10-3"),
    )
    assert one is not None and other is not None
    assert (one.street, one.number) == ("外神田2-1", "15")
    assert (other.street, other.number) == ("外神田2-10", "3")
    # A market (市場) is no city to drop.
    assert parse_address("築地市場1-2") == parse_address("築地市場1丁目2")


def test_a_number_and_another_after_a_dash_stay_a_range() -> None:
    found = parse_address("Caledonian Crescent, 25 - 27")
    assert found is not None and (found.number, found.number_to) == ("25", 27)


def test_hiragana_and_katakana_spell_one_name() -> None:
    assert (
        fold("コインランドリーはなこ") == fold("コインランドリーハナコ") == "コインランドリーハナコ"
    )
    a = rec(
        "overture",
        "1",
        "コインランドリーはなこ",
        address="北海道旭川市豊岡５条７丁目１−５５",
        country="JP",
    )
    b = rec("meta", "1", "コインランドリーハナコ", address="豊岡5条7丁目1-55", country="JP")
    fields = explain(a, b)["fields"]
    assert fields["name"]["level"] == "exact" and fields["address"]["level"] == "exact", fields
