"""The ``geojson`` kind: the standard suite on loopback, then mapping, geometry, ids, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import serve_routes

import connectors.geojson
from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.geo_common import content_id, representative_point
from connectors.http import FeedClient

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

LAYER_PATH = Path(__file__).parent / "connector_fixtures" / "geo" / "layer_shops.geojson"
LAYER = LAYER_PATH.read_text(encoding="utf-8")
#: The lockdown directory's properties (pseudonymised fixture, same shape as the real layers).
LOCKDOWN_MAPPING = {
    "name": "qui",
    "category": "quoi",
    "address": "adresse",
    "postcode": "code posta",
    "city": "commune",
    "phone": "numéro",
    "email": "mail",
    "website": "Site",
    "opening_hours": "obs",
}
KIND = connectors.geojson.GeoJsonKind()


class TestGeoJsonKind(ConnectorSuite):
    kind = "geojson"

    def feed(self) -> dict[str, Any]:
        headers = {"Content-Type": "application/geo+json", "ETag": '"layer-1"'}
        return {"/layers/commerces.geojson": (200, headers, LAYER)}

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "tenareze",
            "kind": "geojson",
            "url": f"{base_url}/layers/commerces.geojson",
            "mapping": LOCKDOWN_MAPPING,
            "options": {"category": "Commerce de détail"},
        }

    def broken_feed(self) -> dict[str, Any]:  # the connection drops half-way through the file
        return {"/layers/commerces.geojson": (200, {}, LAYER[: len(LAYER) // 2])}


def registration(
    url: str, mapping: dict[str, str] | None = None, **options: Any
) -> ConnectorRegistration:
    return ConnectorRegistration(
        platform="tenareze",
        kind="geojson",
        url=url,
        mapping=LOCKDOWN_MAPPING if mapping is None else mapping,
        options=options,
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:
    return list(KIND.read(reg, state or {}, context))


def shops(emitted: list[Emitted]) -> list[ShopRecord]:
    return [e.record for e in emitted if isinstance(e, Item)]  # type: ignore[misc]


def rejections(emitted: list[Emitted]) -> dict[str, str]:
    return {e.locator: e.reason for e in emitted if isinstance(e, Rejection)}


def collection(*features: Any) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def test_a_layer_maps_properties_and_geometry(context: ReadContext) -> None:
    emitted = read(registration(str(LAYER_PATH)), context)
    found = {shop.name: shop for shop in shops(emitted)}
    assert list(found) == [
        "BOULANGERIE DU PONT VIEUX",
        "FROMAGERIE DE LA BAISE",
        "MARCHE COUVERT",
        "MARCHE DE PLEIN VENT",
        "EPICERIE AMBULANTE",
    ]
    bakery = found["BOULANGERIE DU PONT VIEUX"]
    assert (bakery.lat, bakery.lon) == (43.9571, 0.3712)  # GeoJSON is [lon, lat]
    assert (bakery.postcode, bakery.city, bakery.phone) == ("32100", "CONDOM", "05 62 00 10 01")
    assert bakery.website == "https://pont-vieux.example/"  # the trailing newline is gone
    assert bakery.category == "Boulangerie Pâtisserie"  # mapped: wins over the layer option
    assert bakery.opening_hours and bakery.opening_hours.startswith("Ouvert du mardi")
    assert found["FROMAGERIE DE LA BAISE"].phone is None
    hall = found["MARCHE COUVERT"]  # a polygon: the mean of its corners, closing one once
    assert (hall.lat, hall.lon) == pytest.approx((43.881, 0.389))
    street = found["MARCHE DE PLEIN VENT"]  # a line: the mean of its positions
    assert (street.lat, street.lon) == pytest.approx((43.957, 0.371))
    mobile = found["EPICERIE AMBULANTE"]
    assert (mobile.lat, mobile.lon, mobile.address) == (None, None, None)
    assert all(shop.source_id.startswith("c-") for shop in found.values())
    assert emitted[-1] == Checkpoint(state={"etag": None, "last_modified": None}, complete=True)


def test_every_refusal_has_its_pointer_and_reason(context: ReadContext) -> None:
    emitted = read(registration(str(LAYER_PATH)), context)
    refused = rejections(emitted)
    assert list(refused) == ["/features/5", "/features/6"]
    assert refused["/features/5"] == "name (from 'qui'): missing or empty"
    assert refused["/features/6"].startswith("duplicate source_id 'c-")
    assert refused["/features/6"].endswith(
        "(first seen at /features/0): same name, address, geometry"
    )
    excerpt = next(e.excerpt for e in emitted if isinstance(e, Rejection))
    assert excerpt.startswith('{"type": "Feature"')  # the feature as received


def test_content_ids_are_stable_and_ignore_what_may_change(context: ReadContext) -> None:
    first = {s.name: s.source_id for s in shops(read(registration(str(LAYER_PATH)), context))}
    again = {s.name: s.source_id for s in shops(read(registration(str(LAYER_PATH)), context))}
    assert first == again
    bakery = point(0.3712, 43.9571, qui="BOULANGERIE DU PONT VIEUX", adresse="2 Rue du Pont Vieux")
    changed = dict(bakery, properties={**bakery["properties"], "numéro": "05 62 99 99 99"})
    moved = point(0.3800, 43.9571, **bakery["properties"])
    renamed = point(0.3712, 43.9571, **{**bakery["properties"], "qui": "FOURNIL DU PONT VIEUX"})
    routes = {f"/{i}.geojson": (200, {}, collection(f)) for i, f in enumerate([changed, moved])}
    routes["/2.geojson"] = (200, {}, collection(renamed))
    with serve_routes(routes) as base:
        ids = [
            shops(read(registration(f"{base}/{i}.geojson"), context))[0].source_id for i in range(3)
        ]
    assert ids[0] == first["BOULANGERIE DU PONT VIEUX"]  # a new phone: same business, same id
    assert len(set(ids)) == 3  # moved or renamed: another id
    layered = shops(read(registration(str(LAYER_PATH), category="Santé"), context))
    assert layered[0].source_id != first["BOULANGERIE DU PONT VIEUX"]  # one record per layer


def test_source_id_from_an_id_a_property_or_the_content(context: ReadContext) -> None:
    with_ids = collection(
        dict(point(1.44, 43.6, nom="Fournil", ref="F-1"), id=7),
        point(1.45, 43.6, nom="Primeur", ref="P-2"),
        point(1.46, 43.6, nom="Sans id"),
    )
    with serve_routes({"/shops.geojson": (200, {}, with_ids)}) as base:
        url = f"{base}/shops.geojson"

        def ids(mapping: dict[str, str], **options: Any) -> list[str | None]:
            emitted = read(registration(url, mapping, **options), context)
            return [e.record.source_id if isinstance(e, Item) else None for e in emitted[:-1]]

        derived = content_id("Sans id", None, None, point=(43.6, 1.46))
        primeur = content_id("Primeur", None, None, point=(43.6, 1.45))
        assert ids({"name": "nom"}) == ["7", primeur, derived]
        assert ids({"name": "nom", "source_id": "ref"}) == ["F-1", "P-2", derived]
        assert ids({"name": "nom", "source_id": "ref"}, source_id_from="id") == ["F-1", "P-2", None]
        strict = read(registration(url, {"name": "nom"}, source_id_from="id"), context)
        assert rejections(strict) == {
            "/features/1": "source_id: the feature has no id (an 'id' member); set the option "
            "source_id_from to id_or_content to derive one from its content",
            "/features/2": "source_id: the feature has no id (an 'id' member); set the option "
            "source_id_from to id_or_content to derive one from its content",
        }
        content = ids({"name": "nom", "source_id": "ref"}, source_id_from="content")
        assert all(i and i.startswith("c-") for i in content) and content[2] == derived


def test_content_fields_choose_what_a_derived_id_follows(context: ReadContext) -> None:
    before = point(0.37, 43.95, qui="Cave", adresse=None, commune="CONDOM", obs="lundi")
    after = point(0.38, 43.96, qui="CAVE ", adresse="1 rue Haute", commune="Condom")
    routes = {f"/{i}.geojson": (200, {}, collection(f)) for i, f in enumerate([before, after])}
    with serve_routes(routes) as base:

        def ids(**options: Any) -> list[str]:
            urls = [f"{base}/{i}.geojson" for i in range(2)]
            return [shops(read(registration(url, **options), context))[0].source_id for url in urls]

        moved = ids()
        kept = ids(content_fields=["name", "city"])
    assert moved[0] != moved[1]  # the pin moved and the address was filled in: another id
    assert kept[0] == kept[1]  # same name and town, whatever the case and spacing
    with pytest.raises(ConnectorError, match="option 'content_fields'.*not a shop field .*: town"):
        read(registration(str(LAYER_PATH), content_fields=["name", "town"]), context)


def test_the_category_option_is_the_layer_fallback(context: ReadContext) -> None:
    layer = collection(point(0.37, 43.95, qui="A", quoi="Fromagerie"), point(0.37, 43.96, qui="B"))
    with serve_routes({"/l.geojson": (200, {}, layer)}) as base:
        mapped = read(registration(f"{base}/l.geojson", category="Santé"), context)
        unmapped = read(
            registration(f"{base}/l.geojson", {"name": "qui"}, category="Santé"), context
        )
    assert [s.category for s in shops(mapped)] == ["Fromagerie", "Santé"]
    assert [s.category for s in shops(unmapped)] == ["Santé", "Santé"]


def test_mapping_paths_alternatives_and_mapped_coordinates(context: ReadContext) -> None:
    feature = point(9.0, 9.0, info={"nom": "Cave", "tel": ""}, phone2="05 61 00 00 09", y="43,6")
    feature["properties"]["x"] = "1.44"
    mapping = {"name": "info.nom", "phone": "info.tel|phone2", "lat": "y", "lon": "x"}
    with serve_routes({"/l.geojson": (200, {}, collection(feature))}) as base:
        (shop,) = shops(read(registration(f"{base}/l.geojson", mapping), context))
    assert (shop.name, shop.phone, shop.lat, shop.lon) == ("Cave", "05 61 00 00 09", 43.6, 1.44)


def test_a_map_viewer_script_or_a_cp1252_export_is_read_as_its_layer(
    context: ReadContext,
) -> None:
    script = f"var json_Commerces_1 = {LAYER};\n"
    routes = {
        "/data/Commerces_1.js": (200, {}, script),
        "/cp1252.geojson": (200, {}, LAYER.encode("cp1252")),
    }
    with serve_routes(routes) as base:
        assert len(shops(read(registration(f"{base}/data/Commerces_1.js"), context))) == 5
        legacy = shops(read(registration(f"{base}/cp1252.geojson"), context))
    assert legacy[0].category == "Boulangerie Pâtisserie"


def test_feeds_that_are_not_layers_stop_the_run_with_the_reason(context: ReadContext) -> None:
    lambert = json.loads(LAYER)
    lambert["crs"]["properties"]["name"] = "urn:ogc:def:crs:EPSG::2154"
    routes = {
        "/cut.geojson": (200, {}, LAYER[:500]),
        "/list.geojson": (200, {}, "[1, 2]"),
        "/lambert.geojson": (200, {}, json.dumps(lambert)),
        "/down.geojson": (503, {"Retry-After": "0"}, "maintenance"),
    }
    with serve_routes(routes) as base:
        problems = {
            "cut": "cannot parse .*/cut.geojson: not valid JSON",
            "list": "list.geojson is not a GeoJSON FeatureCollection",
            "lambert": "coordinates in urn:ogc:def:crs:EPSG::2154; only longitude/latitude",
            "down": "answered 503 Service Unavailable",
        }
        for name, message in problems.items():
            with pytest.raises(ConnectorError, match=message):
                read(registration(f"{base}/{name}.geojson"), context)


def test_features_that_are_not_objects_are_refused(context: ReadContext) -> None:
    odd = json.dumps({"type": "FeatureCollection", "features": [3, {"properties": [1]}]})
    with serve_routes({"/odd.geojson": (200, {}, odd)}) as base:
        assert rejections(read(registration(f"{base}/odd.geojson"), context)) == {
            "/features/0": "the feature is not an object",
            "/features/1": "the feature's properties are not an object",
        }


def test_the_mapping_and_options_are_checked_first(context: ReadContext) -> None:
    with pytest.raises(ConnectorError, match="the mapping has no 'name' field"):
        read(registration(str(LAYER_PATH), {"address": "adresse"}), context)
    with pytest.raises(ConnectorError, match="reads shops only: remove offer.title"):
        read(registration(str(LAYER_PATH), {"name": "qui", "offer.title": "quoi"}), context)
    with pytest.raises(ConnectorError, match="option 'source_id_from': Input should be 'id'"):
        read(registration(str(LAYER_PATH), source_id_from="row"), context)
    with pytest.raises(ConnectorError, match="option 'layer': Extra inputs are not permitted"):
        read(registration(str(LAYER_PATH), layer="x"), context)


def test_an_unchanged_layer_answers_304_and_marks_nothing(context: ReadContext) -> None:
    def feed(target: Any) -> tuple[int, dict[str, str], str]:
        if target.headers["If-None-Match"] == '"v1"':
            return 304, {"ETag": '"v1"'}, ""
        return 200, {"ETag": '"v1"', "Last-Modified": "Tue, 07 Apr 2020 09:18:00 GMT"}, LAYER

    with serve_routes({"/l.geojson": feed}) as base:
        first = read(registration(f"{base}/l.geojson"), context)
        state = first[-1].state  # type: ignore[union-attr]
        assert state == {"etag": '"v1"', "last_modified": "Tue, 07 Apr 2020 09:18:00 GMT"}
        second = read(registration(f"{base}/l.geojson"), context, state)
    assert second == [Checkpoint(state=state, complete=False)]
    assert base.requests[1].headers["If-Modified-Since"] == "Tue, 07 Apr 2020 09:18:00 GMT"


def test_check_and_local_file_rules(context: ReadContext) -> None:
    report = KIND.check(registration(str(LAYER_PATH)), context, limit=6)
    assert report.ok and len(report.records) == 5 and len(report.rejections) == 1
    with FeedClient() as http:
        refused = KIND.check(registration(str(LAYER_PATH)), ReadContext(http=http), limit=6)
    assert not refused.ok
    assert "local files are only accepted" in refused.problems[0]


def test_representative_points() -> None:
    assert representative_point({"type": "Point", "coordinates": [0.3, 43.9, 120.0]}) == (43.9, 0.3)
    square = [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]
    assert representative_point({"type": "MultiPolygon", "coordinates": [square]}) == (1.0, 1.0)
    collection_ = {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [0, 0]},
            {"type": "MultiPoint", "coordinates": [[2, 4]]},
        ],
    }
    assert representative_point(collection_) == (2.0, 1.0)
    assert representative_point({"type": "Point", "coordinates": ["0.3", 43.9]}) is None
    assert representative_point({"type": "Polygon", "coordinates": []}) is None
    assert representative_point(None) is None
