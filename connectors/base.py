"""The connector contract: what every feed kind provides and what it emits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from aggregator.models import ConnectorRegistration, OfferRecord, PlainJSON, Rejection, ShopRecord


class ConnectorError(Exception):
    """A connector cannot run: misconfigured, feed unreachable, feed unreadable.

    The message names the problem (the field, the URL, the missing column) for the operator.
    """


@dataclass(frozen=True)
class Item:
    """One record read from the feed: the validated record and the payload as received."""

    record: ShopRecord | OfferRecord
    raw: dict[str, Any]
    locator: str
    #: The record's JSON form as stored, when the connector built it with the record
    #: (``connectors.row_builder``); else the pipeline makes it.
    stored: PlainJSON | None = None


@dataclass(frozen=True)
class Checkpoint:
    """State to save once every record emitted before it is stored.

    ``complete`` says the read covered the whole feed (a full refresh that finished), so records
    not seen in this run may be marked gone.
    """

    state: dict[str, Any]
    complete: bool = False


Emitted = Item | Rejection | Checkpoint


@dataclass
class ReadContext:
    """What a connector gets from the deployment: the HTTP client and what it may touch."""

    http: Any  # connectors.http.FeedClient
    #: Local paths and file:// URLs are allowed only for registrations from the machine's
    #: administrator (CLI, config directory), never through the operator API.
    allow_local_files: bool = False
    #: Every download must end within this many seconds (None: the client's own limit).
    max_download_s: float | None = None
    #: The run's deadline, a ``time.monotonic()`` instant no download may outlast (None: none).
    deadline: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckReport:
    """A dry run: the first records as they would be stored and every refusal with its reason."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    records: list[ShopRecord | OfferRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class ConnectorKind(Protocol):
    """A feed format. Implementations are one module each under ``connectors/``.

    Example::

        kind = registry.get("csv")
        for emitted in kind.read(registration, state={}, context=context):
            ...
    """

    name: ClassVar[str]
    #: Kind-specific options; its JSON Schema is the spec an operator form is built from.
    Config: ClassVar[type[BaseModel]]

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        """Yield items, rejections and checkpoints; raise ``ConnectorError`` when the feed fails."""
        ...

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        """Reach the feed, read a sample, report problems without storing anything."""
        ...
