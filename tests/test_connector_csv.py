"""The ``csv`` kind against fixture files served by a loopback server, plus mapping and registry."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from loopback import serve_directory, serve_routes

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors import registry
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.csv import CsvKind, decode, sniff_delimiter
from connectors.mapping import get_path, shop_from_row, validate_mapping_columns

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

FIXTURES = Path(__file__).parent / "connector_fixtures"
FR_MAPPING = {
    "source_id": "id",
    "name": "nom",
    "address": "adresse",
    "postcode": "code_postal",
    "city": "ville",
    "lat": "latitude",
    "lon": "longitude",
    "phone": "telephone",
    "services": "services",
}


@pytest.fixture
def fixtures_url() -> Iterator[str]:
    with serve_directory(FIXTURES) as base:
        yield base


def registration(url: str, mapping: dict[str, str], **options: Any) -> ConnectorRegistration:
    return ConnectorRegistration(
        platform="toutoulouse", kind="csv", url=url, mapping=mapping, options=options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:

    return list(CsvKind().read(reg, state or {}, context))


def items(emitted: list[Emitted]) -> list[Item]:
    return [e for e in emitted if isinstance(e, Item)]


def test_cp1252_semicolons_and_quoted_newlines(fixtures_url: str, context: ReadContext) -> None:
    emitted = read(registration(f"{fixtures_url}/shops_cp1252_semicolon.csv", FR_MAPPING), context)
    shops = items(emitted)
    assert [i.locator for i in shops] == ["line 2", "line 4", "line 5"]
    first = shops[0].record
    assert isinstance(first, ShopRecord)
    assert first.name == "Boulangerie Émile"
    assert first.address == "12 rue des Lois\r\nBâtiment B"
    assert (first.lat, first.lon) == (43.6045, 1.444)
    assert first.services == ["click-and-collect", "livraison"]
    assert (first.platform, first.country) == ("toutoulouse", "FR")
    assert shops[1].record.phone is None  # type: ignore[union-attr]
    assert shops[2].record.name == "Fromagerie Œuf & Co"  # type: ignore[union-attr]
    assert shops[0].raw["ville"] == "Toulouse"
    checkpoint = emitted[-1]
    assert isinstance(checkpoint, Checkpoint) and checkpoint.complete
    assert checkpoint.state["last_modified"]  # the static server sends Last-Modified


def test_utf8_bom_and_commas(fixtures_url: str, context: ReadContext) -> None:
    mapping = {
        "source_id": "shop_id",
        "name": "name",
        "address": "street",
        "postcode": "zip",
        "city": "city",
        "lat": "lat",
        "lon": "lon",
        "website": "website",
    }
    shops = items(read(registration(f"{fixtures_url}/shops_utf8_bom_comma.csv", mapping), context))
    assert [s.record.source_id for s in shops] == ["S1", "S2"]
    assert shops[1].record.name == 'Fleurs "Belle Rose", Toulouse'  # type: ignore[union-attr]
    assert shops[1].record.lat is None  # type: ignore[union-attr]


def test_tab_separated_from_a_local_path(context: ReadContext) -> None:
    mapping = {"source_id": "id", "name": "name", "city": "city", "category": "category"}
    emitted = read(registration(str(FIXTURES / "shops_tab.tsv"), mapping), context)
    assert [i.record.name for i in items(emitted)] == ["La Cave à Fromages", "L'Atelier du Vélo"]
    assert emitted[-1] == Checkpoint(state={"etag": None, "last_modified": None}, complete=True)


def test_options_override_sniffing(context: ReadContext) -> None:
    reg = registration(
        str(FIXTURES / "shops_tab.tsv"),
        {"source_id": "id", "name": "name"},
        delimiter="tab",
        encoding="utf-8",
    )
    assert len(items(read(reg, context))) == 2
    reg = registration(str(FIXTURES / "shops_cp1252_semicolon.csv"), FR_MAPPING, encoding="utf-8")
    with pytest.raises(ConnectorError, match="cannot decode .* as utf-8: byte 0xc9"):
        read(reg, context)


def test_unknown_options_name_the_field(context: ReadContext) -> None:
    reg = registration(
        str(FIXTURES / "shops_tab.tsv"), {"source_id": "id", "name": "name"}, delimitr=";"
    )
    with pytest.raises(ConnectorError, match="option 'delimitr': Extra inputs are not permitted"):
        read(reg, context)
    reg = registration(
        str(FIXTURES / "shops_tab.tsv"), {"source_id": "id", "name": "name"}, encoding="klingon"
    )
    with pytest.raises(ConnectorError, match="option 'encoding'.*unknown encoding 'klingon'"):
        read(reg, context)


def test_rejections_carry_line_numbers_and_reasons(fixtures_url: str, context: ReadContext) -> None:
    mapping = {"source_id": "id", "name": "name", "city": "city", "lat": "lat", "lon": "lon"}
    emitted = read(registration(f"{fixtures_url}/shops_rejections.csv", mapping), context)
    assert [(i.locator, i.record.source_id) for i in items(emitted)] == [
        ("line 2", "R1"),
        ("line 9", "R5"),
    ]
    rejections = {r.locator: r for r in emitted if isinstance(r, Rejection)}
    assert list(rejections) == ["line 4", "line 5", "line 6", "line 7"]
    assert rejections["line 4"].reason == "name (from 'name'): missing or empty"
    assert rejections["line 5"].reason.startswith("lat (from 'lat'): Input should be less than")
    assert rejections["line 6"].reason == "duplicate source_id 'R1' (first seen at line 2)"
    assert rejections["line 7"].reason == "6 fields where the header has 5"
    assert '"id": "R2"' in rejections["line 4"].excerpt
    assert items(emitted)[1].record.lat == 43.59  # type: ignore[union-attr]


def test_a_missing_mapped_column_fails_before_any_row(context: ReadContext) -> None:
    mapping = dict(FR_MAPPING, postcode="zip")
    emitted = CsvKind().read(
        registration(str(FIXTURES / "shops_cp1252_semicolon.csv"), mapping), {}, context
    )
    with pytest.raises(ConnectorError) as failed:
        next(emitted)
    assert str(failed.value).startswith(
        "column 'zip' mapped to postcode is not in the CSV header (columns: id, nom, adresse,"
    )


def test_source_id_and_name_must_be_mapped(context: ReadContext) -> None:
    path = str(FIXTURES / "shops_tab.tsv")
    with pytest.raises(ConnectorError, match="no 'source_id' field"):
        read(registration(path, {"name": "name"}), context)
    with pytest.raises(ConnectorError, match="no 'name' field"):
        read(registration(path, {"source_id": "id"}), context)


def test_rows_are_offers_when_the_mapping_has_offer_fields_only(
    tmp_path: Path, context: ReadContext
) -> None:
    feed = tmp_path / "offers.csv"
    feed.write_text("sku;shop;title;price\nA1;B001;Baguette;1,20 €\nA2;B001;;2\n", "utf-8")
    mapping = {
        "offer.source_id": "sku",
        "offer.shop_source_id": "shop",
        "offer.title": "title",
        "offer.price": "price",
    }
    emitted = read(registration(str(feed), mapping), context)
    offer = items(emitted)[0].record
    assert isinstance(offer, OfferRecord)
    assert (offer.shop_source_id, offer.title, offer.price) == ("B001", "Baguette", 1.2)
    assert isinstance(emitted[1], Rejection) and emitted[1].locator == "line 3"


def test_local_files_are_refused_unless_allowed(context: ReadContext) -> None:
    refused = ReadContext(http=context.http, allow_local_files=False)
    reg = registration(str(FIXTURES / "shops_tab.tsv"), {"source_id": "id", "name": "name"})
    with pytest.raises(ConnectorError, match="local files are only accepted"):
        read(reg, refused)


def test_an_unchanged_feed_answers_304_and_marks_nothing(context: ReadContext) -> None:
    body = "id,name\n1,Fournil\n"

    def feed(target: Any) -> tuple[int, dict[str, str], str]:
        if target.headers["If-None-Match"] == '"v1"':
            return 304, {"ETag": '"v1"'}, ""
        return 200, {"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2020 10:00:00 GMT"}, body

    with serve_routes({"/shops.csv": feed}) as base:
        reg = registration(f"{base}/shops.csv", {"source_id": "id", "name": "name"})
        first = read(reg, context)
        state = first[-1].state  # type: ignore[union-attr]
        assert state == {"etag": '"v1"', "last_modified": "Tue, 01 Dec 2020 10:00:00 GMT"}
        second = read(reg, context, state)
    assert second == [Checkpoint(state=state, complete=False)]
    assert base.requests[1].headers["If-Modified-Since"] == "Tue, 01 Dec 2020 10:00:00 GMT"


def test_check_reports_records_rejections_and_problems(
    fixtures_url: str, context: ReadContext
) -> None:
    mapping = {"source_id": "id", "name": "name", "city": "city", "lat": "lat", "lon": "lon"}
    report = CsvKind().check(
        registration(f"{fixtures_url}/shops_rejections.csv", mapping), context, limit=3
    )
    assert report.ok and not report.problems
    assert [r.source_id for r in report.records] == ["R1"]
    assert [r.locator for r in report.rejections] == ["line 4", "line 5"]
    unreachable = CsvKind().check(registration(f"{fixtures_url}/nope.csv", mapping), context)
    assert not unreachable.ok
    assert "404" in unreachable.problems[0]


def test_sniffing_and_decoding() -> None:
    assert sniff_delimiter('a;b;"c,d"\n1;2;3\n') == ";"
    assert sniff_delimiter("a|b\n1|2\n") == "|"
    assert sniff_delimiter("a\tb, c\td\n1\t2, 3\t4\n") == "\t"
    assert sniff_delimiter("single\nvalue\n") == ","
    assert decode("é".encode("utf-16"), None, "x") == "é"
    assert decode(b"\xef\xbb\xbfid", None, "x") == "id"
    assert decode("Œuf".encode("cp1252"), None, "x") == "Œuf"


# -- mapping -----------------------------------------------------------------------------------


def test_mapping_paths_and_values() -> None:
    row = {"a.b": "flat", "address": {"city": " Toulouse "}, "products": [{"name": "Pain"}]}
    assert get_path(row, "a.b") == "flat"
    assert get_path(row, "address.city") == " Toulouse "
    assert get_path(row, "products.0.name") == "Pain"
    assert get_path(row, "products.3.name") is None
    reg = registration(
        "x",
        {
            "source_id": "id",
            "name": "n",
            "city": "address.city",
            "lat": "lat",
            "services": "s",
            "country": "c",
        },
    )
    shop = shop_from_row(
        reg,
        {
            "id": 7,
            "n": "Fournil",
            "address": {"city": " Toulouse "},
            "lat": "43,6",
            "s": "retrait; livraison,",
            "c": "be",
        },
        "line 2",
    )
    assert shop == ShopRecord(
        platform="toutoulouse",
        source_id="7",
        name="Fournil",
        city="Toulouse",
        lat=43.6,
        services=["retrait", "livraison"],
        country="BE",
    )
    rejected = shop_from_row(reg, {"id": "8", "n": " ", "lat": "nord"}, "line 3")
    assert isinstance(rejected, Rejection)
    assert rejected.reason.startswith("name (from 'n'): missing or empty; lat (from 'lat'): ")


def test_mapped_values_read_as_get_path_reads_them() -> None:
    """The row loop's own walk through plain objects gives what ``get_path`` gives, for every
    shape of row; and a mapping changed in place is read anew, not from the last rows'."""
    from types import MappingProxyType

    mapping = {"source_id": "id", "name": "shop.name", "city": "a.b", "address": "x.0.street"}
    reg = registration("x", mapping)
    rows: list[Any] = [
        {"id": "1", "shop": {"name": " Épi "}, "a.b": "Albi", "x": [{"street": "1 rue"}]},
        {"id": "2", "shop": {"name": "Épi"}, "a": {"b": "Muret"}, "x": []},
        {"id": "3", "shop": None, "a": "plain", "x": {"0": {"street": "2 rue"}}},
        {"id": "4", "shop": MappingProxyType({"name": "Proxy"}), "x": [None]},
        MappingProxyType({"id": "5", "shop": {"name": "Vue"}, "a.b": "Castres"}),
    ]
    for row in rows:
        result = shop_from_row(reg, row, "line 2")
        expected = {
            field: value.strip() if isinstance(value, str) else value
            for field, source in mapping.items()
            if (value := get_path(row, source)) not in (None, "", " ")
        }
        if "name" not in expected:
            assert isinstance(result, Rejection) and "name (from 'shop.name')" in result.reason
            continue
        assert isinstance(result, ShopRecord)
        assert result.model_dump(exclude_unset=True) == {
            "platform": "toutoulouse", "country": "FR", **expected
        }  # fmt: skip
    reg.mapping["name"] = "a.b"  # the registration's own mapping, changed in place
    shop = shop_from_row(reg, rows[0], "line 2")
    assert isinstance(shop, ShopRecord) and shop.name == "Albi"


