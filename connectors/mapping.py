"""From a source row to a shop or offer record, following a registration's ``mapping``.

A mapping names, for each record field, the source column or dotted path holding it::

    {"source_id": "id", "name": "nom", "city": "address.city", "offer.title": "title"}

Keys starting with ``offer.`` are offer fields: offers nested in a shop (``offers_path`` of the
``json_api`` kind), or whole rows when a mapping has offer fields only.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from aggregator.models import (
    ConnectorRegistration,
    OfferRecord,
    PlainJSON,
    Rejection,
    ShopRecord,
    strict_text_ok,
    validate_record,
)
from connectors.base import ConnectorError, Item
from connectors.row_builder import Builder, compile_builder, usable

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
    return _compiled(mapping).rows_are_offers


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
    return _shop(_compiled(registration.mapping), registration, row, locator)


def _shop(
    compiled: _Compiled, registration: ConnectorRegistration, row: Any, locator: str
) -> ShopRecord | Rejection:
    data: dict[str, Any] = {"platform": registration.platform, "country": registration.country}
    _mapped_values(compiled.shop, row, data)
    if isinstance(data.get("country"), str):
        data["country"] = data["country"].upper()
    return _validate(ShopRecord, data, compiled.shop_sources, row, locator, "")


def offer_from_row(
    registration: ConnectorRegistration,
    row: Mapping[str, Any],
    locator: str,
    shop_source_id: str | None = None,
) -> OfferRecord | Rejection:
    """The offer a row (or a product nested in a shop) describes, or the reason it cannot be one."""
    return _offer(_compiled(registration.mapping), registration, row, locator, shop_source_id)


def _offer(
    compiled: _Compiled,
    registration: ConnectorRegistration,
    row: Any,
    locator: str,
    shop_source_id: str | None = None,
) -> OfferRecord | Rejection:
    data: dict[str, Any] = {"platform": registration.platform}
    if shop_source_id is not None:
        data["shop_source_id"] = shop_source_id
    _mapped_values(compiled.offer, row, data)
    return _validate(OfferRecord, data, compiled.offer_sources, row, locator, OFFER_PREFIX)


def record_from_row(
    registration: ConnectorRegistration, row: Mapping[str, Any], locator: str
) -> Record | Rejection:
    """A shop, or an offer when the mapping has offer fields only."""
    compiled = _compiled(registration.mapping)
    if compiled.rows_are_offers:
        return _offer(compiled, registration, row, locator)
    return _shop(compiled, registration, row, locator)


def row_reader(
    registration: ConnectorRegistration,
) -> Callable[[Mapping[str, Any], str], Record | Rejection]:
    """``record_from_row`` bound to a registration for a whole read: its mapping is looked
    up once, not once per row."""
    compiled = _compiled(registration.mapping)
    build = _offer if compiled.rows_are_offers else _shop
    full = functools.partial(build, compiled, registration)
    fast = compiled.offer_fast if compiled.rows_are_offers else compiled.shop_fast
    platform, country = registration.platform, registration.country
    if fast is None or not usable(platform, country):
        return full

    def read(row: Mapping[str, Any], locator: str) -> Record | Rejection:
        # The usual row by the code written for the mapping; any other by the full path.
        if type(row) is dict:
            built = fast(row, platform, country)
            if built is not None:
                return built[0]  # type: ignore[no-any-return]
        return full(row, locator)

    return read


class DuplicateGuard:
    """Rejects a record whose source id was already emitted earlier in the same read."""

    def __init__(self) -> None:
        self._first_seen: dict[tuple[str, str], str] = {}

    def admit(
        self,
        result: Record | Rejection,
        row: Any,
        locator: str,
        stored: PlainJSON | None = None,
    ) -> Item | Rejection:
        """The item to emit for a built record, or the rejection (its own or a duplicate's)."""
        if isinstance(result, Rejection):
            return result
        first = self._first_seen.setdefault((type(result).__name__, result.source_id), locator)
        if first == locator:
            return Item(result, row, locator, stored)
        reason = f"duplicate source_id {result.source_id!r} (first seen at {first})"
        return Rejection(locator=locator, reason=reason, excerpt=excerpt(row))


#: One mapped field: its name, its source (column, key or dotted path) and, when the source
#: holds a dot, its parts (a key first, else a path: see ``get_path``).
_Source = tuple[str, str, tuple[str, ...] | None]


@dataclass(frozen=True)
class _Fields:
    """A record's mapped fields, ready to read row after row: plain tuples, unpacked in the
    row loop (attribute lookups per field per row showed in the profile)."""

    #: Texts: blanks are missing, the rest stripped (``_clean_text``, its usual case inlined).
    texts: tuple[_Source, ...]
    #: The others, each with its cleaner.
    others: tuple[tuple[str, str, tuple[str, ...] | None, Callable[[Any], Any]], ...]
    #: ``_mapped_values`` for a plain dict row, written out field by field (``_extractor``).
    extract: Callable[[dict[str, Any], dict[str, Any]], None]


@dataclass(frozen=True)
class _Compiled:
    shop: _Fields
    offer: _Fields
    shop_sources: dict[str, str]
    offer_sources: dict[str, str]
    rows_are_offers: bool
    #: The usual row's record without pydantic's validation (``connectors.row_builder``).
    shop_fast: Builder | None
    offer_fast: Builder | None


#: ``id(mapping) → (mapping, a copy of it, compiled)``: a row's lookup compares the mapping with
#: the copy instead of hashing its items (the mapping kept alive, so its id is not reused).
_by_identity: dict[int, tuple[Mapping[str, str], dict[str, str], _Compiled]] = {}


def _compiled(mapping: Mapping[str, str]) -> _Compiled:
    """A mapping prepared once and reused for every row (it is read per row, so this is hot)."""
    cached = _by_identity.get(id(mapping))
    if cached is not None and cached[0] is mapping and cached[1] == mapping:
        return cached[2]
    compiled = _compile(tuple(mapping.items()))
    if len(_by_identity) >= 256:
        _by_identity.clear()
    _by_identity[id(mapping)] = (mapping, dict(mapping), compiled)
    return compiled


@functools.lru_cache(maxsize=512)
def _compile(items: tuple[tuple[str, str], ...]) -> _Compiled:
    shop, offer = split_mapping(dict(items))

    def fields(part: dict[str, str]) -> _Fields:
        texts, others = [], []
        for name, source in part.items():
            parts = tuple(source.split(".")) if "." in source else None
            clean = _cleaner(name)
            if clean is _clean_text:
                texts.append((name, source, parts))
            else:
                others.append((name, source, parts, clean))
        return _Fields(tuple(texts), tuple(others), _extractor(texts, others))

    def fast(model: type[Record], part: dict[str, str]) -> Builder | None:
        return compile_builder(model, part, _clean_text, _clean_list, _walk)

    return _Compiled(
        fields(shop),
        fields(offer),
        shop,
        offer,
        not shop and bool(offer),
        fast(ShopRecord, shop),
        fast(OfferRecord, offer),
    )


def _mapped_values(fields: _Fields, row: Any, values: dict[str, Any]) -> None:
    """Each field's cleaned value from ``row`` into ``values`` (missing ones left out)."""
    if type(row) is not dict:
        for name, source, _ in fields.texts:
            value = _clean_text(get_path(row, source))
            if value is not None:
                values[name] = value
        for name, source, _, clean in fields.others:
            value = clean(get_path(row, source))
            if value is not None:
                values[name] = value
        return
    fields.extract(row, values)  # the usual case


def _extractor(
    texts: list[_Source], others: list[tuple[str, str, tuple[str, ...] | None, Any]]
) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """``_mapped_values`` for a plain dict row, as a function written for the mapping: one
    dictionary lookup per field and no loop (the loop over the fields, its unpacking and
    lookups cost more than the fields' values). Names and sources enter the code as ``repr``
    literals only."""
    env: dict[str, Any] = {"_clean_text": _clean_text, "_walk": _walk, "_MISSING": _MISSING}
    lines = ["def extract(row, values):", "    get = row.get"]

    def fetch(i: int, source: str, parts: tuple[str, ...] | None) -> str:
        env[f"parts{i}"] = parts
        if parts is None:
            return f"get({source!r})"
        if len(parts) != 2:
            return f"_walk(row, {source!r}, parts{i})"
        # ``_walk`` written out for the usual ``address.city``: the key itself, else the
        # object's key, else (a list, a string...) the general walk.
        lines.extend([
            f"    v = get({source!r}, _MISSING)",
            "    if v is _MISSING:",
            f"        v = get({parts[0]!r})",
            "        if type(v) is dict:",
            f"            v = v.get({parts[1]!r})",
            "        elif v is not None:",
            f"            v = _walk(row, {source!r}, parts{i})",
        ])  # fmt: skip
        return "v"

    for i, (name, source, parts) in enumerate(texts):
        got = fetch(i, source, parts)
        lines += [
            f"    v = {got}",
            "    if type(v) is str:",
            "        v = v.strip()",
            "        if v:",
            f"            values[{name!r}] = v",
            "    elif v is not None:",
            "        v = _clean_text(v)",
            "        if v is not None:",
            f"            values[{name!r}] = v",
        ]
    for i, (name, source, parts, clean) in enumerate(others, start=len(texts)):
        env[f"clean{i}"] = clean
        got = fetch(i, source, parts)
        if clean is _clean_number:
            # ``_clean_number`` written out for its usual cases: a JSON number, and a text
            # ``float()`` reads once a decimal comma is a point; the rest goes to it.
            lines += [
                f"    v = {got}",
                "    if type(v) is str:",
                "        s = v.strip()",
                "        if s:",
                "            try:",
                f"                values[{name!r}] = float(s.replace(',', '.') if ',' in s else s)",
                "            except ValueError:",
                f"                values[{name!r}] = clean{i}(v)",
                "    elif type(v) is float:",
                f"        values[{name!r}] = v",
                "    elif v is not None:",
                f"        v = clean{i}(v)",
                "        if v is not None:",
                f"            values[{name!r}] = v",
            ]
            continue
        lines += [
            f"    v = clean{i}({got})",
            "    if v is not None:",
            f"        values[{name!r}] = v",
        ]
    exec("\n".join(lines), env)  # noqa: S102 - literals only, see above
    return env["extract"]  # type: ignore[no-any-return]


_MISSING = object()


def _walk(row: dict[str, Any], source: str, parts: tuple[str, ...]) -> Any:
    """``get_path(row, source)``, through plain objects without a call per level."""
    if source in row:
        return row[source]
    value: Any = row
    for part in parts:
        if type(value) is dict:
            value = value.get(part)
        elif value is None:
            return None
        else:  # a list, or another kind of mapping: the general walk from the start
            return get_path(row, source)
    return value


def _clean(field: str, value: Any) -> Any:
    """Source text to field values: blanks are missing, ``43,6`` is 43.6, lists are split."""
    return _cleaner(field)(value)


def _cleaner(field: str) -> Callable[[Any], Any]:
    if field in _NUMBER_FIELDS:
        return _clean_number
    if field == "services":
        return _clean_list
    return _clean_text


def _clean_text(value: Any) -> Any:
    if type(value) is str:  # the usual case, first
        return value.strip() or None
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value  # let validation say a string was expected
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)  # ids and postcodes given as JSON numbers
    return value


