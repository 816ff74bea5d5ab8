"""Normalising rows of a shop table: the per-record Python work of matching, done once.

Values that repeat (streets, towns, postcodes, categories, websites) are normalised once per
distinct raw text; a French phone number takes a regex, not phonenumbers. A chunk of rows comes
out as numpy columns, the texts scoring compares (names, streets, towns) packed, and the name
words blocking uses as flat hash arrays. Chunks are independent:
:mod:`dedupe.prepare.columns_of` may normalise them in worker processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np

from dedupe.prepare.identifiers import (
    normalise_email,
    normalise_siret,
    phone_digits,
    website_domain,
)
from dedupe.prepare.streets import street_segment
from dedupe.prepare.table import ShopTable
from dedupe.prepare.taxonomy import Taxonomy, load_taxonomy
from dedupe.prepare.text import fold, word_length
from dedupe.prepare.values import (
    STREET_TYPE_WORDS,
    name_and_words,
    normalise_city,
    normalise_postcode,
    parse_street_part,
    split_number,
)

#: House-number suffixes as codes (0: none).
SUFFIX_CODES = {"bis": 1, "ter": 2, "quater": 3, "quinquies": 4, "a": 5, "b": 6, "c": 7, "d": 8}
SUFFIX_NAMES = {code: name for name, code in SUFFIX_CODES.items()}

#: Array columns and their dtypes (hashes: 0 is missing; codes: -1; coordinates: NaN).
ARRAYS: dict[str, Any] = {
    "name_hash": np.int64, "number": np.int32, "number_to": np.int32, "suffix": np.int8,
    "street_hash": np.int64,
    "street_word": np.int64, "postcode": np.int32, "city_hash": np.int64, "phone1": np.int64,
    "phone2": np.int64, "email": np.int64, "domain": np.int64, "siret": np.int64,
    "category": np.int16, "group": np.int16, "lat": np.float64, "lon": np.float64,
    "whole_hash": np.int64,
}  # fmt: skip
#: Text columns (packed).
TEXTS = ("names", "streets", "cities")
#: Entries a raw-text cache holds before it is emptied (bounded memory on unique data).
CACHE_LIMIT = 200_000
#: Name words, flat: per row its word count, then each word's hash and length.
WORDS = ("word_count", "word_hash", "word_len")


class Normaliser:
    """Normalises rows of a table; keeps its caches of repeated values between calls."""

    def __init__(self, taxonomy: Taxonomy | None = None, platform_domains: Iterable[str] = ()):
        self.taxonomy = taxonomy or load_taxonomy()
        self.ignored = tuple(d.lower() for d in platform_domains)
        slugs = list(self.taxonomy.themes)
        groups = sorted({t.group for t in self.taxonomy.themes.values() if t.group})
        self.category_codes = {slug: i for i, slug in enumerate(slugs)}
        self.category_slugs = slugs
        self.group_codes = {g: i for i, g in enumerate(groups)}
        self._streets: dict[str, tuple[str, str | None, str | None, int]] = {}
        self._cities: dict[str, str | None] = {}
        self._postcodes: dict[str, int] = {}
        self._categories: dict[tuple[str, str], tuple[int, int]] = {}
        self._websites: dict[str, int] = {}
        # Whole names and addresses repeat across platforms (one shop, copied listings):
        # cached by raw text, the caches emptied when they reach CACHE_LIMIT entries.
        self._names: dict[str, tuple[str, list[str]]] = {}
        self._addresses: dict[str, tuple[int, int, str, str | None, str | None, int, int]] = {}

    def name(self, raw: str) -> tuple[str, list[str]]:
        found = self._names.get(raw)
        if found is None:
            if len(self._names) >= CACHE_LIMIT:
                self._names.clear()
            found = self._names[raw] = name_and_words(raw)
        return found

    def street(self, rest: str) -> tuple[str, str | None, str | None, int]:
        """``(street, postcode, town, hash of its longest distinctive word)`` of the text after
        a house number; cached, so the many records of one street share one string."""
        found = self._streets.get(rest)
        if found is None:
            street, postcode, city = parse_street_part(rest)
            words = [w for w in street.split() if len(w) > 2 and w not in STREET_TYPE_WORDS]
            word = hash(max(words, key=len)) if words else 0
            found = self._streets[rest] = (street, postcode, city, word)
        return found

    def city(self, raw: str | None) -> str | None:
        if not raw:
            return None
        found = self._cities.get(raw, "")
        if found == "":
            found = self._cities[raw] = normalise_city(raw) or None
        return found

    def postcode(self, raw: str | None) -> int:
        if not raw:
            return -1
        found = self._postcodes.get(raw)
        if found is None:
            text = normalise_postcode(raw)
            found = self._postcodes[raw] = int(text) if text else -1
        return found

    def category(self, platform: str, raw: str | None) -> tuple[int, int]:
        if not raw:
            return -1, -1
        found = self._categories.get((platform, raw))
        if found is None:
            slug = self.taxonomy.normalise(raw, platform)
            group = self.taxonomy.group(slug)
            found = (
                self.category_codes.get(slug or "", -1),
                self.group_codes.get(group or "", -1),
            )
            self._categories[(platform, raw)] = found
        return found

    def website(self, raw: str | None) -> int:
        if not raw:
            return 0
        found = self._websites.get(raw)
        if found is None:
            domain = website_domain(raw, self.ignored)
            found = self._websites[raw] = hash(domain) if domain else 0
        return found

    def rows(self, table: ShopTable, start: int, stop: int) -> dict[str, Any]:
        """Normalised columns for rows ``start`` to ``stop`` of ``table``."""
        n = stop - start

        def take(name: str) -> list[Any]:
            return table.slice(name, start, stop)

        def array(values: Any, dtype: Any) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=n)

        both = [self.name(x) for x in take("name")]
        names = [name for name, _ in both]
        words = [w for _, w in both]
        out: dict[str, Any] = {"names": names}
        out["name_hash"] = array((hash(x) if x else 0 for x in names), np.int64)
        # The name written without spaces (a blocking key): "maki mori" = "makimori".
        squashed = (x.replace(" ", "") for x in names)
        out["whole_hash"] = array((hash(x) if len(x) > 3 else 0 for x in squashed), np.int64)
        flat = list(chain.from_iterable(words))
        out["word_count"] = array(map(len, words), np.int16)
        out["word_hash"] = np.fromiter(map(hash, flat), np.int64, count=len(flat))
        out["word_len"] = np.fromiter(map(word_length, flat), np.int16, count=len(flat))
        parsed = [
            self._address(*row)
            for row in zip(take("address"), take("postcode"), take("city"), strict=False)
        ]
        for k, name in enumerate(("number", "suffix", "streets", "postcode", "cities")):
            values = [p[k] for p in parsed]
            out[name] = values if name in TEXTS else array(values, ARRAYS[name])
        out["street_word"] = array((p[5] for p in parsed), np.int64)
        out["number_to"] = array((p[6] for p in parsed), np.int32)
        out["street_hash"] = array((hash(x) if x else 0 for x in out["streets"]), np.int64)
        out["city_hash"] = array((hash(x) if x else 0 for x in out["cities"]), np.int64)
        phones = [
            phone_digits(raw, country or "FR") if raw else (0, 0)
            for raw, country in zip(take("phone"), take("country"), strict=True)
        ]
        out["phone1"] = array((p for p, _ in phones), np.int64)
        out["phone2"] = array((p for _, p in phones), np.int64)
        emails = (_hash_or_zero(normalise_email(x)) if x else 0 for x in take("email"))
        out["email"] = array(emails, np.int64)
        out["domain"] = array(map(self.website, take("website")), np.int64)
        out["siret"] = array((_siret(x) if x else 0 for x in take("siret")), np.int64)
        codes = [
            self.category(p, c) for p, c in zip(take("platform"), take("category"), strict=False)
        ]
        out["category"] = array((c for c, _ in codes), np.int16)
        out["group"] = array((g for _, g in codes), np.int16)
        lat = np.array([np.nan if v is None else v for v in take("lat")], dtype=np.float64)
        lon = np.array([np.nan if v is None else v for v in take("lon")], dtype=np.float64)
        missing = np.isnan(lat) | np.isnan(lon)
        lat[missing] = lon[missing] = np.nan
        out["lat"], out["lon"] = lat, lon
        return out

    def _address(
        self, raw: str | None, raw_postcode: str | None, raw_city: str | None
    ) -> tuple[int, int, str | None, int, str | None, int, int]:
        """``(number, suffix code, street, postcode, town, street word, range end)`` of one
        record."""
        number = suffix = word = last = 0
        street = text_postcode = text_city = None
        if raw:
            found = self._addresses.get(raw)
            if found is None:
                if len(self._addresses) >= CACHE_LIMIT:
                    self._addresses.clear()
                segment, last = street_segment(raw)
                house, rest = split_number(fold(segment))
                street, text_postcode, text_city, word = self.street(rest)
                if "," in raw and text_postcode is None:
                    # "12 rue X, 31000 Toulouse": the postcode and town are in another part.
                    _, text_postcode, text_city, _ = self.street(split_number(fold(raw))[1])
                if house:
                    digits, _, tail = house.partition(" ")
                    number, suffix = int(digits[:9]), SUFFIX_CODES.get(tail, 0)
                found = (number, suffix, street, text_postcode, text_city, word, last)
                self._addresses[raw] = found
            number, suffix, street, text_postcode, text_city, word, last = found
        code = self.postcode(raw_postcode)
        if code < 0 and text_postcode:
            code = int(text_postcode)
        city = self.city(raw_city) or text_city
        return number, suffix, street or None, code, city, word, last


def _hash_or_zero(value: str | None) -> int:
    return hash(value) if value else 0


def _siret(raw: str | None) -> int:
    value = normalise_siret(raw) if raw else None
    return int(value) if value else 0
