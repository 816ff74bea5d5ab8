"""Comparisons and blocking that hold outside French synthetic habits (issue: real directories)."""

from __future__ import annotations

import pytest

from aggregator.models import ShopRecord
from dedupe import explain, match_shops
from dedupe.block.index import candidate_pairs
from dedupe.prepare.columns_of import prepare
from dedupe.prepare.identifiers import normalise_phones
from dedupe.prepare.text import fold
from dedupe.prepare.values import normalise_name, normalise_postcode, parse_address
from dedupe.score.names import CONTAINED


def rec(platform: str, source_id: str, name: str, **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("212/757-9813", "US", ("+12127579813",)),
        ("(212) 757-9813", "US", ("+12127579813",)),
        ("05/61/22/33/44", "FR", ("+33561223344",)),
        ("05.61.22.33.44", "FR", ("+33561223344",)),
        ("(0)5 61 22 33 44", "FR", ("+33561223344",)),
        ("+33 (0)5 61 22 33 44", "FR", ("+33561223344",)),
        ("0561223344/0612345678", "FR", ("+33561223344", "+33612345678")),
        ("+44 (0)131 556 1234", "GB", ("+441315561234",)),
    ],
)
def test_phones_in_any_separator_format(text: str, country: str, expected: tuple[str]) -> None:
    assert normalise_phones(text, country) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Easter Road, 139", "139 Easter Road"),
        ("358 W. 47th St.", "358 West 47th Street"),
        ("Cockburn Street 41", "41 Cockburn St"),
        ("609 W Maple Ave", "609 West Maple Avenue"),
        ("12 bis av. Jean Jaurès", "12 B avenue Jean-Jaures"),
    ],
)
def test_addresses_fold_number_position_street_types_and_directions(one: str, other: str) -> None:
    assert parse_address(one) == parse_address(other)


def test_french_streets_keep_their_saints_and_post_boxes_are_no_houses() -> None:
    assert parse_address("Rue St Rome").street == "rue saint rome"  # type: ignore[union-attr]
    assert parse_address("12 rue du Dr Roux").street == "rue docteur roux"  # type: ignore[union-attr]
    assert parse_address("BP 1234") is None


def test_postcodes_with_extensions_and_names_in_other_scripts() -> None:
    assert normalise_postcode("32547-3002") == "32547"
    assert normalise_postcode("57140-000") == "57140"
    assert normalise_postcode("31000") == "31000"
    assert fold("玉川高校前 バス停") == "玉川高校前 バス停"  # the voicing mark is the letter's
    assert fold("ร้านตัดผม") != ""
    assert normalise_name("Enrico Ferezi Inc") == normalise_name("Enrico Ferezi")
    assert normalise_name("Toni and Guy") == normalise_name("Toni & Guy")


def test_the_same_number_and_street_is_never_different() -> None:
    # A district named instead of the city: the address still agrees.
    a = rec("osm", "1", "Al Dente", address="Easter Road, 139", city="Leith", country="GB")
    b = rec("yelp", "1", "Al Dente", address="139 Easter Road", city="Edinburgh", country="GB")
    level = explain(a, b)["fields"]["address"]["level"]
    assert level != "different", level


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("11 Crichton St, Newington", "Crichton Street, 11"),  # a district after a comma
        ("Lawnmarket, 304", "304 Lawnmarket"),
        ("Unit 8, 12 Gyle Ave.", "12 Gyle Avenue"),  # the unit is not the street
        ("First Floor, 77 George Street", "77 George St"),
        ("12, rue des Filatiers", "12 rue des Filatiers"),
        ("Caledonian Crescent, 25-27-29", "25-29 Caledonian Crescent"),
        ("Leith Walk, 7; 9", "7-9 Leith Walk"),  # OpenStreetMap's list of numbers
        ("Parsons Green Terrace, 29; 30; 31", "29-31 Parsons Green Ter"),
        ("Gyle Shopping Centre, Gyle Ave", "Gyle Avenue"),  # a site before its street
        ("Quartermile 1, 15 Lauriston Place", "Lauriston Place, 15"),
        ("1325 W 1st Ave Ste 204", "1325 West 1st Avenue"),  # a suite is not the street
        ("6363 Main St Ste E", "6363 Main Street"),  # nor a lettered one
        ("203 Jamestown Blvd Unit C", "203 Jamestown Boulevard"),
        ("875 Mansell Rd Ste B1", "875 Mansell Road"),
        ("239 Main Ave E # 60", "239 Main Avenue East"),
        ("Hauptstr. 12B", "Hauptstraße 12 B"),  # German streets, a letter after the number
        ("Lange Str. 17", "Lange Straße 17"),
        ("Ashley Terrace, 1E", "1 Ashley Terrace"),  # a flat's letter is not the street
        ("6-6a Brougham Pl. Tollcross", "6 Brougham Place Tollcross"),  # a type, a district
    ],
)
def test_the_street_part_of_an_address_written_in_parts(one: str, other: str) -> None:
    a, b = parse_address(one), parse_address(other)
    assert a is not None and b is not None
    assert (a.number, a.street) == (b.number, b.street)


