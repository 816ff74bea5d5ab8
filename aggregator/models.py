"""The domain's words as pydantic models: every stage talks in these, not in dicts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError, SchemaValidator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
#: Longest text stored per field, in characters; a longer value refuses the record.
MAX_NAME = 300
MAX_DESCRIPTION = 5000
MAX_TEXT = 500
MAX_URL = 2048
#: Control characters (NUL, C0 but tab and newlines, DEL, C1) and lone surrogates: no text
#: field keeps them (PostgreSQL cannot store NUL, neither store can encode a lone surrogate).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: In an id or a URL not even tab and newlines are kept: they are refused.
_UNSAFE_STRICT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

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


class PlainJSON(dict[str, Any]):
    """JSON data known, from how it was built, to hold only what orjson writes byte for byte as
    ``json.dumps`` does (``aggregator.store.ingest._plain``): the store need not look again."""

    __slots__ = ()


def content_hash(data: Any) -> str:
    """A stable hash of JSON-able data: same content, same hash, whatever the key order."""
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Platform(BaseModel):
    """A source marketplace, e.g. ``toutoulouse``."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = ""
    url: str | None = None


class RunLimits(BaseModel):
    """A connector's own limits; each left out is the deployment's setting of the same name."""

    model_config = ConfigDict(extra="forbid")

    #: The whole run must end within this many seconds.
    max_run_s: float | None = Field(default=None, gt=0)
    #: Each download (redirects and retries included) must end within this many seconds.
    max_download_s: float | None = Field(default=None, gt=0)
    #: Refused records are kept for this many of the connector's latest runs.
    quarantine_keep_runs: int | None = Field(default=None, ge=1)
    #: At most this many refused records are kept per run.
    quarantine_max_per_run: int | None = Field(default=None, ge=1)


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
    limits: RunLimits = Field(default_factory=RunLimits)

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
    name: str = Field(min_length=1, max_length=MAX_NAME)
    address: str | None = Field(default=None, max_length=MAX_TEXT)
    postcode: str | None = Field(default=None, max_length=MAX_TEXT)
    city: str | None = Field(default=None, max_length=MAX_TEXT)
    country: str = "FR"
    phone: str | None = Field(default=None, max_length=MAX_TEXT)
    email: str | None = Field(default=None, max_length=MAX_TEXT)
    website: str | None = Field(default=None, max_length=MAX_URL)
    siret: str | None = Field(default=None, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=MAX_TEXT)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    opening_hours: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    #: The shop's page on the platform: where the customer is sent.
    url: str | None = Field(default=None, max_length=MAX_URL)
    services: list[str] = Field(default_factory=list, max_length=100)
    #: The source says the establishment has closed (e.g. SIRENE state ``F``).
    closed: bool = False

    @field_validator("source_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        return strict_text(value) or value

    @field_validator("website", "url")
    @classmethod
    def _safe_link(cls, value: str | None) -> str | None:
        return web_url(value)

    @model_validator(mode="after")
    def _clean(self) -> ShopRecord:
        return clean_texts(self)

    @property
    def key(self) -> RecordKey:
        return RecordKey(platform=self.platform, source_id=self.source_id)


class OfferRecord(BaseModel):
    """A validated product or service offered by a shop on one platform."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(pattern=SLUG_PATTERN)
    source_id: str = Field(min_length=1, max_length=256)
    shop_source_id: str | None = Field(default=None, max_length=256)
    title: str = Field(min_length=1, max_length=MAX_TEXT)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str | None = Field(default=None, max_length=MAX_TEXT)
    availability: str | None = Field(default=None, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=MAX_TEXT)
    url: str | None = Field(default=None, max_length=MAX_URL)
    image_url: str | None = Field(default=None, max_length=MAX_URL)

    @field_validator("source_id", "shop_source_id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        return strict_text(value)

    @field_validator("url", "image_url")
    @classmethod
    def _safe_link(cls, value: str | None) -> str | None:
        return web_url(value)

    @model_validator(mode="after")
    def _clean(self) -> OfferRecord:
        return clean_texts(self)


def strict_text(value: str | None) -> str | None:
    """An id as given, refused when it holds a control character or a lone surrogate."""
    if value is not None and _UNSAFE_STRICT.search(value):
        found = _UNSAFE_STRICT.search(value)
        code = ord(found.group()) if found else 0
        raise PydanticCustomError(
            "unsafe_text", "holds the control character {char}", {"char": f"U+{code:04X}"}
        )
    return value


def strict_text_ok(value: str) -> bool:
    """Whether ``strict_text`` accepts ``value``."""
    return _UNSAFE_STRICT.search(value) is None


def web_url(value: str | None) -> str | None:
    """A link a page may show: ``http(s)://host...`` only (``javascript:``, ``data:``, ``//host``
    and the like are refused); a bare ``www.shop.fr`` is read as ``https://www.shop.fr``."""
    if value is None:
        return None
    strict_text(value)
    value = value.strip().replace(" ", "%20")  # as a browser sends it: a link, not a refusal
    head = value.split("/", 1)[0]
    bare = ":" not in head and "." in head and "@" not in head
    if bare and not value.startswith((".", "/")):
        value = "https://" + value  # a host written without its scheme
    scheme, sep, rest = value.partition(":")
    if (
        not sep
        or scheme.lower() not in ("http", "https")
        or not rest.startswith("//")
        or len(rest) < 3
        or rest[2] in "/\\"
    ):
        raise PydanticCustomError(
            "unsafe_url", "only http(s) links are stored (got {shown})", {"shown": repr(value[:80])}
        )
    return value


