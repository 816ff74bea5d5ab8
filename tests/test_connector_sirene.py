"""The ``sirene`` kind: the standard suite on loopback, SIRENE's own columns, simpler extracts
through a mapping, SIRET checks, closed and non-public establishments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import serve_routes

import connectors.sirene
from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.sirene import is_closed, naf_category, street_address

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

GEO = Path(__file__).parent / "connector_fixtures" / "geo"
STOCK = (GEO / "sirene_stock.csv").read_text(encoding="utf-8")
SIMPLE_MAPPING = {"name": "name", "address": "address", "postcode": "postalCode", "city": "city"}
KIND = connectors.sirene.SireneKind()


class TestSireneKind(ConnectorSuite):
    kind = "sirene"

    def feed(self) -> dict[str, Any]:
        return {"/StockEtablissement_31.csv": (200, {"Content-Type": "text/csv"}, STOCK)}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "sirene-31",
            "kind": "sirene",
            "url": f"{base_url}/StockEtablissement_31.csv",
        }

    def broken_feed(self) -> dict[str, Any]:
        return {"/StockEtablissement_31.csv": (503, {"Retry-After": "0"}, "maintenance")}


def registration(
    url: str, mapping: dict[str, str] | None = None, **options: Any
) -> ConnectorRegistration:

    return ConnectorRegistration(
        platform="sirene-31", kind="sirene", url=url, mapping=mapping or {}, options=options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:
    return list(KIND.read(reg, state or {}, context))


def items(emitted: list[Emitted]) -> dict[str, Item]:
    return {e.record.source_id: e for e in emitted if isinstance(e, Item)}


def rejections(emitted: list[Emitted]) -> dict[str, str]:
    return {e.locator: e.reason for e in emitted if isinstance(e, Rejection)}


def test_the_stock_extract_needs_no_mapping(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "sirene_stock.csv")), context)
    found = {siret: item.record for siret, item in items(emitted).items()}
    assert list(found) == [
        "36227586900018",
        "53053041900015",
        "74900893400012",
        "92872031700017",
        "63122983800018",
        "03039901800016",
        "62239003700019",
    ]
    bakery = found["36227586900018"]
    assert isinstance(bakery, ShopRecord)
    assert bakery.model_dump(
        include={"name", "siret", "address", "postcode", "city", "category"}
    ) == {
        "name": "FOURNIL DES CARMES",
        "siret": "36227586900018",
        "address": "12 BIS AVENUE JEAN JAURES",
        "postcode": "31000",
        "city": "TOULOUSE",
        "category": "naf:10.71C",
    }
    assert found["53053041900015"].name == "FROMAGERIE DU TAUR"  # denominationUsuelle
    assert found["92872031700017"].address == "LIEU DIT EN SALVY"  # the complement: no street
    assert found["63122983800018"].category == "nafrev1:52.2J"  # an older nomenclature
    assert found["03039901800016"].category == "naf:47.21Z"  # 13 digits: the lost zero is back
    assert found["62239003700019"].category is None  # 00.00Z: not yet classified
    assert emitted[-1] == Checkpoint(state={"etag": None, "last_modified": None}, complete=True)


def test_closed_establishments_are_read_and_keep_their_state(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "sirene_stock.csv")), context)
    closed = {siret for siret, item in items(emitted).items() if is_closed(item.raw)}
    assert closed == {"74900893400012", "63122983800018"}
    item = items(emitted)["74900893400012"]
    assert item.raw["etatAdministratifEtablissement"] == "F"  # the raw payload, as received
    assert item.record.services == []  # type: ignore[union-attr]
    flagged = {s for s, i in items(emitted).items() if getattr(i.record, "closed", False)}
    assert flagged == closed


def test_refusals_name_the_reason(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "sirene_stock.csv")), context)
    assert rejections(emitted) == {
        "line 5": "the establishment's data is not public (statutDiffusionEtablissement P): "
        "not listed",
        "line 7": "siret (from 'siret'): '12345678901234' is not a valid SIRET (14 digits "
        "passing the Luhn check)",
        "line 8": "name (from 'enseigne1Etablissement|denominationUsuelleEtablissement'): "
        "missing or empty",
    }


def test_a_simpler_extract_through_a_mapping(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "sirene_simple.csv"), SIMPLE_MAPPING), context)
    found = items(emitted)
    assert list(found) == ["36227586900018", "53053041900015", "03039901800016"]
    first = found["36227586900018"].record
    assert (first.name, first.address, first.siret) == (  # type: ignore[union-attr]
        "SARL FOURNIL DES CARMES",
        "12 BIS AV JEAN JAURES",
        "36227586900018",
    )
    assert found["36227586900018"].raw["department"] == "31"
    refused = rejections(emitted)
    assert list(refused) == ["line 4", "line 14"]
    assert refused["line 4"].startswith("address (from 'address') spans 9 lines: a register")
    assert refused["line 14"] == "duplicate source_id '36227586900018' (first seen at line 2)"


def test_csv_options_and_sniffing_are_the_csv_kinds(context: ReadContext) -> None:
    latin = STOCK.replace(",", ";").replace("JEAN JAURES", "JEAN JAURÈS").encode("cp1252")
    with serve_routes({"/stock.csv": (200, {}, latin)}) as base:
        sniffed = items(read(registration(f"{base}/stock.csv"), context))
        with pytest.raises(ConnectorError, match="cannot decode .* as utf-8"):
            read(registration(f"{base}/stock.csv", encoding="utf-8"), context)
    assert sniffed["36227586900018"].record.address == "12 BIS AVENUE JEAN JAURÈS"  # type: ignore[union-attr]
    with pytest.raises(ConnectorError, match="option 'delimiter'"):
        read(registration(str(GEO / "sirene_stock.csv"), delimiter=";;"), context)


def test_header_problems_stop_the_run(context: ReadContext) -> None:
    with pytest.raises(ConnectorError, match="column 'raison' mapped to name is not in the CSV"):
        read(registration(str(GEO / "sirene_simple.csv"), {"name": "raison"}), context)
    with pytest.raises(ConnectorError, match="no enseigne1Etablissement or .* map name"):
        read(registration(str(GEO / "sirene_simple.csv")), context)
    no_siret = "code;nom\n1;Fournil\n"
    with serve_routes({"/x.csv": (200, {}, no_siret)}) as base:
        with pytest.raises(ConnectorError, match="no siret column .* map source_id"):
            read(registration(f"{base}/x.csv", {"name": "nom"}), context)
        other_id = items(
            read(registration(f"{base}/x.csv", {"name": "nom", "source_id": "code"}), context)
        )
    assert other_id["1"].record.siret is None  # type: ignore[union-attr]
    with pytest.raises(ConnectorError, match="reads establishments only"):
        read(registration(str(GEO / "sirene_stock.csv"), {"offer.title": "siret"}), context)


def test_an_unchanged_extract_answers_304(context: ReadContext) -> None:
    def feed(target: Any) -> tuple[int, dict[str, str], str]:
        if target.headers.get("If-None-Match") == '"2024-06"':
            return 304, {}, ""
        return 200, {"ETag": '"2024-06"'}, STOCK

    with serve_routes({"/stock.csv": feed}) as base:
        state = read(registration(f"{base}/stock.csv"), context)[-1].state  # type: ignore[union-attr]
        assert read(registration(f"{base}/stock.csv"), context, state) == [
            Checkpoint(state=state, complete=False)
        ]


def test_check_reads_a_sample(context: ReadContext) -> None:
    report = KIND.check(registration(str(GEO / "sirene_stock.csv")), context, limit=5)
    assert report.ok and len(report.records) == 4
    assert [r.locator for r in report.rejections] == ["line 5"]


def test_street_addresses_and_naf_codes() -> None:
    row = {
        "numeroVoieEtablissement": "3",
        "indiceRepetitionEtablissement": "T",
        "typeVoieEtablissement": "CHE",
        "libelleVoieEtablissement": "de la Plaine",
    }
    assert street_address(row) == "3 ter chemin de la Plaine"
    assert street_address({**row, "typeVoieEtablissement": "XYZ"}) == "3 ter XYZ de la Plaine"
    assert street_address({}) is None
    assert naf_category("1071C") == "naf:10.71C"
    assert naf_category(" 47.11b ") == "naf:47.11B"
    assert naf_category("Boulangerie") == "Boulangerie"
    assert naf_category("00.00Z") is None
    assert naf_category("52.2J", "NAFRev1") == "nafrev1:52.2J"
