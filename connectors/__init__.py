"""Connectors: one module (or package) per feed kind, the shared HTTP client, the kind registry."""

from __future__ import annotations

from connectors.base import (
    Checkpoint,
    CheckReport,
    ConnectorError,
    ConnectorKind,
    Emitted,
    Item,
    ReadContext,
)
from connectors.http import FeedClient, FeedResponse, build_context, fetch_source, open_source
from connectors.registry import get_kind, kinds, register

__all__ = [
    "CheckReport",
    "Checkpoint",
    "ConnectorError",
    "ConnectorKind",
    "Emitted",
    "FeedClient",
    "FeedResponse",
    "Item",
    "ReadContext",
    "build_context",
    "fetch_source",
    "get_kind",
    "kinds",
    "open_source",
    "register",
]