def test_validate_mapping_columns_names_every_missing_column() -> None:
    with pytest.raises(ConnectorError) as failed:
        validate_mapping_columns(
            {"source_id": "id", "postcode": "zip", "offer.title": "t"},
            ["id", "name"],
            "the CSV header",
        )
    assert str(failed.value) == (
        "column 'zip' mapped to postcode is not in the CSV header; column 't' mapped to "
        "offer.title is not in the CSV header (columns: id, name)"
    )


# -- registry ----------------------------------------------------------------------------------


def test_builtin_kinds_are_registered_like_any_other() -> None:
    assert {"csv", "json_api"} <= set(registry.kinds())
    assert isinstance(registry.get_kind("csv"), CsvKind)
    with pytest.raises(ConnectorError, match="unknown connector kind 'xml'; known kinds: csv, "):
        registry.get_kind("xml")


def test_a_third_party_kind_registers_through_the_same_function() -> None:
    @registry.register
    class EchoKind:
        name = "echo_test"
        Config = CsvKind.Config

        def read(self, registration: Any, state: Any, context: Any) -> Iterator[Emitted]:
            yield Checkpoint(state={}, complete=True)

        def check(self, registration: Any, context: Any, limit: int = 20) -> Any:
            return registry.check_by_reading(self, registration, context, limit)

    try:
        assert "echo_test" in registry.kinds()
        report = registry.get_kind("echo_test").check(registration("x", {}), None)  # type: ignore[arg-type]
        assert report.problems == ["no valid record in the sample read from the feed"]
        with pytest.raises(ConnectorError, match="already registered"):
            registry.register(type("Other", (EchoKind,), {})())
        with pytest.raises(ConnectorError, match="no Config, read, check"):
            registry.register(type("Half", (), {"name": "half"}))
    finally:
        registry.unregister("echo_test")
    assert "echo_test" not in registry.kinds()


class EntryPointKind(CsvKind):
    """A kind a third-party package would declare under ``aggregator.connectors``."""

    name = "entry_point_test"


def test_entry_point_kinds_load_lazily_and_a_broken_one_is_tolerated(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    group = registry.ENTRY_POINT_GROUP
    declared = [
        EntryPoint("good", f"{__name__}:EntryPointKind", group),
        EntryPoint("broken", "no_such_module_anywhere:Kind", group),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: declared)
    monkeypatch.setattr(registry, "_loaded", False)
    try:
        assert "entry_point_test" in registry.kinds()
        assert isinstance(registry.get_kind("entry_point_test"), EntryPointKind)
        assert "cannot load connector kind 'broken'" in caplog.text
    finally:
        registry.unregister("entry_point_test")
