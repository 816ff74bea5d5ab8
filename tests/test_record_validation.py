"""``validate_record`` (the connectors' path) against the models' own validation: the same record
or the same errors, field by field, whatever the input; its shortcut taken only on plain input."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from aggregator.models import OfferRecord, ShopRecord, validate_record


class Label(str):
    """A ``str`` subclass, as a library might hand one over."""


#: Texts as feeds send them: plain, accents, quotes, backslashes, controls, lone surrogates,
#: spaces that are not ASCII, format characters, empty, too long, not text at all.
TEXTS: list[Any] = [
    "Boulangerie Ange",
    "Épicerie « du coin » – l’Ostal",
    "l'épi \"d'or\"",
    "C:\\chemin",
    "tab\there",
    "nul\x00here",
    "\x85suivant",
    "\x7f",
    "\ud800 seul",
    "12\u00a0rue",
    "zero\u200bwidth",
    "\u2028",
    "  ",
    "",
    "x" * 600,
    Label("étiquette"),
    Label("bad\x01"),
    42,
    4.5,
    True,
    None,
    b"bytes",
    ["liste"],
    {"objet": 1},
]
LINKS: list[Any] = [
    "https://www.shop.fr/",
    "http://shop.fr/p?q=1&r=é",
    "HTTPS://SHOP.FR/",
    "www.shop.fr",
    "shop.fr/page",
    " https://shop.fr/ ",
    "https://shop.fr/a b",
    "https://shop.fr/\u00a0",
    "https:///shop.fr",
    "https://\\shop.fr",
    "https://",
    "javascript:alert(1)",
    "data:text/html,x",
    "//shop.fr",
    "https://shop.fr/\x00",
    "https://shop.fr/\ud800",
    "ftp://shop.fr/",
    "https://" + "a" * 2100,
    Label("https://shop.fr/"),
    12,
]
NUMBERS: list[Any] = [43.6, 0, -90.5, 1e308, float("nan"), float("inf"), "43.6", True, None, [1]]
SERVICES: list[Any] = [["click_and_collect"], [], ["a\x00"], ["\ud800"], [1], [None], "a;b", None]


def outcome(model: type[BaseModel], data: dict[str, Any], check: Any) -> Any:
    """The record (its values and the fields set) or the errors, as comparable data."""
    try:
        record = check(model, data)
    except ValidationError as error:
        return ("refused", error.errors(include_url=False))
    assert type(record) is model
    return ("ok", record.model_dump(), record.model_fields_set)


def full(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return model.model_validate(data)


def same(model: type[BaseModel], data: dict[str, Any]) -> None:
    expected = outcome(model, data, full)
    got = outcome(model, data, validate_record)
    assert repr(got) == repr(expected), data  # repr: NaN equals itself there


SHOP = {
    "platform": "toutoulouse", "source_id": "S1", "name": "Boulangerie Ange",
    "address": "12 rue des Lilas", "postcode": "31000", "city": "Toulouse", "country": "FR",
    "website": "https://www.ange.fr/", "url": "https://toutoulouse.example/s/1",
    "lat": 43.6, "lon": 1.44, "services": ["click_and_collect"],
}  # fmt: skip
OFFER = {
    "platform": "toutoulouse", "source_id": "P1", "shop_source_id": "S1", "title": "Pain",
    "price": 2.5, "url": "https://toutoulouse.example/p/1",
    "image_url": "https://toutoulouse.example/i/1.jpg",
}  # fmt: skip


@pytest.mark.parametrize("field", ["source_id", "name", "address", "city", "description"])
def test_shop_texts(field: str) -> None:
    for value in TEXTS:
        same(ShopRecord, {**SHOP, field: value})


@pytest.mark.parametrize("field", ["website", "url"])
def test_shop_links(field: str) -> None:
    for value in LINKS + [None, "Boulangerie\x00"]:
        same(ShopRecord, {**SHOP, field: value})


def test_shop_numbers_services_and_extras() -> None:
    for lat, services in itertools.product(NUMBERS, SERVICES):
        same(ShopRecord, {**SHOP, "lat": lat, "services": services})
    same(ShopRecord, {**SHOP, "unknown": "x"})
    same(ShopRecord, {**SHOP, "closed": "yes"})
    for missing in ("platform", "source_id", "name"):
        same(ShopRecord, {k: v for k, v in SHOP.items() if k != missing})


def test_offers() -> None:
    for field in ("source_id", "shop_source_id", "title", "currency"):
        for value in TEXTS:
            same(OfferRecord, {**OFFER, field: value})
    for field in ("url", "image_url"):
        for value in LINKS:
            same(OfferRecord, {**OFFER, field: value})
    for price in [*NUMBERS, -1.0]:
        same(OfferRecord, {**OFFER, "price": price})


def test_several_bad_fields_are_all_named() -> None:
    data = {**SHOP, "website": "javascript:x", "lat": 100.0, "source_id": "a\nb"}
    same(ShopRecord, data)
    _, errors = outcome(ShopRecord, data, validate_record)
    assert {error["loc"] for error in errors} == {("website",), ("lat",), ("source_id",)}


def test_the_models_validators_run_only_on_what_is_not_plain(monkeypatch: Any) -> None:
    calls: list[dict[str, Any]] = []
    original = ShopRecord.model_validate.__func__  # type: ignore[attr-defined]

    def spy(cls: type[ShopRecord], data: Any, **kwargs: Any) -> ShopRecord:
        calls.append(data)
        return original(cls, data, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(ShopRecord, "model_validate", classmethod(spy))
    plain = validate_record(ShopRecord, dict(SHOP))
    assert calls == [] and plain.website == "https://www.ange.fr/"
    bare = validate_record(ShopRecord, {**SHOP, "website": "www.ange.fr"})
    assert len(calls) == 1 and bare.website == "https://www.ange.fr"
    cleaned = validate_record(ShopRecord, {**SHOP, "city": "Tou\x00louse"})
    assert len(calls) == 2 and cleaned.city == "Toulouse"
