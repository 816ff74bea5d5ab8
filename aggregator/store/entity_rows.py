"""An entity's row as the store writes it: its JSON columns encoded once, its document hash.

The encoding is :func:`aggregator.models.content_hash`'s, byte for byte, so the hash of a
row's parts is the hash of the whole entity; a full matching encodes a million entities here,
by orjson where it writes the same bytes (:func:`aggregator.store.entity_form.plain_json`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aggregator.models import Entity
from aggregator.store.entity_form import plain_json


@dataclass(frozen=True, slots=True)
class EntityRow:
    """An entity as the store writes it: JSON columns already encoded, its members' keys."""

    entity_id: str
    golden: str
    names: str
    listings: str
    doc_hash: str
    members: list[tuple[str, str]]
    #: Hash of what it was built from (:mod:`aggregator.entity_sources`), when known.
    source_hash: str | None = None


#: ``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)``:
#: the encoding of :func:`aggregator.models.content_hash`.
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - an optional accelerator
    _orjson = None  # type: ignore[assignment]

_slow_dumps = functools.partial(
    json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)
#: The same bytes from the C encoder ``json.dumps`` builds anew on each call, built once.
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encoder = _make_encoder and _make_encoder(
    None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True
)


def dumps(data: Any) -> str:
    """``data`` as :func:`aggregator.models.content_hash` encodes it, byte for byte."""
    if _encoder is None:  # a Python built without the C accelerator
        return _slow_dumps(data)
    return "".join(_encoder(data, 0))


def _encoded(entity: Entity) -> tuple[dict[str, str], bool]:
    """:func:`dumps` of each part of the entity's JSON form: by orjson when the entity holds
    only values it writes byte for byte alike (:func:`plain_json`; tests/test_entity_form.py
    compares both on the demo's entities), by :func:`dumps` otherwise; and whether orjson
    wrote them (then orjson reads each part back as the value it encoded)."""
    plain = plain_json(entity)
    if plain is not None and _orjson is not None:
        try:
            return {
                key: _orjson.dumps(value, option=_orjson.OPT_SORT_KEYS).decode("utf-8")
                for key, value in plain.items()
            }, True
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an object of a subclass
            plain = None  # pydantic's form then, whatever the models hold
    data = plain if plain is not None else entity.model_dump(mode="json")
    return {key: dumps(value) for key, value in data.items()}, False


def doc_hash(data: dict[str, Any]) -> str:
    """:func:`aggregator.models.content_hash` of an entity's JSON form (``model_dump(mode=
    "json")``): what tells a changed entity from an unchanged one."""
    return hashlib.sha256(dumps(data).encode("utf-8")).hexdigest()


def _joined(parts: dict[str, str]) -> str:
    """:func:`dumps` of a dict whose values are encoded already: its keys sorted, each with its
    value's encoding, what the encoder writes for the whole (so the parts are encoded once)."""
    return "{" + ",".join(f"{_key(key)}:{parts[key]}" for key in sorted(parts)) + "}"


@functools.lru_cache(maxsize=64)
def _key(key: str) -> str:
    return dumps(key)


def entity_row(
    entity: Entity,
    digest: str | None = None,
    data: dict[str, Any] | None = None,
    source: str | None = None,
) -> EntityRow:
    """The entity's row: ``data`` is its JSON form, when the caller has it already, and
    ``digest`` its :func:`doc_hash`, computed here from the same encodings as the columns
    unless given (a matching compares it with the stored one and writes the changed rows)."""
    parts = _encoded(entity)[0] if data is None else {k: dumps(v) for k, v in data.items()}
    return _row(entity, parts, digest, source)


def entity_row_form(
    entity: Entity, source: str | None = None
) -> tuple[EntityRow, tuple[str, str, str, str, str, str] | None]:
    """:func:`entity_row`, and the entity's JSON form as the row encoded it, for the search
    index to build its documents from (:func:`search.documents.form_documents`), when orjson
    encoded it (None otherwise: the documents are then built from the entity)."""
    parts, by_orjson = _encoded(entity)
    row = _row(entity, parts, None, source)
    if not by_orjson:
        return row, None
    form = (
        entity.entity_id,
        parts["members"],
        parts["golden"],
        parts["listings"],
        parts["names"],
        parts["offers"],
    )
    return row, form


def _row(
    entity: Entity, parts: dict[str, str], digest: str | None, source: str | None
) -> EntityRow:
    if digest is None:
        digest = hashlib.sha256(_joined(parts).encode("utf-8")).hexdigest()
    return EntityRow(
        entity_id=entity.entity_id,
        golden=parts["golden"],
        names=parts["names"],
        listings=parts["listings"],
        doc_hash=digest,
        members=[(m.platform, m.source_id) for m in entity.members],
        source_hash=source,
    )
