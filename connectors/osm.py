"""Kind ``osm``: OpenStreetMap places, from Overpass JSON (``{"elements": [...]}``) or a GeoJSON
export of OSM data (overpass-turbo's ``@id`` properties, osmtogeojson's ``type``/``id``/``tags``).

No mapping is needed: ``DEFAULT_MAPPING`` reads the usual tags, and a registration's mapping
overrides it field by field (values are tag names, ``|`` between alternatives). Ids are
``node/123``; the category is the first of ``category_keys`` present, as ``shop=bakery``; an
element without a name is refused. Locators are JSON pointers: ``/elements/4``, ``/features/4``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from aggregator.models import ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, ReadContext
from connectors.geo_common import (
    build_shop,
    content_id,
    feature_list,
    first_value,
    mean_point,
    parse_json,
    representative_point,
)
from connectors.http import fetch_if_changed, validators
from connectors.mapping import OFFER_PREFIX, DuplicateGuard, excerpt
from connectors.registry import check_by_reading, parse_options, register

#: Values the kind derives from an element, under the keys rejection reasons show.
OSM_ID, OSM_URL, ADDRESS = "(osm id)", "(osm url)", "(addr:housenumber addr:street)"
CATEGORY, SERVICES, LAT, LON = "(category)", "(services)", "(lat)", "(lon)"
DEFAULT_MAPPING: dict[str, str] = {
    "source_id": OSM_ID,
    "name": "name",
    "address": f"{ADDRESS}|addr:full",
    "postcode": "addr:postcode",
    "city": "addr:city",
    "phone": "phone|contact:phone",
    "website": "website|contact:website|url",
    "email": "email|contact:email",
    "opening_hours": "opening_hours",
    "siret": "ref:FR:SIRET",
    "category": CATEGORY,
    "services": SERVICES,
    "lat": LAT,
    "lon": LON,
    "url": OSM_URL,
}
#: Tags saying a place offers a service (``yes`` or ``only``), and the service's name.
SERVICE_TAGS: dict[str, str] = {
    "click_and_collect": "click_and_collect",
    "click_and_collect:covid19": "click_and_collect",
    "delivery": "delivery",
    "delivery:covid19": "delivery",
    "takeaway": "takeaway",
    "takeaway:covid19": "takeaway",
}
_YES = frozenset({"yes", "only", "true"})
_OSM_ID = re.compile(r"^(node|way|relation)/\d+$")


class Config(BaseModel):
    """Options of the ``osm`` kind."""

    model_config = ConfigDict(extra="forbid")

    category_keys: list[str] = Field(
        default=["shop", "craft", "amenity", "healthcare"],
        min_length=1,
        description="Tags read, in order, for the category (`shop=bakery`).",
    )
    source_id_from: Literal["id", "content"] = Field(
        default="id",
        description=(
            "`id`: the OSM id (`node/123`). `content`: a hash of the name, address and position, "
            "for exports that give one OSM id to several places."
        ),
    )


class OsmKind:
    """Reads the whole document, then emits one item or rejection per tagged element."""

    name: ClassVar[str] = "osm"
    Config: ClassVar[type[BaseModel]] = Config
    #: No mapping needed: the OSM tags are known.
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        offers = sorted(f for f in registration.mapping if f.startswith(OFFER_PREFIX))
        if offers:
            raise ConnectorError(f"the osm kind reads places only: remove {', '.join(offers)}")
        mapping = {**DEFAULT_MAPPING, **registration.mapping}
        url = registration.url
        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged since the last run: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        document = parse_json(response.content, url)
        guard, first_content = DuplicateGuard(), dict[str, str]()
        for locator, element, osm_id, tags, point in _places(document, url):
            if tags is None:
                reason = "not an OSM element: an object with tags (or properties) was expected"
                yield Rejection(locator=locator, reason=reason, excerpt=excerpt(element))
                continue
            view = _view(tags, osm_id, point, config)
            if config.source_id_from == "content":  # the ids are not trusted, nor their URLs
                view[OSM_ID], view[OSM_URL] = _content_id(view, mapping, point), None
            built = build_shop(registration, mapping, view, element, locator)
            admitted = guard.admit(built, element, locator)
            if isinstance(built, ShopRecord):
                content = _content_id(view, mapping, point)
                first = first_content.setdefault(built.source_id, content)
                if isinstance(admitted, Rejection) and first != content:
                    admitted.reason += (
                        ": the export gives this OSM id to another place; set the option "
                        "source_id_from to content"
                    )
            yield admitted
        yield Checkpoint(state=validators(response), complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


Place = tuple[str, Any, str | None, dict[str, Any] | None, tuple[float, float] | None]


def _places(document: Any, url: str) -> Iterator[Place]:
    """(locator, element as received, OSM id, tags, (lat, lon)) of each place in the document."""
    if isinstance(document, dict) and isinstance(document.get("elements"), list):
        yield from _overpass_places(document, url)
        return
    if not (isinstance(document, dict) and "features" in document):
        found = list(document)[:10] if isinstance(document, dict) else type(document).__name__
        raise ConnectorError(
            f"{url} is neither Overpass JSON (an 'elements' list) nor GeoJSON (a "
            f"FeatureCollection); found {found}"
        )
    for index, feature in enumerate(feature_list(document, url)):
        locator = f"/features/{index}"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            yield locator, feature, None, None, None
            continue
        nested = properties.get("tags")
        tags = nested if isinstance(nested, dict) else properties
        osm_id = first_value(properties, "@id") or first_value(feature, "id")
        if isinstance(properties.get("type"), str) and isinstance(properties.get("id"), int):
            osm_id = osm_id or f"{properties['type']}/{properties['id']}"
        osm_id = osm_id or first_value(properties, "id")
        point = representative_point(feature.get("geometry"))
        yield locator, feature, None if osm_id is None else str(osm_id), tags, point


def _overpass_places(document: dict[str, Any], url: str) -> Iterator[Place]:
    remark = document.get("remark")
    if isinstance(remark, str) and ("error" in remark.lower() or "timed out" in remark.lower()):
        raise ConnectorError(f"{url}: Overpass stopped before the end of the result: {remark}")
    elements = document["elements"]
    nodes: dict[str, tuple[float, float]] = {}
    members: set[str] = set()  # untagged elements only there for others' geometry
    for element in elements:
        if not isinstance(element, dict):
            continue
        point = _lat_lon(element)
        if element.get("type") == "node" and point is not None:
            nodes[f"node/{element.get('id')}"] = point
        members.update(_node_refs(element))
        for member in _listed(element.get("members")):
            if isinstance(member, dict):
                members.add(f"{member.get('type')}/{member.get('ref')}")
    for index, element in enumerate(elements):
        locator = f"/elements/{index}"
        if not isinstance(element, dict):
            yield locator, element, None, None, None
            continue
        tags = element.get("tags") if isinstance(element.get("tags"), dict) else {}
        osm_id = f"{element.get('type')}/{element.get('id')}" if "id" in element else None
        if not tags and osm_id in members:
            continue  # a way's node or a relation's member, read for its geometry
        ids = _node_refs(element)
        ids = ids[:-1] if len(ids) > 1 and ids[0] == ids[-1] else ids  # a closed way
        refs = [nodes[ref] for ref in ids if ref in nodes]
        point = _lat_lon(element) or _lat_lon(element.get("center")) or _bounds(element)
        point = point or mean_point(refs) or mean_point(_geometry(element))
        yield locator, element, osm_id, tags, point


def _view(
    tags: dict[str, Any],
    osm_id: str | None,
    point: tuple[float, float] | None,
    config: Config,
) -> dict[str, Any]:
    """The tags plus what the kind derives from them and from the element."""
    view = dict(tags)
    number, street = first_value(tags, "addr:housenumber"), first_value(tags, "addr:street")
    street = street or first_value(tags, "addr:place")
    view[ADDRESS] = " ".join(str(p).strip() for p in (number, street) if p) if street else None
    key = next((k for k in config.category_keys if first_value(tags, k) is not None), None)
    view[CATEGORY] = f"{key}={str(tags[key]).strip()}" if key else None
    view[SERVICES] = sorted(
        {name for tag, name in SERVICE_TAGS.items() if str(tags.get(tag, "")).lower() in _YES}
    )
    view[LAT], view[LON] = point or (None, None)
    view[OSM_ID] = osm_id
    known = osm_id is not None and _OSM_ID.match(osm_id)
    view[OSM_URL] = f"https://www.openstreetmap.org/{osm_id}" if known else None
    return view


def _content_id(view: dict[str, Any], mapping: dict[str, str], point: Any) -> str:
    name = first_value(view, mapping["name"])
    address = first_value(view, mapping["address"]) if mapping.get("address") else None
    return content_id(name, address, point=point)


def _lat_lon(element: Any) -> tuple[float, float] | None:
    if not isinstance(element, dict):
        return None
    lat, lon = element.get("lat"), element.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None


def _bounds(element: dict[str, Any]) -> tuple[float, float] | None:
    """The middle of ``out bb``'s bounding box."""
    box = element.get("bounds")
    if not isinstance(box, dict):
        return None
    low = _lat_lon({"lat": box.get("minlat"), "lon": box.get("minlon")})
    high = _lat_lon({"lat": box.get("maxlat"), "lon": box.get("maxlon")})
    return mean_point([low, high]) if low and high else None


def _geometry(element: dict[str, Any]) -> list[tuple[float, float]]:
    """The positions of ``out geom``: a list of ``{"lat", "lon"}``."""
    return [p for p in map(_lat_lon, _listed(element.get("geometry"))) if p]


def _node_refs(element: dict[str, Any]) -> list[str]:
    """The nodes a way is drawn through, as ``node/<id>``."""
    return [f"node/{ref}" for ref in _listed(element.get("nodes")) if isinstance(ref, int)]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


register(OsmKind())
