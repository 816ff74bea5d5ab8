"""A row's mapped values: the function written for a mapping reads a plain dict as the general
walk reads any mapping, whatever the column names; numbers as written in feeds."""

from __future__ import annotations

import types
from typing import Any

import pytest

from connectors.mapping import _compile, _mapped_values, _number

#: Column names a registration may hold: quotes, backslashes, newlines, code, dots, non-ASCII.
COLUMNS = [
    "nom", "a'b\"c", "back\\slash", "new\nline", "__import__('os').system('x')", "é €",
    "adresse.ville", "geo.0.lat", "{x}", "", "   ",
]  # fmt: skip
FIELDS = ["source_id", "name", "address", "city", "phone", "lat", "lon", "services", "url"]
VALUES: list[Any] = [
    " Épicerie ", "", "  ", None, 42, 4.0, 4.5, True, "43,6", " 1 000,5 € ", "x;y, z",
    ["a", " ", "b"], {"ville": "Albi"}, [{"lat": "1,5"}],
]  # fmt: skip


def mapped(mapping: dict[str, str], row: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    compiled = _compile(tuple(mapping.items()))
    _mapped_values(compiled.shop, row, values)
    return values


@pytest.mark.parametrize("start", range(len(VALUES)))
def test_written_extractor_reads_as_the_general_walk(start: int) -> None:
    mapping = {field: COLUMNS[(i + start) % len(COLUMNS)] for i, field in enumerate(FIELDS)}
    row = {column: VALUES[(i + start) % len(VALUES)] for i, column in enumerate(COLUMNS)}
    # The dotted column as a key, else a path: through an object, a list, a text, nothing.
    if start % 2:
        del row["adresse.ville"]
    row["adresse"] = [{"ville": "Albi"}, "Albi", None, {"ville": VALUES[start]}][start % 4]
    row["geo"] = [{"lat": VALUES[start]}]
    fast = mapped(mapping, row)
    general = mapped(mapping, types.MappingProxyType(row))  # not a dict: the general walk
    assert repr(fast) == repr(general)
    assert fast  # the row does fill fields


def test_number_fast_path_reads_as_before() -> None:
    def before(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return value

    texts = ["43,6", "43.6", " 43,6 ", "1 000,5", "12 €", "12,50\u00a0€", "1,000.5", "nan",
             "inf", "-0", "1_000", "1e5", "1,5e3", "abc", "", "\u00a043,6", "4 3", "1.2.3", ",5",
             "5,", "+1,5", "0x10", "١٢", 7, None]  # fmt: skip
    for text in texts:
        assert repr(_number(text)) == repr(before(text)), text


def test_written_extractor_reads_numbers_as_the_cleaner() -> None:
    """The number cleaning written into the extractor gives what ``_clean_number`` gives."""
    texts = ["43,6", "43.6", " 43,6 ", "1 000,5", "12 €", "12,50\u00a0€", "1,000.5", "nan",
             "inf", "-0", "1_000", "1e5", "1,5e3", "abc", "", "  ", "\u00a043,6", "4 3", ",5",
             "+1,5", "0x10", "١٢", 7, 4.5, True, None, ["1"], {"a": 1}]  # fmt: skip
    for value in texts:
        row = {"id": "1", "lat": value, "lon": value}
        fast = mapped({"source_id": "id", "lat": "lat", "lon": "lon"}, row)
        general = mapped(
            {"source_id": "id", "lat": "lat", "lon": "lon"}, types.MappingProxyType(row)
        )
        assert repr(fast) == repr(general), value
