"""Connector kinds by name. Built-in kinds register through the same ``register()`` a third-party
kind uses, so both are first-class.

A third-party package provides a kind like this::

    # mypackage/geojson.py
    from connectors.registry import register

    @register
    class GeoJsonKind:
        name = "geojson"
        Config = GeoJsonConfig          # a pydantic model of the kind's options
        def read(self, registration, state, context): ...
        def check(self, registration, context, limit=20): ...

and declares the module in its ``pyproject.toml``; it is imported the first time a kind is
looked up::

    [project.entry-points."aggregator.connectors"]
    geojson = "mypackage.geojson"
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aggregator.models import ConnectorRegistration, Rejection
from connectors.base import CheckReport, ConnectorError, ConnectorKind, Item, ReadContext

ENTRY_POINT_GROUP = "aggregator.connectors"
#: Modules of the built-in kinds; each registers its kind when imported.
BUILTIN_MODULES = (
    "connectors.csv",
    "connectors.json_api",
    "connectors.merchant_feed.connector",
    "connectors.shopify",
    "connectors.woocommerce",
    "connectors.geojson",
    "connectors.osm",
    "connectors.sirene",
    "connectors.schema_org.connector",
)

logger = logging.getLogger(__name__)
_kinds: dict[str, ConnectorKind] = {}
_loaded = False
K = TypeVar("K")
C = TypeVar("C", bound=BaseModel)


def register(kind: K) -> K:
    """Register a kind instance, or a class (instantiated without arguments); returns it
    unchanged, so it works as a class decorator. A name already taken by another kind is refused.
    """
    instance: Any = kind() if isinstance(kind, type) else kind
    missing = [attr for attr in ("name", "Config", "read", "check") if not hasattr(instance, attr)]
    if missing:
        raise ConnectorError(
            f"cannot register {kind!r} as a connector kind: no {', '.join(missing)}"
        )
    name = instance.name
    existing = _kinds.get(name)
    if existing is not None and _qualname(existing) != _qualname(instance):
        raise ConnectorError(
            f"connector kind {name!r} is already registered by {_qualname(existing)}; "
            f"{_qualname(instance)} cannot take it"
        )
    _kinds[name] = instance
    return kind


def unregister(name: str) -> None:
    """Forget a kind (for tests, and for a deployment that disables one)."""
    _kinds.pop(name, None)


def get_kind(name: str) -> ConnectorKind:
    """The kind registered as ``name``; ``ConnectorError`` listing the known kinds otherwise."""
    _load()
    try:
        return _kinds[name]
    except KeyError:
        raise ConnectorError(
            f"unknown connector kind {name!r}; known kinds: {', '.join(kinds()) or 'none'}"
        ) from None


def kinds() -> list[str]:
    """The names of every registered kind, sorted."""
    _load()
    return sorted(_kinds)


def parse_options(config: type[C], registration: ConnectorRegistration) -> C:
    """A registration's options validated by a kind's ``Config``; the error names each field."""
    try:
        return config.model_validate(registration.options)
    except ValidationError as exc:
        problems = "; ".join(
            f"option {'.'.join(str(p) for p in error['loc']) or '(all)'!r}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConnectorError(
            f"invalid options for kind {registration.kind!r}: {problems}"
        ) from None


def check_by_reading(
    kind: ConnectorKind, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
) -> CheckReport:
    """A dry run shared by kinds: read until ``limit`` records or rejections, never raise."""
    report = CheckReport(ok=True)
    emitted = kind.read(registration, {}, context)
    try:
        for item in emitted:
            if isinstance(item, Item):
                report.records.append(item.record)
            elif isinstance(item, Rejection):
                report.rejections.append(item)
            if len(report.records) + len(report.rejections) >= limit:
                break
    except ConnectorError as exc:
        report.problems.append(str(exc))
    finally:
        getattr(emitted, "close", lambda: None)()  # let a generator release what it holds
    if not report.problems and not report.records:
        report.problems.append("no valid record in the sample read from the feed")
    report.ok = not report.problems
    return report


def _qualname(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _load() -> None:
    """Import the built-in kinds, then the third-party ones declared as entry points."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
            known = any(
                loaded is k or (isinstance(loaded, type) and isinstance(k, loaded))
                for k in _kinds.values()
            )
            if not isinstance(loaded, ModuleType) and not known:
                register(loaded)
        except Exception:  # one broken plugin must not take the built-in kinds down
            logger.exception(
                "cannot load connector kind %r from %s", entry_point.name, entry_point.value
            )
