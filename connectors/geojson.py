"""Kind ``geojson``: a GeoJSON FeatureCollection (URL or local path), one shop per feature.

Mapping values are property names or dotted paths into each feature's ``properties`` (with ``|``
between alternatives); ``lat``/``lon`` default to the geometry: a Point's position, else the mean
of the geometry's positions. A feature without an id gets one derived from its content (see
``source_id_from``), so re-runs give the same ids. Locators are JSON pointers: ``/features/12``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aggregator.models import SHOP_FIELDS, ConnectorRegistration, Rejection, ShopRecord
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, ReadContext
from connectors.geo_common import (
    build_shop,
    content_id,
    feature_list,
    first_value,
    parse_json,
    representative_point,
)
from connectors.http import fetch_if_changed, validators
from connectors.mapping import OFFER_PREFIX, DuplicateGuard, excerpt
from connectors.registry import check_by_reading, parse_options, register

#: Keys of the values the kind derives, as rejection reasons show them ("lat (from ...)").
GEOMETRY_LAT, GEOMETRY_LON = "(geometry lat)", "(geometry lon)"
SOURCE_ID, LAYER_CATEGORY = "(source id)", "(category option)"


class Config(BaseModel):
    """Options of the ``geojson`` kind."""

    model_config = ConfigDict(extra="forbid")

    source_id_from: Literal["id", "content", "id_or_content"] = Field(
        default="id_or_content",
        description=(
            "`id`: the property mapped to source_id, else the feature's `id`; a feature without "
            "one is refused. `content`: always a hash of the `content_fields` and the layer "
            "`category`. `id_or_content`: the id when there is one, else the hash."
        ),
    )
    content_fields: list[str] = Field(
        default=["name", "address", "geometry"],
        min_length=1,
        description=(
            "What content ids are computed from: mapped shop fields, and `geometry` for the "
            "position. `[name, city]` keeps a business's id when its pin is moved or its "
            "address completed."
        ),
    )
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "The category of every feature of this layer when the mapping gives none; it is "
            "part of content ids, so one business listed in two layers keeps one record per layer."
        ),
    )

    @field_validator("content_fields")
    @classmethod
    def _known_fields(cls, fields: list[str]) -> list[str]:
        unknown = [f for f in fields if f not in SHOP_FIELDS and f != "geometry"]
        if unknown or "source_id" in fields:
            raise ValueError(f"not a shop field or `geometry`: {', '.join(unknown) or 'source_id'}")
        return fields


class GeoJsonKind:
    """Reads the whole document, then emits one item or rejection per feature."""

    name: ClassVar[str] = "geojson"
    Config: ClassVar[type[BaseModel]] = Config
    #: The kind checks its own mapping: ``source_id`` may come from the feature or its content.
    fixed_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        mapping = _checked_mapping(registration.mapping)
        url = registration.url
        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged since the last run: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        features = feature_list(parse_json(response.content, url), url)
        effective = {"lat": GEOMETRY_LAT, "lon": GEOMETRY_LON, **mapping, "source_id": SOURCE_ID}
        if config.category:
            effective["category"] = LAYER_CATEGORY
        guard = DuplicateGuard()
        for index, feature in enumerate(features):
            locator = f"/features/{index}"
            built = _shop(registration, config, effective, feature, locator)
            admitted = guard.admit(built, feature, locator)
            derived = isinstance(built, ShopRecord) and built.source_id.startswith("c-")
            if isinstance(admitted, Rejection) and derived:  # say what the derived id stands for
                admitted.reason += f": same {', '.join(config.content_fields)}"
            yield admitted
        yield Checkpoint(state=validators(response), complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def _checked_mapping(mapping: dict[str, str]) -> dict[str, str]:
    offers = sorted(field for field in mapping if field.startswith(OFFER_PREFIX))
    if offers:
        raise ConnectorError(
            f"the geojson kind reads shops only: remove {', '.join(offers)} from the mapping"
        )
    if not mapping.get("name"):
        raise ConnectorError(
            "the mapping has no 'name' field: map it to the property holding each feature's name"
        )
    return mapping


def _shop(
    registration: ConnectorRegistration,
    config: Config,
    mapping: dict[str, str],
    feature: Any,
    locator: str,
) -> ShopRecord | Rejection:
    if not isinstance(feature, dict):
        return Rejection(
            locator=locator, reason="the feature is not an object", excerpt=excerpt(feature)
        )
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        reason = "the feature's properties are not an object"
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(feature))
    point = representative_point(feature.get("geometry"))
    view: dict[str, Any] = dict(properties)
    view[GEOMETRY_LAT], view[GEOMETRY_LON] = point or (None, None)
    if config.category:
        mapped = registration.mapping.get("category")
        view[LAYER_CATEGORY] = (mapped and first_value(properties, mapped)) or config.category
    source_id = _source_id(registration.mapping, config, feature, properties, point)
    if source_id is None:
        where = registration.mapping.get("source_id")
        has = f"a value for {where!r}" if where else "an 'id' member"
        reason = (
            f"source_id: the feature has no id ({has}); set the option source_id_from to "
            "id_or_content to derive one from its content"
        )
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(feature))
    view[SOURCE_ID] = source_id
    return build_shop(registration, mapping, view, feature, locator)


def _source_id(
    mapping: dict[str, str],
    config: Config,
    feature: dict[str, Any],
    properties: dict[str, Any],
    point: tuple[float, float] | None,
) -> Any:
    """The feature's own id, or one derived from its content, as ``source_id_from`` says."""
    given = first_value(properties, mapping["source_id"]) if mapping.get("source_id") else None
    if given is None and not mapping.get("source_id"):
        given = first_value(feature, "id")
    if config.source_id_from == "id" or (given is not None and config.source_id_from != "content"):
        return given
    fields = [f for f in config.content_fields if f != "geometry"]
    texts = [first_value(properties, mapping[f]) if mapping.get(f) else None for f in fields]
    where = point if "geometry" in config.content_fields else None
    return content_id(*texts, config.category, point=where)


register(GeoJsonKind())
