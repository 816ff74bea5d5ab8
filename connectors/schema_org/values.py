"""Reading schema.org property values as extruct gives them: one or many, text or node, relative
URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic_core import PydanticCustomError

from aggregator.models import web_url

SCHEMA_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def first(value: Any) -> Any:
    return next((v for v in value if v is not None), None) if isinstance(value, list) else value


def get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def text(value: Any) -> str | None:
    """The text of a value: first of a list, ``@value`` or ``name`` of an object, spaces tidied."""
    value = first(value)
    if isinstance(value, dict):
        value = value.get("@value", value.get("name"))
    if value is None or isinstance(value, dict | list | bool):
        return None
    return _SPACES.sub(" ", str(value)).strip() or None


def number(value: Any) -> float | None:
    try:
        return float((text(value) or "").replace(",", "."))
    except ValueError:
        return None


def url(value: Any, base: str) -> str | None:
    """An http(s) address with a host, relative ones read against ``base``; else None."""
    written = text(get(first(value), "url") or value)
    try:
        target = urljoin(base, written) if written else None
        parts = urlsplit(target) if target else None
    except ValueError:  # e.g. "http://[::1" : not an address
        return None
    if target is None or parts is None or parts.scheme not in ("http", "https"):
        return None
    return web_link(target) if parts.hostname else None


def web_link(value: str) -> str | None:
    """``value`` when a record may store it as a link (``aggregator.models.web_url``), else None:
    one odd link must not cost the record it sits in."""
    try:
        return web_url(value)
    except PydanticCustomError:
        return None


def key(name: Any) -> str:
    return _SPACES.sub(" ", str(name or "")).strip().casefold()


def defrag(url: str) -> str:
    return urldefrag(url)[0]


def same_host(a: str, b: str) -> bool:
    host = [(urlsplit(u).hostname or "").removeprefix("www.") for u in (a, b)]
    return host[0] == host[1]