def test_a_saint_is_not_a_suite() -> None:
    a, b = parse_address("12 rue Ste Anne"), parse_address("12 rue Sainte-Anne")
    assert a is not None and b is not None and a.street == b.street == "rue sainte anne"


def test_a_postcode_and_town_in_their_own_part_are_not_the_street() -> None:
    parsed = parse_address("12 rue X, 31000 Toulouse")
    assert parsed is not None
    assert (parsed.number, parsed.street, parsed.postcode, parsed.city) == (
        "12",
        "rue x",
        "31000",
        "toulouse",
    )
    parsed = parse_address("Rue X, Bâtiment B, 31000 Toulouse")
    assert parsed is not None and (parsed.number, parsed.street) == (None, "rue x")


@pytest.mark.parametrize(
    ("one", "other", "level"),
    [
        ("George Street, 41", "39-41 George St", "exact"),  # a range holds its numbers
        ("Caledonian Crescent, 25-27-29", "27 Caledonian Crescent", "exact"),
        ("George Street, 77B", "77 George Street", "similar>=0.9"),  # one letter written
        ("Union Street, 8", "6 Union St", "similar>=0.75"),  # next door
        ("109 Princes St", "Princes Street, 111-112", "similar>=0.75"),
        ("Union Street, 8", "20 Union St", "different"),
        ("Union Street, 8", "7 Union St", "different"),  # across the street
        ("12 bis rue X", "12 ter rue X", "similar>=0.9"),  # one house, two doors
        ("Princes Street, 40", "40 Rose Street", "different"),
    ],
)
def test_house_numbers_ranges_letters_and_neighbours(one: str, other: str, level: str) -> None:
    a = rec("osm", "1", "Cadiz", address=one, postcode="EH2 3EE", country="GB")
    b = rec("yelp", "1", "Cadiz", address=other, postcode="EH2 3EE", country="GB")
    assert explain(a, b)["fields"]["address"]["level"] == level


def test_a_number_written_with_a_wrong_prefix_is_the_same_line() -> None:
    # "0" put for "+" before the country code: another E.164 number, the same last digits.
    a = rec("meta", "1", "Brauhaus", phone="+492216403148", country="DE")
    b = rec("msft", "1", "Brauhaus", phone="04922 16403148", country="DE")
    c = rec("msft", "2", "Brauhaus", phone="0221 7654321", country="DE")
    phone = explain(a, b)["fields"]["phone"]
    assert phone["level"] == "same_line" and phone["weight"] > 0, phone
    assert explain(a, c)["fields"]["phone"]["level"] == "different"


def test_explanations_show_a_range_of_house_numbers() -> None:
    a = rec("osm", "1", "Cadiz", address="George Street, 41", country="GB")
    b = rec("yelp", "1", "Cadiz", address="39-41 George St", country="GB")
    shown = explain(a, b)["fields"]["address"]["values"]
    assert shown == ["41 george street", "39-41 george street"]


@pytest.mark.parametrize(
    ("one", "other", "contained"),
    [
        ("Rosa Mexicano - Union Square", "Rosa Mexicano", True),
        ("Boulangerie Pâtisserie Ange", "Ange", True),
        ("Pharmacie du Centre-Ville", "Pharmacie du Centre", True),
        ("Boulangerie Ange", "Boulangerie", False),
    ],
)
def test_a_name_inside_the_other_is_similar_unless_only_trade_words(
    one: str, other: str, contained: bool
) -> None:
    name = explain(rec("a", "1", one), rec("b", "1", other))["fields"]["name"]
    assert (name["measure"] >= CONTAINED) is contained, name


def test_blocking_meets_records_by_place_or_whole_name_whatever_fields_they_have() -> None:
    records = [
        # No postcode, no shared name word: within a few metres.
        rec("osm", "1", "Dance Base", lat=55.94697, lon=-3.19400, country="GB"),
        rec("fsq", "1", "Dancebase", lat=55.94699, lon=-3.19402, country="GB"),
        # No coordinates, other postcodes: the whole name without spaces.
        rec("a", "2", "MakiMori", postcode="77720", country="MX"),
        rec("b", "2", "Maki Mori", postcode="77710", country="MX"),
        # Far apart and unrelated.
        rec("osm", "3", "Dance Base", lat=55.99, lon=-3.30, country="GB"),
    ]
    prepared = prepare(records, drop_shared=False)
    batch = candidate_pairs(prepared)
    keys = prepared.table.keys
    pairs = {tuple(sorted((keys[a], keys[b]))) for a, b in zip(batch.a, batch.b, strict=True)}
    assert ("fsq:1", "osm:1") in pairs
    assert ("a:2", "b:2") in pairs
    assert not any("osm:3" in p and "fsq:1" in p for p in pairs)


