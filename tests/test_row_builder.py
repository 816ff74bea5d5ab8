"""The code written for a mapping (``connectors.row_builder``) makes exactly the record the full
path makes (mapping, then pydantic's validation), or leaves the row to it."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from aggregator.models import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_TEXT,
    MAX_URL,
    ConnectorRegistration,
    OfferRecord,
    PlainJSON,
    Rejection,
    ShopRecord,
)
from aggregator.pipeline import record_json
from aggregator.store.ingest import _dumps, _dumps_bytes
from connectors.base import ConnectorError, Item
from connectors.json_api import _parse_page
from connectors.mapping import DuplicateGuard, _compiled, _offer, _shop, row_reader
from connectors.row_builder import field_rules
from connectors.rows import item_reader

SHOP_MAPPING = {
    "source_id": "id", "name": "name", "address": "address.street", "postcode": "address.pc",
    "city": "city", "country": "country", "phone": "phone", "email": "email",
    "website": "website", "siret": "siret", "category": "category",
    "description": "description", "lat": "geo.lat", "lon": "lon",
    "opening_hours": "hours", "url": "url", "services": "services",
}  # fmt: skip
OFFER_MAPPING = {
    "offer.source_id": "sku", "offer.title": "title", "offer.description": "description",
    "offer.price": "price", "offer.currency": "currency", "offer.availability": "stock",
    "offer.category": "category", "offer.url": "link", "offer.image_url": "image",
}  # fmt: skip

TEXTS: list[Any] = [
    "Boulangerie Dupont", "  padded  ", "", "   ", "é à ç ☕ 東京", "tab\there", "line\nbreak",
    "nul\x00", "del\x7f", "c1\x85", "lone \ud800", "nbsp\u00a0x", "x" * MAX_TEXT,
    "x" * (MAX_TEXT + 1), "y" * MAX_NAME, "y" * (MAX_NAME + 1), "z" * MAX_DESCRIPTION,
    "z" * (MAX_DESCRIPTION + 1), "s" * 256, "s" * 257, 42, 4.0, 4.5, True, None, [], {"a": 1},
    "\u2028sep", "\x1c", "fr", "Fr ",
]  # fmt: skip
LINKS: list[Any] = [
    "https://shop.example/", "http://a.b/c?d=e#f", "HTTPS://shop.example/", "www.shop.fr",
    "javascript:alert(1)", "https:///x", "https://a b", " https://shop.example/ ", "//host",
    "https://" + "u" * (MAX_URL - 8), "https://" + "u" * (MAX_URL - 7), "ftp://x.y",
    "https://\\x", "data:text/html,x", "https://a.b/\x00", "", None, 12,
]  # fmt: skip
NUMBERS: list[Any] = [
    43.6, "43,6", " 43.6 ", "1.4", -90.0, 90.0, 90.0001, -180.0, 180.5, "nan", "inf", "-inf",
    "1e400", 0.0, -0.0, 1e-7, 43, "", "  ", "abc", "12,50 €", "1\u00a0234,5", True, None,
    math.nan, math.inf, [1], "-3", 5000.0,
]  # fmt: skip
LISTS: list[Any] = [
    "a;b", "a, b ,", ["x", " y "], ["x", 3], [], "", None, ["ok\x00"], ["a"] * 100,
    ["a"] * 101, "click_and_collect", 7, {"k": "v"},
]  # fmt: skip


#: Values the models keep (after the mapping's cleaning), for rows that should be built.
GOOD_TEXTS: list[Any] = ["Chez Paul", "  padded  ", "", "é à ç ☕ 東京", "x" * 200, 42, 4.0, None]
GOOD_LINKS: list[Any] = ["https://shop.example/", "http://a.b/c?d=e#f", None, ""]
GOOD_NUMBERS: list[Any] = [43.6, "43,6", " 1.4 ", -90.0, 0.0, -0.0, 1e-7, "", None]
GOOD_LISTS: list[Any] = ["a;b", ["x", " y "], [], None, "click_and_collect", ["a"] * 100]


def _shop_row(rng: random.Random) -> dict[str, Any]:
    good = rng.random() < 0.5  # a row the models keep as it is, half the time

    def text(required: bool = False) -> Any:
        if good:
            return f"S{rng.randrange(10**6)}" if required else rng.choice(GOOD_TEXTS)
        return rng.choice(TEXTS)

    def pick(usual: list[Any], every: list[Any]) -> Any:
        return rng.choice(usual if good else every)

    row: dict[str, Any] = {
        "id": text(required=True),
        "name": text(required=True),
        "address": {"street": text(), "pc": rng.choice(["31000", 31000, None])},
        "city": text(),
        "country": rng.choice(["fr", "FR", "es", None, "", "  de"] + ([] if good else [4])),
        "phone": text(),
        "email": text(),
        "website": pick(GOOD_LINKS, LINKS),
        "siret": rng.choice(["12345678901234", 12345678901234, 1.5e13, None]),
        "category": text(),
        "description": text(),
        "geo": rng.choice([{"lat": pick(GOOD_NUMBERS, NUMBERS)}, None, {}] + good * ["x", [1]]),
        "lon": pick(GOOD_NUMBERS, NUMBERS),
        "hours": text(),
        "url": pick(GOOD_LINKS, LINKS),
        "services": pick(GOOD_LISTS, LISTS),
    }
    for key in rng.sample(sorted(row), rng.randrange(3)):
        if not good or key not in ("id", "name"):
            del row[key]
    if rng.random() < 0.1:
        row["address.street"] = text()  # a key holding the dot wins over the path
    return row


def _offer_row(rng: random.Random) -> dict[str, Any]:
    good = rng.random() < 0.5

    def pick(usual: list[Any], every: list[Any]) -> Any:
        return rng.choice(usual if good else every)

    row: dict[str, Any] = {
        "sku": pick(["SKU-1", 17, " s "], TEXTS),
        "title": pick(["Pain", "Pain de campagne ☕"], TEXTS),
        "description": pick(GOOD_TEXTS, TEXTS),
        "price": pick([3.2, "3,20", 0.0, None, ""], NUMBERS + [-1.0, "-0,5", 1e308]),
        "currency": rng.choice(["EUR", None, 5, ""]),
        "stock": pick(GOOD_TEXTS, TEXTS),
        "category": pick(GOOD_TEXTS, TEXTS),
        "link": pick(GOOD_LINKS, LINKS),
        "image": pick(GOOD_LINKS, LINKS),
    }
    for key in rng.sample(sorted(row), rng.randrange(3)):
        if not good or key not in ("sku", "title"):
            del row[key]
    return row


def _same(fast: Any, full: Any) -> None:
    assert type(fast) is type(full)
    if isinstance(full, Rejection):
        assert fast == full
        return
    assert list(fast.__dict__) == list(full.__dict__)
    for name, value in full.__dict__.items():
        assert type(fast.__dict__[name]) is type(value), name
        assert fast.__dict__[name] == value, name
    assert fast.model_fields_set == full.model_fields_set
    assert fast.model_dump(mode="json") == full.model_dump(mode="json")


@pytest.mark.parametrize("kind", ["shop", "offer"])
def test_the_written_code_makes_what_validation_makes_or_leaves_the_row(kind: str) -> None:
    mapping = SHOP_MAPPING if kind == "shop" else OFFER_MAPPING
    registration = ConnectorRegistration(
        platform="toutoulouse", kind="json_api", url="https://x.fr/", mapping=mapping
    )
    compiled = _compiled(registration.mapping)
    fast = compiled.shop_fast if kind == "shop" else compiled.offer_fast
    assert fast is not None
    full_path = _shop if kind == "shop" else _offer
    reader = row_reader(registration)
    rng = random.Random(12)
    built = left = plain = 0
    for n in range(6000):
        row = _shop_row(rng) if kind == "shop" else _offer_row(rng)
        full = full_path(compiled, registration, row, f"line {n}")
        made = fast(row, registration.platform, registration.country)
        if made is None:
            left += 1
        else:
            built += 1
            record, stored = made
            assert not isinstance(full, Rejection), (row, full)
            _same(record, full)
            assert record_json(record) == dict(full.__dict__)
            if stored is not None:  # its JSON form, which orjson writes as json.dumps does
                plain += 1
                assert stored == record_json(full)
                assert _dumps_bytes(stored) == _dumps(stored).encode("utf-8")
            else:
                assert any(type(v) is float and 0 < abs(v) < 1e-4 for v in stored_values(full))
        _same(reader(row, f"line {n}"), full)  # what a read emits, whichever path made it
        item = item_reader(registration, DuplicateGuard())(row, f"line {n}")
        if isinstance(full, Rejection):
            assert item == full
        else:
            assert isinstance(item, Item)
            _same(item.record, full)
            assert item.stored is None or item.stored == record_json(full)
    assert built > 1000 and left > 1000 and plain > 1000  # both paths taken, many times


def stored_values(record: Any) -> list[Any]:
    return list(record.__dict__.values())


def test_bounds_are_the_models_own() -> None:
    shop = field_rules(ShopRecord)
    offer = field_rules(OfferRecord)
    assert shop is not None and offer is not None
    assert shop["name"] == ("text", 1, MAX_NAME, None)
    assert shop["lat"] == ("number", -90, 90, None)
    assert shop["services"] == ("texts", None, 100, [])
    assert offer["price"] == ("number", 0, None, None)
    assert offer["source_id"] == ("text", 1, 256, None)


def test_a_registration_validation_would_change_takes_the_full_path() -> None:
    registration = ConnectorRegistration.model_construct(
        platform="Not A Slug", kind="csv", url="x", mapping=dict(SHOP_MAPPING), country="FR"
    )
    row = {"id": "S1", "name": "Chez Paul"}
    result = row_reader(registration)(row, "line 2")
    assert isinstance(result, Rejection)
    assert "platform" in result.reason


NUMBER_TEXTS = [
    "0", "-0", "0.0", "1", "-17", "43.6", "1e5", "1E+5", "1e-5", "2.5E-7", "0.0001", "0.00009",
    "-0.00001", "1.00005", "0.1", "123456789012345678", "18446744073709551615",
    "1e308", "5e-324", "0.000", "1e-4", "100e-10",
]  # fmt: skip


def test_a_page_marked_plain_is_written_by_orjson_as_by_json_dumps() -> None:
    rng = random.Random(5)
    marked = 0
    for _ in range(3000):
        values = [
            rng.choice(NUMBER_TEXTS),
            json.dumps(rng.choice(TEXTS if rng.random() < 0.5 else ["e-mail", "Île-de-France"])),
            rng.choice(["true", "null", "[]", '{"k": 1e-9}', '"x"']),
        ]
        rng.shuffle(values)
        a, c, d = values
        content = f'{{"data": [{{"a": {a}, "b": {{"c": [{c}]}}, "d": {d}}}]}}'.encode()
        try:
            document, plain = _parse_page(content, 1, "https://example.org/")
        except ConnectorError:
            continue
        assert document == json.loads(content)
        if plain:
            marked += 1
            record = PlainJSON(document["data"][0])
            assert _dumps_bytes(record) == _dumps(record).encode("utf-8")
    assert marked > 500


def test_each_text_is_held_to_its_own_bound_however_long_the_others() -> None:
    """The written code looks at a text's length only when all the texts together exceed its
    bound: every text at its bound is built, any one text past it is left to the full path,
    whether the others are at their bounds or short."""
    registration = ConnectorRegistration(
        platform="toutoulouse", kind="json_api", url="https://x.fr/", mapping=SHOP_MAPPING
    )
    compiled = _compiled(registration.mapping)
    fast, platform, country = compiled.shop_fast, registration.platform, registration.country
    assert fast is not None
    at_bounds = {
        "id": "s" * 256, "name": "y" * MAX_NAME, "address": {"street": "x" * MAX_TEXT},
        "city": "x" * MAX_TEXT, "description": "z" * MAX_DESCRIPTION,
        "website": "https://" + "u" * (MAX_URL - 8), "hours": "h" * MAX_DESCRIPTION,
    }  # fmt: skip
    past = {
        "id": "s" * 257, "name": "y" * (MAX_NAME + 1), "address": {"street": "x" * (MAX_TEXT + 1)},
        "city": "x" * (MAX_TEXT + 1), "description": "z" * (MAX_DESCRIPTION + 1),
        "website": "https://" + "u" * (MAX_URL - 7), "hours": "h" * (MAX_DESCRIPTION + 1),
    }  # fmt: skip
    short = {"id": "1", "name": "n"}
    made = fast(at_bounds, platform, country)
    assert made is not None
    _same(made[0], _shop(compiled, registration, at_bounds, "line 1"))
    for key, value in past.items():
        for others in (at_bounds, short):
            row = {**others, key: value}
            assert fast(row, platform, country) is None, (key, others is short)
            assert isinstance(_shop(compiled, registration, row, "line 2"), Rejection), key
