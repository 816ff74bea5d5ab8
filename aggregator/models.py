"""The domain's words as pydantic models: every stage talks in these, not in dicts."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

#: Shop fields a connector mapping may fill (see ``ConnectorRegistration.mapping``).
SHOP_FIELDS: tuple[str, ...] = (
    "source_id",
    "name",
    "address",
    "postcode",
    "city",
    "country",
    "phone",
    "email",
    "website",
    "siret",
    "category",
    "description",
    "lat",
    "lon",
    "opening_hours",
    "url",
    "services",
)

#: Offer fields a connector mapping may fill.
OFFER_FIELDS: tuple[str, ...] = (
    "source_id",
    "shop_source_id",
    "title",
    "description",
    "price",
    "currency",
    "availability",
    "category",
    "url",
    "image_url",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(data: Any) -> str:
    """A stable hash of JSON-able data: same content, same hash, whatever the key order."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Platform(BaseModel):
    """A source marketplace, e.g. ``toutoulouse``."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = ""
    url: str | None = None


class ConnectorRegistration(BaseModel):
    """One registration of a feed for a platform: kind + config + schedule + owner."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default="", pattern=r"^$|" + SLUG_PATTERN[:-1] + r"$")
    platform: str = Field(pattern=SLUG_PATTERN)
    kind: str
    url: str
    country: str = Field(default="FR", min_length=2, max_length=2)
    mapping: dict[str, str] = Field(default_factory=dict)
    #: Kind-specific options (delimiter, pagination, auth...), validated by the kind's ``Config``.
    options: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = None
    enabled: bool = True
    owner: str | None = None
    name: str | None = None

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("mapping")
    @classmethod
    def _known_fields(cls, mapping: dict[str, str]) -> dict[str, str]:
        allowed = set(SHOP_FIELDS) | {f"offer.{name}" for name in OFFER_FIELDS}
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            raise ValueError(
                f"unknown mapping field(s) {', '.join(unknown)}; "
                f"mappable shop fields are: {', '.join(SHOP_FIELDS)}"
            )
        return mapping

    def effective_id(self) -> str:
        return self.id or f"{self.platform}-{self.kind}".replace("_", "-")


class RecordType(str, Enum):
    shop = "shop"
    offer = "offer"


class ShopRecord(BaseModel):
    """A validated shop listing as one platform describes it (before matching)."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(pattern=SLUG_PATTERN)
    source_id: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=300)
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str = "FR"
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    siret: str | None = None
    category: str | None = None
    description: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: str | None = None
    #: The shop's page on the platform: where the customer is sent.
    url: str | None = None
    services: list[str] = Field(default_factory=list)
    #: The source says the establishment has closed (e.g. SIRENE state ``F``).
    closed: bool = False

    @property
    def key(self) -> RecordKey:
        return RecordKey(platform=self.platform, source_id=self.source_id)


class OfferRecord(BaseModel):
    """A validated product or service offered by a shop on one platform."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(pattern=SLUG_PATTERN)
    source_id: str = Field(min_length=1, max_length=256)
    shop_source_id: str | None = None
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    price: float | None = Field(default=None, ge=0)
    currency: str | None = None
    availability: str | None = None
    category: str | None = None
    url: str | None = None
    image_url: str | None = None


class RecordKey(BaseModel):
    """Identifies one shop record: the platform and the id the platform gives it."""

    model_config = ConfigDict(frozen=True)

    platform: str
    source_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.source_id}"

    @classmethod
    def parse(cls, text: str) -> RecordKey:
        platform, sep, source_id = text.partition(":")
        if not sep or not platform or not source_id:
            raise ValueError(f"expected PLATFORM:SOURCE_ID, got {text!r}")
        return cls(platform=platform, source_id=source_id)


class RawRecord(BaseModel):
    """What a connector emitted, as received, with its bookkeeping."""

    platform: str
    source_id: str
    record_type: RecordType = RecordType.shop
    connector_id: str
    payload: dict[str, Any]
    record: dict[str, Any]
    content_hash: str
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None = None


class Provenanced(BaseModel):
    """One golden-record field value and the record it was taken from."""

    value: Any
    platform: str
    source_id: str


class GoldenRecord(BaseModel):
    """The best knowledge of one shop; every field says which platform it came from."""

    fields: dict[str, Provenanced] = Field(default_factory=dict)

    def value(self, name: str, default: Any = None) -> Any:
        item = self.fields.get(name)
        return default if item is None else item.value


class Listing(BaseModel):
    """Where a shop is listed: a platform and the link to the shop there."""

    platform: str
    source_id: str
    url: str | None = None
    name: str


class Entity(BaseModel):
    """One real shop: the cluster of shop records describing it and its golden record."""

    entity_id: str
    members: list[RecordKey]
    golden: GoldenRecord
    listings: list[Listing] = Field(default_factory=list)
    #: Every spelling the platforms use, so any of them finds the shop.
    names: list[str] = Field(default_factory=list)
    offers: list[OfferRecord] = Field(default_factory=list)


class CandidatePair(BaseModel):
    """Two shop records the matcher scored between its two thresholds: for a chamber to review."""

    a: RecordKey
    b: RecordKey
    probability: float = Field(ge=0, le=1)
    explanation: dict[str, Any] = Field(default_factory=dict)


class Verdict(str, Enum):
    must_link = "must_link"
    cannot_link = "cannot_link"


class Decision(BaseModel):
    """A reviewer's ruling on a pair; later runs obey it."""

    a: RecordKey
    b: RecordKey
    verdict: Verdict
    reviewer: str
    note: str | None = None
    decided_at: datetime = Field(default_factory=utcnow)


class RunCounts(BaseModel):
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    rejected: int = 0


class Run(BaseModel):
    """One execution of one connector."""

    id: int | None = None
    connector_id: str
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: Literal["running", "ok", "failed", "partial"] = "running"
    counts: RunCounts = Field(default_factory=RunCounts)
    errors: list[str] = Field(default_factory=list)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Rejection(BaseModel):
    """A refused record: kept in quarantine with its reason, never dropped silently."""

    locator: str
    reason: str
    excerpt: str = ""
