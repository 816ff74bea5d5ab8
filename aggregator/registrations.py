"""Connector registrations from YAML: the administrator's files and `connectors add`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aggregator.models import ConnectorRegistration
from connectors.base import ConnectorError
from connectors.mapping import require_mapping, rows_are_offers
from connectors.registry import get_kind


class RegistrationError(ValueError):
    """A registration is invalid; the message names the file and the field."""


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "registration"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_registration(data: Any, *, source: str = "registration") -> ConnectorRegistration:
    """Validate one registration: its fields, its kind and the kind's options."""
    if not isinstance(data, dict):
        raise RegistrationError(
            f"{source}: expected a mapping of fields, got {type(data).__name__}"
        )
    try:
        registration = ConnectorRegistration.model_validate(data)
    except ValidationError as error:
        raise RegistrationError(f"{source}: {describe_validation_error(error)}") from None
    try:
        kind = get_kind(registration.kind)
    except ConnectorError as error:
        raise RegistrationError(f"{source}: kind: {error}") from None
    try:
        kind.Config.model_validate(registration.options)
    except ValidationError as error:
        detail = describe_validation_error(error)
        raise RegistrationError(
            f"{source}: options of kind {registration.kind!r}: {detail}"
        ) from None
    if getattr(kind, "refuses_mapping", False) and registration.mapping:
        raise RegistrationError(
            f"{source}: mapping: kind {registration.kind} reads its fields from the feed's own "
            "vocabulary, not a mapping: remove the mapping"
        )
    if not getattr(kind, "fixed_mapping", False):  # schema.org, merchant feeds... need none
        record_type = "offer" if rows_are_offers(registration.mapping) else "shop"
        try:
            require_mapping(registration.mapping, record_type)
        except ConnectorError as error:
            raise RegistrationError(f"{source}: mapping: {error}") from None
    return registration


def load_registration_file(path: Path) -> list[ConnectorRegistration]:
    """One YAML file: a registration, or a list of them."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistrationError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegistrationError(f"{path}: not valid YAML: {error}") from None
    items = data if isinstance(data, list) else [data]
    for item in items:
        _resolve_relative_url(item, path.parent)
    return [
        parse_registration(item, source=f"{path}" + (f"[{i}]" if len(items) > 1 else ""))
        for i, item in enumerate(items)
    ]


def config_registration_files(config_dir: Path) -> list[Path]:
    folder = config_dir / "connectors"
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _resolve_relative_url(item: Any, base: Path) -> None:
    """A relative path in a registration file is relative to that file, not to the shell."""
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        return
    url = item["url"]
    if "://" in url or Path(url).is_absolute():
        return
    item["url"] = str((base / url).resolve())