def _clean_number(value: Any) -> Any:
    if type(value) is float:  # a JSON number
        return value
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None
    return _number(value)


def _clean_list(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None
    parts = value if isinstance(value, list) else _LIST_SEPARATORS.split(str(value))
    return [str(part).strip() for part in parts if str(part).strip()] or None


def _number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:  # the usual case: ``43.6`` or ``43,6`` (what float() reads needs no other change)
        return float(value.replace(",", ".") if "," in value else value)
    except ValueError:
        pass
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
    if type(row) is not dict and not isinstance(row, Mapping):
        reason = "the record is not an object"
    else:
        try:
            return validate_record(model, data)
        except ValidationError as exc:
            reason = _summary(exc, sources, prefix)
            return refusal(model, data.get("source_id"), locator, reason, row)
    return Rejection(locator=locator, reason=reason, excerpt=excerpt(row))


def refusal(model: type[Record], source_id: Any, locator: str, reason: str, row: Any) -> Rejection:
    """A record refused for a bad field, naming its id when it has a usable one, so the
    version stored by an earlier run stays live instead of being marked gone."""
    kept = source_id if isinstance(source_id, str) and valid_id(source_id) else None
    rtype = "offer" if model is OfferRecord else "shop"
    return Rejection(
        locator=locator, reason=reason, excerpt=excerpt(row), source_id=kept, record_type=rtype
    )


def valid_id(source_id: str) -> bool:
    """An id the store could hold: not empty, not too long, no control character."""
    return 0 < len(source_id) <= 256 and strict_text_ok(source_id)


def _summary(exc: ValidationError, sources: Mapping[str, str], prefix: str) -> str:
    """Pydantic's errors, one per field, each naming the field and the column it came from."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        where = f" (from {sources[field]!r})" if field in sources else ""
        message = "missing or empty" if error["type"] == "missing" else error["msg"]
        parts.append(f"{prefix}{field}{where}: {message}")
    return "; ".join(parts)
