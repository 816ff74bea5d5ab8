"""Shared by the ``geojson``, ``osm`` and ``sirene`` kinds: tolerant JSON, GeoJSON features and
their representative point, content ids, and mapping views.

A mapping value of these kinds may list alternatives separated by ``|``: the first one that is
present and not blank is used (``"phone": "phone|contact:phone"``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from aggregator.models import ConnectorRegistration, Rejection, ShopRecord, content_hash
from connectors.base import ConnectorError
from connectors.csv import decode
from connectors.mapping import excerpt, get_path, shop_from_row

ALTERNATIVES = "|"
#: What the ``crs`` member of a GeoJSON file may name: longitude/latitude in degrees (WGS 84).
WGS84_NAMES = ("CRS84", "4326", "WGS84", "WGS 84")
#: ``var layer = {...};`` as map-viewer exports (qgis2web, umap) write their data files.
_JS_ASSIGNMENT = re.compile(r"^\s*(?:(?:var|let|const)\s+)?[\w$.]+\s*=\s*", re.ASCII)
_COORDINATE_DIGITS = 6  # about 0.1 m: what content ids look at


def parse_json(content: bytes, url: str) -> Any:
    """A JSON document, also when wrapped as a script (``var json_layer = {...};``), in UTF-8
    or, as some desktop GIS exports are, cp1252."""
    text = decode(content, None, url)
    try:
        return json.loads(text)
    except RecursionError:
        raise ConnectorError(f"cannot parse {url}: the JSON is nested too deeply") from None
    except ValueError as exc:
        error = exc
    unwrapped = _JS_ASSIGNMENT.sub("", text, count=1).rstrip().rstrip(";")
    if unwrapped != text:
        try:
            return json.loads(unwrapped)
        except (ValueError, RecursionError):
            pass
    raise ConnectorError(f"cannot parse {url}: not valid JSON ({error})") from None


def feature_list(document: Any, url: str) -> list[Any]:
    """The features of a GeoJSON FeatureCollection; ``ConnectorError`` for anything else."""
    if isinstance(document, dict) and isinstance(document.get("features"), list):
        check_crs(document, url)
        return list(document["features"])
    found = document.get("type") if isinstance(document, dict) else type(document).__name__
    raise ConnectorError(f"{url} is not a GeoJSON FeatureCollection (found {found!r})")


def check_crs(document: Mapping[str, Any], url: str) -> None:
    """Refuse a file whose coordinates are projected (Lambert 93...): they are not degrees."""
    name = get_path(document, "crs.properties.name")
    if name and not any(known in str(name).upper() for known in WGS84_NAMES):
        raise ConnectorError(
            f"{url} gives its coordinates in {name}; only longitude/latitude in degrees "
            "(WGS 84, EPSG:4326) is read: export the layer in WGS 84"
        )


def representative_point(geometry: Any) -> tuple[float, float] | None:
    """(lat, lon) of a GeoJSON geometry: a Point's position, else the mean of the positions of
    lines, polygons (each ring's closing position counted once) and collections."""
    if not isinstance(geometry, Mapping):
        return None
    if geometry.get("type") == "Point":
        return _lat_lon(geometry.get("coordinates"))
    return mean_point(list(_positions(geometry)))


def mean_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The mean of (lat, lon) points, or None when there are none."""
    if not points:
        return None
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    return round(lat, 7), round(lon, 7)


def _positions(geometry: Mapping[str, Any]) -> Iterator[tuple[float, float]]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        for member in members if isinstance(members, list) else []:
            if isinstance(member, Mapping):
                yield from _positions(member)
        return
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2}
    levels = depth.get(str(kind), 3 if kind == "MultiPolygon" else -1)
    if levels < 0:
        return
    yield from _walk(coordinates, levels, ring=kind in ("Polygon", "MultiPolygon"))


def _walk(coordinates: Any, levels: int, ring: bool) -> Iterator[tuple[float, float]]:
    if levels == 0:
        point = _lat_lon(coordinates)
        if point is not None:
            yield point
        return
    if not isinstance(coordinates, list):
        return
    if levels == 1 and ring and len(coordinates) > 1 and coordinates[0] == coordinates[-1]:
        coordinates = coordinates[:-1]  # a closed ring repeats its first position
    for item in coordinates:
        yield from _walk(item, levels - 1, ring)


def _lat_lon(position: Any) -> tuple[float, float] | None:
    if not isinstance(position, list) or len(position) < 2:
        return None
    lon, lat = position[0], position[1]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon))
    if not numbers or not all(math.isfinite(v) for v in (lat, lon)):
        return None
    return float(lat), float(lon)


def content_id(*parts: Any, point: tuple[float, float] | None) -> str:
    """A stable id from what identifies a place (name, address, position, layer): the same
    content gives the same id on every run, whatever the case and spacing of its text;
    ``c-`` says it was derived, not given."""
    rounded = [round(v, _COORDINATE_DIGITS) for v in point] if point else None
    texts = [" ".join(str(p).split()).casefold() if p is not None else None for p in parts]
    return "c-" + content_hash([*texts, rounded])[:16]


def first_value(row: Any, spec: str) -> Any:
    """The value of the first alternative of ``spec`` present and not blank in ``row``."""
    for path in spec.split(ALTERNATIVES):
        value = get_path(row, path.strip())
        if not blank(value):
            return value
    return None


def blank(value: Any) -> bool:
    """Missing: None, an empty or whitespace-only string, an empty list or object."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | dict) and not value)


def columns_of(spec: str) -> list[str]:
    """The alternatives a mapping value names."""
    return [path.strip() for path in spec.split(ALTERNATIVES) if path.strip()]


def build_shop(
    registration: ConnectorRegistration,
    mapping: Mapping[str, str],
    view: dict[str, Any],
    raw: Any,
    locator: str,
) -> ShopRecord | Rejection:
    """The shop that ``view`` (the source row plus derived values) describes under ``mapping``;
    a rejection shows the row as received, not the view."""
    for spec in mapping.values():
        if ALTERNATIVES in spec and spec not in view:
            view[spec] = first_value(view, spec)
    effective = registration.model_copy(update={"mapping": dict(mapping)})
    result = shop_from_row(effective, view, locator)
    if isinstance(result, Rejection):
        return result.model_copy(update={"excerpt": excerpt(raw)})  # its id kept, if any
    return result
