"""From a source row to a shop or offer record, following a registration's ``mapping``.

A mapping names, for each record field, the source column or dotted path holding it::

    {"source_id": "id", "name": "nom", "city": "address.city", "offer.title": "title"}

Keys starting with ``offer.`` are offer fields: offers nested in a shop (``offers_path`` of the
``json_api`` kind), or whole rows when a mapping has offer fields only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from aggregator.models import (
    ConnectorRegistration,
    OfferRecord,
    Rejection,
    ShopRecord,
)
from connectors.base import ConnectorError, Item

OFFER_PREFIX = "offer."
EXCERPT_CHARS = 300
_NUMBER_FIELDS = frozenset({"lat", "lon", "price"})
_LIST_SEPARATORS = re.compile(r"[;,]")
_REQUIRED = {"shop": ("source_id", "name"), "offer": ("source_id", "title")}

Record = ShopRecord | OfferRecord


def get_path(row: Any, path: str) -> Any:
    """The value at ``path`` in ``row``: a key (even one containing dots), else a dotted path
    through objects and lists (``address.city``, ``products.0.name``); None when absent."""
    if isinstance(row, Mapping) and path in row:
        return row[path]
    value = row
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return None
    return value


def split_mapping(mapping: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The shop fields and the offer fields (without their ``offer.`` prefix) of a mapping."""
    shop = {k: v for k, v in mapping.items() if not k.startswith(OFFER_PREFIX)}
    offer = {k[len(OFFER_PREFIX) :]: v for k, v in mapping.items() if k.startswith(OFFER_PREFIX)}
    return shop, offer


def rows_are_offers(mapping: Mapping[str, str]) -> bool:
    """True when the mapping has offer fields only: every row is then an offer."""
    shop, offer = split_mapping(mapping)
    return not shop and bool(offer)


def require_mapping(mapping: Mapping[str, str], record_type: str = "shop") -> None:
    """Refuse to start unless the mapping says where the required fields of a record are."""
    prefix = OFFER_PREFIX if record_type == "offer" else ""
    for name in _REQUIRED[record_type]:
        if not mapping.get(prefix + name):
            raise ConnectorError(
                f"the mapping has no {prefix + name!r} field: map it to the source column "
                f"holding each {record_type}'s {name.replace('_', ' ')}"
            )


def validate_mapping_columns(
    mapping: Mapping[str, str], columns: Iterable[str], locator: str
) -> None:
    """Refuse to read a source whose header lacks a mapped column, naming every such column."""
    present = list(columns)
    known = set(present)
    missing = [
        f"column {source!r} mapped to {field} is not in {locator}"
        for field, source in mapping.items()
        if source not in known and source.split(".", 1)[0] not in known
    ]
    if missing:
        shown = ", ".join(present[:40]) + (", ..." if len(present) > 40 else "")
        raise ConnectorError(f"{'; '.join(missing)} (columns: {shown})")


def excerpt(row: Any) -> str:
    """The first characters of a row as JSON, kept with a rejection."""
    return json.dumps(row, ensure_ascii=False, default=str)[:EXCERPT_CHARS]


def shop_from_row(
    registration: ConnectorRegistration, row: Mapping[str, Any], locator: str
) -> ShopRecord | Rejection:
    """The shop a row describes, or the reason it cannot be one."""
    fields, _ = split_mapping(registration.mapping)
    data: dict[str, Any] = {"platform": registration.platform, "country": registration.country}
    data.update(_mapped_values(fields, row))
    if isinstance(data.get("country"), str):
        data["country"] = data["country"].upper()
    return _validate(ShopRecord, data, fields, row, locator, "")


def offer_from_row(
    registration: ConnectorRegistration,
    row: Mapping[str, Any],
    locator: str,
    shop_source_id: str | None = None,
) -> OfferRecord | Rejection:
    """The offer a row (or a product nested in a shop) describes, or the reason it cannot be one."""
    _, fields = split_mapping(registration.mapping)
    data: dict[str, Any] = {"platform": registration.platform}
    if shop_source_id is not None:
        data["shop_source_id"] = shop_source_id
    data.update(_mapped_values(fields, row))
    return _validate(OfferRecord, data, fields, row, locator, OFFER_PREFIX)


def record_from_row(
    registration: ConnectorRegistration, row: Mapping[str, Any], locator: str
) -> Record | Rejection:
    """A shop, or an offer when the mapping has offer fields only."""
    if rows_are_offers(registration.mapping):
        return offer_from_row(registration, row, locator)
    return shop_from_row(registration, row, locator)


class DuplicateGuard:
    """Rejects a record whose source id was already emitted earlier in the same read."""

    def __init__(self) -> None:
        self._first_seen: dict[tuple[str, str], str] = {}

    def admit(self, result: Record | Rejection, row: Any, locator: str) -> Item | Rejection:
        """The item to emit for a built record, or the rejection (its own or a duplicate's)."""
        if isinstance(result, Rejection):
            return result
        first = self._first_seen.setdefault((type(result).__name__, result.source_id), locator)
        if first == locator:
            return Item(result, row, locator)
        reason = f"duplicate source_id {result.source_id!r} (first seen at {first})"
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(row))


def _mapped_values(fields: Mapping[str, str], row: Mapping[str, Any]) -> dict[str, Any]:
    values = {}
    for field, source in fields.items():
        value = _clean(field, get_path(row, source))
        if value is not None:
            values[field] = value
    return values


def _clean(field: str, value: Any) -> Any:
    """Source text to field values: blanks are missing, ``43,6`` is 43.6, lists are split."""
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None
    if field in _NUMBER_FIELDS:
        return _number(value)
    if field == "services":
        parts = value if isinstance(value, list) else _LIST_SEPARATORS.split(str(value))
        return [str(part).strip() for part in parts if str(part).strip()] or None
    if isinstance(value, bool):
        return value  # let validation say a string was expected
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)  # ids and postcodes given as JSON numbers
    return value


def _number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return value  # validation names the field and shows the text


def _validate(
    model: type[Record],
    data: dict[str, Any],
    sources: Mapping[str, str],
    row: Any,
    locator: str,
    prefix: str,
) -> Any:
    if not isinstance(row, Mapping):
        reason = "the record is not an object"
    else:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            reason = _summary(exc, sources, prefix)
    return Rejection(locator=locator, reason=reason, excerpt=excerpt(row))


def _summary(exc: ValidationError, sources: Mapping[str, str], prefix: str) -> str:
    """Pydantic's errors, one per field, each naming the field and the column it came from."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        where = f" (from {sources[field]!r})" if field in sources else ""
        message = "missing or empty" if error["type"] == "missing" else error["msg"]
        parts.append(f"{prefix}{field}{where}: {message}")
    return "; ".join(parts)
