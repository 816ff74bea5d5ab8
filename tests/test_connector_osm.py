"""The ``osm`` kind: the standard suite on loopback, Overpass JSON and GeoJSON exports, the
default mapping and its overrides, ids, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import serve_routes

import connectors.osm
from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

GEO = Path(__file__).parent / "connector_fixtures" / "geo"
OVERPASS = (GEO / "overpass_shops.json").read_text(encoding="utf-8")
KIND = connectors.osm.OsmKind()


def timed_out() -> str:
    """What Overpass answers when a query runs out of time: 200, part of the elements, a remark."""
    document = json.loads(OVERPASS)
    document["elements"] = document["elements"][:2]
    document["remark"] = 'runtime error: Query timed out in "query" at line 3 after 26 seconds.'
    return json.dumps(document)


class TestOsmKind(ConnectorSuite):
    kind = "osm"

    def feed(self) -> dict[str, Any]:
        return {"/api/interpreter": (200, {"Content-Type": "application/json"}, OVERPASS)}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {"platform": "geolocal31", "kind": "osm", "url": f"{base_url}/api/interpreter"}

    def broken_feed(self) -> dict[str, Any]:
        return {"/api/interpreter": (200, {}, timed_out())}


def registration(
    url: str, mapping: dict[str, str] | None = None, **options: Any
) -> ConnectorRegistration:

    return ConnectorRegistration(
        platform="geolocal31", kind="osm", url=url, mapping=mapping or {}, options=options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:
    return list(KIND.read(reg, state or {}, context))


def shops(emitted: list[Emitted]) -> dict[str, ShopRecord]:
    return {e.record.source_id: e.record for e in emitted if isinstance(e, Item)}  # type: ignore[misc]


def rejections(emitted: list[Emitted]) -> dict[str, str]:
    return {e.locator: e.reason for e in emitted if isinstance(e, Rejection)}


def test_overpass_json_with_the_default_mapping(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "overpass_shops.json")), context)
    found = shops(emitted)
    assert list(found) == [
        "node/1001",
        "node/1002",
        "way/2001",
        "way/2002",
        "relation/4001",
        "node/1004",
    ]
    bakery = found["node/1001"]
    assert bakery.model_dump(exclude={"platform", "country", "description", "email"}) == {
        "source_id": "node/1001",
        "name": "Boulangerie du Capitole",
        "address": "12 Rue du Taur",
        "postcode": "31000",
        "city": "Toulouse",
        "phone": "+33 5 61 00 00 01",
        "website": "https://capitole-pain.example",
        "siret": "36227586900018",
        "category": "shop=bakery",
        "lat": 43.6045,
        "lon": 1.444,
        "opening_hours": "Tu-Su 07:00-13:00",
        "url": "https://www.openstreetmap.org/node/1001",
        "services": ["delivery", "takeaway"],
        "closed": False,
    }
    cobbler = found["node/1002"]  # contact:* tags; takeaway=no is no service
    assert (cobbler.phone, cobbler.email, cobbler.website) == (
        "+33 5 61 00 00 02",
        "atelier@cordonnerie.example",
        "https://cordonnerie.example",
    )
    assert (cobbler.category, cobbler.services) == ("craft=shoemaker", ["click_and_collect"])
    market = found["way/2001"]  # out center
    assert (market.lat, market.lon, market.address) == (43.6068, 1.4468, "Place Victor Hugo")
    shop = found["way/2002"]  # out body + the way's nodes: their mean, the closing one once
    assert (shop.lat, shop.lon) == pytest.approx((43.6113333, 1.441))
    assert found["relation/4001"].lat == pytest.approx(43.601)  # out bb: the box's middle
    assert found["node/1004"].address == "8 place du Salin, 31000 Toulouse"  # addr:full
    assert isinstance(emitted[-1], Checkpoint) and emitted[-1].complete


def test_elements_without_a_name_are_refused_and_way_nodes_are_geometry(
    context: ReadContext,
) -> None:
    emitted = read(registration(str(GEO / "overpass_shops.json")), context)
    assert rejections(emitted) == {
        "/elements/2": "name (from 'name'): missing or empty",  # a pharmacy without a name
        "/elements/10": "name (from 'name'): missing or empty",  # an untagged lone node
    }
    locators = {e.locator for e in emitted if isinstance(e, Item | Rejection)}
    assert not locators & {"/elements/5", "/elements/6", "/elements/7"}  # way 2002's nodes


def test_geojson_exports_of_osm_data(context: ReadContext) -> None:
    emitted = read(registration(str(GEO / "osm_export.geojson")), context)
    found = shops(emitted)
    assert list(found) == ["node/1001", "way/2001", "node/1005"]
    assert found["node/1001"].opening_hours == "Tu-Su 07:00-13:00 / 15:00-19:00"
    assert (found["way/2001"].lat, found["way/2001"].lon) == pytest.approx((43.607, 1.447))
    florist = found["node/1005"]  # osmtogeojson: type, id and tags in the properties
    assert (florist.name, florist.category, florist.services) == (
        "Fleurs des Carmes",
        "shop=florist",
        ["delivery"],
    )
    assert rejections(emitted) == {"/features/3": "name (from 'name'): missing or empty"}


def test_a_mapping_overrides_the_defaults_field_by_field(context: ReadContext) -> None:
    mapping = {"name": "name|brand", "address": "adresse", "description": "note"}
    document = {
        "elements": [
            {"type": "node", "id": 1, "lat": 43.6, "lon": 1.4, "tags": {"brand": "Biocoop"}},
            {
                "type": "node",
                "id": 2,
                "lat": 43.6,
                "lon": 1.5,
                "tags": {"name": "Cabinet", "adresse": "3 rue Haute", "healthcare": "doctor"},
            },
        ]
    }
    with serve_routes({"/osm.json": (200, {}, json.dumps(document))}) as base:
        found = shops(read(registration(f"{base}/osm.json", mapping), context))
        keys = shops(read(registration(f"{base}/osm.json", category_keys=["amenity"]), context))
    assert found["node/1"].name == "Biocoop"
    assert (found["node/2"].address, found["node/2"].category) == (
        "3 rue Haute",
        "healthcare=doctor",
    )
    assert keys["node/2"].category is None


def test_an_export_that_reuses_ids_says_so_or_reads_ids_from_content(context: ReadContext) -> None:
    def feature(name: str, lon: float) -> dict[str, Any]:
        geometry = {"type": "Point", "coordinates": [lon, 46.32]}
        return {
            "type": "Feature",
            "properties": {"@id": "node/7", "name": name},
            "geometry": geometry,
        }

    export = {
        "type": "FeatureCollection",
        "features": [feature("Dr A", -0.45), feature("Dr B", -0.46)],
    }
    with serve_routes({"/doctors.json": (200, {}, json.dumps(export))}) as base:
        strict = read(registration(f"{base}/doctors.json"), context)
        content = read(registration(f"{base}/doctors.json", source_id_from="content"), context)
    assert rejections(strict) == {
        "/features/1": "duplicate source_id 'node/7' (first seen at /features/0): the export "
        "gives this OSM id to another place; set the option source_id_from to content"
    }
    derived = list(shops(content).values())
    assert [s.name for s in derived] == ["Dr A", "Dr B"]
    assert all(s.source_id.startswith("c-") and s.url is None for s in derived)


def test_documents_that_are_not_osm_stop_the_run(context: ReadContext) -> None:
    routes = {
        "/garbage": (200, {}, "<html>502 Bad Gateway</html>"),
        "/other": (200, {}, json.dumps({"data": []})),
        "/timeout": (200, {}, timed_out()),
    }
    with serve_routes(routes) as base:
        with pytest.raises(ConnectorError, match="garbage: not valid JSON"):
            read(registration(f"{base}/garbage"), context)
        with pytest.raises(ConnectorError, match="neither Overpass JSON .* found \\['data'\\]"):
            read(registration(f"{base}/other"), context)
        with pytest.raises(ConnectorError, match="Overpass stopped before the end .* timed out"):
            read(registration(f"{base}/timeout"), context)
    with pytest.raises(ConnectorError, match="reads places only: remove offer.title"):
        read(registration(str(GEO / "overpass_shops.json"), {"offer.title": "name"}), context)
    with pytest.raises(ConnectorError, match="option 'category_keys'"):
        read(registration(str(GEO / "overpass_shops.json"), category_keys=[]), context)


def test_non_objects_are_refused_with_their_pointer(context: ReadContext) -> None:
    document = {"elements": [42, {"type": "node", "id": 1, "tags": {"name": "Sans position"}}]}
    with serve_routes({"/odd.json": (200, {}, json.dumps(document))}) as base:
        emitted = read(registration(f"{base}/odd.json"), context)
    assert rejections(emitted) == {
        "/elements/0": "not an OSM element: an object with tags (or properties) was expected"
    }
    assert shops(emitted)["node/1"].lat is None


def test_an_unchanged_extract_answers_304(context: ReadContext) -> None:
    def feed(target: Any) -> tuple[int, dict[str, str], str]:
        if target.headers.get("If-Modified-Since") == "Tue, 07 Apr 2020 09:00:00 GMT":
            return 304, {}, ""
        return 200, {"Last-Modified": "Tue, 07 Apr 2020 09:00:00 GMT"}, OVERPASS

    with serve_routes({"/shops.json": feed}) as base:
        first = read(registration(f"{base}/shops.json"), context)
        state = first[-1].state  # type: ignore[union-attr]
        second = read(registration(f"{base}/shops.json"), context, state)
    assert state == {"etag": None, "last_modified": "Tue, 07 Apr 2020 09:00:00 GMT"}
    assert second == [Checkpoint(state=state, complete=False)]


def test_check_reads_a_sample(context: ReadContext) -> None:
    report = KIND.check(registration(str(GEO / "overpass_shops.json")), context, limit=4)
    assert report.ok
    assert [r.source_id for r in report.records] == ["node/1001", "node/1002", "way/2001"]
    assert [r.locator for r in report.rejections] == ["/elements/2"]