R = TypeVar("R", bound=BaseModel)


def clean_texts(record: R) -> R:
    """Every other text field without control characters or lone surrogates (a value that is
    nothing else becomes missing), so the same record stores the same on SQLite and
    PostgreSQL."""
    fields = record.__dict__
    texts = [v for v in fields.values() if type(v) is str]
    texts += [v for v in fields.get("services") or () if type(v) is str]
    if not _UNSAFE.search("".join(texts)):  # the usual case: one search per record
        return record
    for name, value in fields.items():
        if isinstance(value, str) and _UNSAFE.search(value):
            cleaned = _UNSAFE.sub("", value).strip()
            if not cleaned and name in ("name", "title"):
                raise ValueError(f"{name}: nothing left once its control characters are removed")
            record.__dict__[name] = cleaned or None
        elif isinstance(value, list) and any(
            isinstance(v, str) and _UNSAFE.search(v) for v in value
        ):
            cleaned_list = [_UNSAFE.sub("", v).strip() for v in value]
            record.__dict__[name] = [v for v in cleaned_list if v]
    return record


def _without_python_validators(schema: Any) -> Any:
    """A copy of a core schema with every ``function-after`` validator replaced by the schema
    it wraps: types, lengths and bounds checked in Rust, nothing called back in Python."""
    if isinstance(schema, list):
        return [_without_python_validators(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after":
        return _without_python_validators(schema["schema"])
    return {key: _without_python_validators(value) for key, value in schema.items()}


#: Per record model, the fields ``web_url`` validates.
LINK_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    ShopRecord: ("website", "url"),
    OfferRecord: ("url", "image_url"),
}

#: Per model: its link fields, its list fields, and its validator without the Python
#: validators (``strict_text``, ``web_url``, ``clean_texts``), used by ``validate_record`` once
#: they are shown to be no-ops.
_PLAIN: dict[type[BaseModel], tuple[tuple[str, ...], tuple[str, ...], SchemaValidator]] = {
    model: (
        LINK_FIELDS[model],
        lists,
        SchemaValidator(_without_python_validators(model.__pydantic_core_schema__)),
    )
    for model, lists in ((ShopRecord, ("services",)), (OfferRecord, ()))
}


#: A link ``web_url`` returns as it is (control characters aside): ``http(s)://`` and a host,
#: nothing to trim or encode.
PLAIN_LINK = re.compile(r"https?://[^\s/\\][^\s]*")
#: The types a mapped value has when it comes from a CSV cell or a JSON document.
_PLAIN_TYPES = frozenset({str, float, int, bool, type(None), list})
_STR = frozenset({str})


def validate_record(model: type[R], data: dict[str, Any]) -> R:
    """``model.model_validate(data)``, faster on the usual record: when no text holds a
    character that is not printable (so no control character, no lone surrogate) and every link
    is already a plain ``http(s)://`` link, the model's Python validators would return each
    value unchanged, so only its core schema runs (types, lengths, bounds). Anything else, and
    any record the core schema refuses, goes through the full validation, whose errors are the
    ones reported."""
    links, lists, plain = _PLAIN[model]
    values = list(data.values())
    # Control characters and lone surrogates are not printable: every text printable, none.
    if (
        not _PLAIN_TYPES.issuperset(map(type, values))
        or not "".join([v for v in values if type(v) is str]).isprintable()
    ):
        return model.model_validate(data)
    for name in lists:
        items = data.get(name)
        if type(items) is list and (
            not _STR.issuperset(map(type, items)) or not "".join(items).isprintable()
        ):
            return model.model_validate(data)
    for name in links:
        link = data.get(name)
        if link is not None and (type(link) is not str or not PLAIN_LINK.fullmatch(link)):
            return model.model_validate(data)
    try:
        return plain.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError:
        return model.model_validate(data)


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
    #: Field -> the reviewer whose choice of member record the field shows.
    chosen: dict[str, str] = Field(default_factory=dict)

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
    #: The refused record's id and type when the row gave one: its previous version stays live.
    source_id: str | None = None
    record_type: str | None = None