def test_real_looking_duplicates_match_with_the_a_priori_weights() -> None:
    records = [
        rec("locu", "1", "Rosa Mexicano", address="61 Columbus Ave.", phone="2129773097",
            city="New York", country="US"),
        rec("foursquare", "1", "Rosa Mexicano - Lincoln Center", address="61 Columbus Avenue",
            phone="(212) 977-3097", city="New York", country="US"),
        rec("locu", "2", "Pick A Bagel", address="360 W. 42nd St.", phone="212/792-8008",
            city="New York", country="US"),
        rec("foursquare", "2", "Pick-A-Bagel", address="360 West 42nd Street",
            phone="(212) 792-8008", city="New York", country="US"),
    ]  # fmt: skip
    result = match_shops(records)
    assert len(result.entities) == 2


@pytest.mark.parametrize(
    ("one", "other", "low", "high"),
    [
        # Only the trade words differ: as alike as one name inside the other, not different.
        ("Three Bridges Sandwich Bar", "Three Bridges Takeaway", CONTAINED, CONTAINED),
        ("St Bernards Tavern", "St Bernards Bar", CONTAINED, CONTAINED),
        # Only the trade word agrees: as alike as the rest ("ange" / "dupont"), not close.
        ("Boulangerie Ange", "Boulangerie Dupont", 0.0, 0.74),
        # A word that begins the other's: between similar and different.
        ("Boul. Ange", "Boulangerie Ange", 0.75, 0.89),
        ("Pharm. du Centre", "Pharmacie du Centre", 0.75, 0.89),
        # The same letters spaced otherwise, a possessive with or without its apostrophe.
        ("Boom Barbers", "BoomBarbers", 0.95, 0.95),
        ("W H Smith", "WHSmith", 0.95, 0.95),
        ("Jenny's Sweets", "Jennys Sweets", 1.0, 1.0),
        ("The Bonnington", "Bonnington", 1.0, 1.0),
    ],
)
def test_trade_words_weigh_little_and_abbreviations_are_likely(
    one: str, other: str, low: float, high: float
) -> None:
    name = explain(rec("a", "1", one), rec("b", "1", other))["fields"]["name"]
    assert low <= name["measure"] <= high, name


def test_blocking_meets_a_place_geocoded_apart_and_a_chain_in_one_town() -> None:
    records = [
        # One restaurant 470 m apart on two platforms: the whole name over a district.
        rec("osm", "1", "Relish", lat=55.9770, lon=-3.1720, country="GB"),
        rec("yelp", "1", "Relish", lat=55.9770, lon=-3.1645, country="GB"),
        # The same words 470 m apart, not a whole name or a name's first letters: apart.
        rec("osm", "2", "Quilt Garden", lat=55.9500, lon=-3.2000, country="GB"),
        rec("yelp", "2", "Zebra Quilt", lat=55.9500, lon=-3.1925, country="GB"),
        # A chain's two listings in one postcode area, under two postcodes.
        rec("a", "3", "Starbucks", address="30 Hub-Robeson Ctr", postcode="16802",
            city="State College", country="US"),
        rec("b", "3", "Starbucks", address="Penn State", postcode="16801",
            city="State College", country="US"),
        # A record that says no place at all and one with a postcode: a name word anywhere.
        rec("a", "4", "Monumento a Lázaro Cárdenas", postcode="77090", country="MX"),
        rec("b", "4", "Monumento Lázaro Cárdenas", country="MX"),
    ]  # fmt: skip
    prepared = prepare(records, drop_shared=False)
    batch = candidate_pairs(prepared)
    keys = prepared.table.keys
    pairs = {tuple(sorted((keys[a], keys[b]))) for a, b in zip(batch.a, batch.b, strict=True)}
    assert ("osm:1", "yelp:1") in pairs
    assert ("osm:2", "yelp:2") not in pairs
    assert ("a:3", "b:3") in pairs
    assert ("a:4", "b:4") in pairs


@pytest.mark.parametrize(
    ("lat", "level"), [(55.9500, "<=200m"), (55.9530, "<=500m"), (55.9570, "<=1km")]
)
def test_points_a_few_hundred_metres_apart_have_their_own_distance_level(
    lat: float, level: str
) -> None:
    """Where one source's points are offset, 200 m to 500 m is a level of its own."""
    a = rec("osm", "1", "Relish", lat=55.9490, lon=-3.1900, country="GB")
    b = rec("fsq", "1", "Relish", lat=lat, lon=-3.1900, country="GB")
    assert explain(a, b)["fields"]["distance"]["level"] == level
