"""Kind ``json_api``: a paginated JSON API, or one JSON document (URL or local path); each record
is a shop, optionally with its products as offers (``offers_path``).

Locators are the page number and the JSON pointer of the record: ``page 3 /data/7``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote, quote_plus, urlsplit

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, content_hash
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, ReadContext
from connectors.http import FeedResponse, fetch_source, local_path
from connectors.mapping import (
    DuplicateGuard,
    excerpt,
    get_path,
    offer_from_row,
    require_mapping,
    row_reader,
    rows_are_offers,
)
from connectors.registry import check_by_reading, parse_options, register
from connectors.rows import item_reader

#: Where the records are when ``records_path`` is not given and the page is not a list.
DEFAULT_RECORD_KEYS = ("data", "results", "items")
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r';\s*rel\s*=\s*"?([^";,]*)', re.IGNORECASE)


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class PageRequest:
    """The query parameters of a page, and its URL when it is not the registered one."""

    params: dict[str, str] = field(default_factory=dict)
    url: str | None = None


@dataclass
class Page:
    number: int
    request: PageRequest
    response: FeedResponse
    document: Any
    records: list[Any]


class _Pagination(_Options):
    """A pagination style: its options, ``first()`` and ``next(page)``, the request for the page
    after ``page`` or None when ``page`` was the last."""

    def first(self) -> PageRequest:
        return PageRequest()

    def next(self, page: Page) -> PageRequest | None:
        return None


class NoPagination(_Pagination):
    """A single request."""

    style: Literal["none"] = "none"


class PagePagination(_Pagination):
    style: Literal["page"]
    param: str = "page"
    start: int = 1
    size_param: str | None = None
    size: int | None = Field(default=None, ge=1)

    def first(self) -> PageRequest:
        size = {self.size_param: str(self.size)} if self.size_param and self.size else {}
        return PageRequest({self.param: str(self.start), **size})

    def next(self, page: Page) -> PageRequest | None:
        if not page.records or (self.size and len(page.records) < self.size):
            return None
        number = int(page.request.params[self.param]) + 1
        return PageRequest({**page.request.params, self.param: str(number)})


class OffsetPagination(_Pagination):
    style: Literal["offset"]
    param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1)

    def first(self) -> PageRequest:
        return PageRequest({self.param: "0", self.limit_param: str(self.limit)})

    def next(self, page: Page) -> PageRequest | None:
        if len(page.records) < self.limit:
            return None
        offset = int(page.request.params[self.param]) + len(page.records)
        return PageRequest({**page.request.params, self.param: str(offset)})


class CursorPagination(_Pagination):
    style: Literal["cursor"]
    param: str = "cursor"
    #: Dotted path, in each page, to the next page's cursor; absent or empty on the last page.
    cursor_path: str = "next_cursor"

    def next(self, page: Page) -> PageRequest | None:
        cursor = get_path(page.document, self.cursor_path)
        return None if cursor in (None, "") else PageRequest({self.param: str(cursor)})


class LinkPagination(_Pagination):
    """``Link: <https://...?page=2>; rel="next"`` response headers (RFC 8288, ex 5988)."""

    style: Literal["link"]

    def next(self, page: Page) -> PageRequest | None:
        for target, params in _LINK.findall(page.response.headers.get("link", "")):
            if any("next" in rel.lower().split() for rel in _REL.findall(params)):
                return PageRequest(url=str(httpx.URL(page.response.url).join(target)))
        return None


Credentials = tuple[dict[str, str], dict[str, str], str | None]


class NoAuth(_Options):
    type: Literal["none"] = "none"

    def credentials(self) -> Credentials:
        """Headers, query parameters, and the secret (kept out of error messages)."""
        return {}, {}, None


class ApiKeyAuth(_Options):
    """An API key sent in a header or a query parameter; ``value_env`` names the variable."""

    type: Literal["api_key"]
    header: str | None = None
    query_param: str | None = None
    value: str | None = None
    value_env: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ApiKeyAuth:
        _exactly_one(self, "header", "query_param")
        _exactly_one(self, "value", "value_env")
        return self

    def credentials(self) -> Credentials:
        key = _secret(self.value, self.value_env, "auth.value_env")
        if self.header:
            return {self.header: key}, {}, key
        return {}, {str(self.query_param): key}, key


class BearerAuth(_Options):
    """``Authorization: Bearer <token>``; ``token_env`` names the variable holding the token."""

    type: Literal["bearer"]
    token: str | None = None
    token_env: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> BearerAuth:
        _exactly_one(self, "token", "token_env")
        return self

    def credentials(self) -> Credentials:
        token = _secret(self.token, self.token_env, "auth.token_env")
        return {"Authorization": f"Bearer {token}"}, {}, token


class Config(_Options):
    """Options of the ``json_api`` kind."""

    #: Dotted path to the list of records in a page; default: the page itself if it is a list,
    #: else its first ``data``, ``results`` or ``items`` list.
    records_path: str | None = None
    pagination: Annotated[
        NoPagination | PagePagination | OffsetPagination | CursorPagination | LinkPagination,
        Field(discriminator="style"),
    ] = NoPagination()
    max_pages: int = Field(default=10_000, ge=1)
    auth: Annotated[NoAuth | ApiKeyAuth | BearerAuth, Field(discriminator="type")] = NoAuth()
    #: Dotted path, inside each shop record, to its list of products (read as offers).
    offers_path: str | None = None

    @field_validator("pagination", "auth", mode="before")
    @classmethod
    def _shorthand(cls, value: Any, info: Any) -> Any:  # `pagination: link`, `auth: none`
        key = "style" if info.field_name == "pagination" else "type"
        return {key: value} if isinstance(value, str) else value


class JsonApiKind:
    """Reads page after page until the pagination style says the last one was read."""

    name: ClassVar[str] = "json_api"
    Config: ClassVar[type[BaseModel]] = Config

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        url, mapping = registration.url, registration.mapping
        require_mapping(mapping, "offer" if rows_are_offers(mapping) else "shop")
        if config.offers_path:
            require_mapping(mapping, "offer")
        local = local_path(url) is not None  # one document: no pages, no credentials
        pagination = NoPagination() if local else config.pagination
        credentials = (NoAuth() if local else config.auth).credentials()
        guard, seen, previous = DuplicateGuard(), set[tuple[Any, ...]](), list[Any]()
        item_from_row, offers_path = item_reader(registration, guard), config.offers_path
        request: PageRequest | None = pagination.first()
        number = 0
        while request is not None:
            number += 1
            if number > config.max_pages:
                raise ConnectorError(f"stopped after max_pages={config.max_pages} pages of {url}")
            key = (request.url, tuple(sorted(request.params.items())))
            if key in seen:
                what = {"cursor": "cursor", "link": "next link"}.get(pagination.style, "page")
                raise ConnectorError(f"page {number} of {url}: the {what} did not advance")
            seen.add(key)
            response = _fetch(url, request, context, credentials)
            document, plain = _parse_page(response.content, number, url)
            pointer, records = _records(document, config.records_path, number, url)
            if records and _repeats(records, previous):
                raise ConnectorError(
                    f"page {number} of {url} repeats page {number - 1}: "
                    f"is the {pagination.style} pagination ignored?"
                )
            previous = records
            for index, raw in enumerate(records):
                locator = f"page {number} {pointer}/{index}"
                if offers_path is None:  # the usual case: one record per row, no call
                    yield item_from_row(raw, locator, plain)
                else:
                    yield from _emit(registration, raw, locator, offers_path, guard)
            request = pagination.next(Page(number, request, response, document, records))
        yield Checkpoint(state={}, complete=True)

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        return check_by_reading(self, registration, context, limit)


def _emit(
    registration: ConnectorRegistration,
    raw: Any,
    locator: str,
    offers_path: str | None,
    guard: DuplicateGuard,
) -> Iterator[Emitted]:
    """The record at ``locator``, then its offers; a rejected shop's offers are not read."""
    emitted = guard.admit(row_reader(registration)(raw, locator), raw, locator)
    yield emitted
    if isinstance(emitted, Rejection) or not offers_path or isinstance(emitted.record, OfferRecord):
        return
    products, where = get_path(raw, offers_path), locator + pointer_of(offers_path)
    if products is not None and not isinstance(products, list):
        reason = f"offers_path {offers_path!r} is not a list"
        yield Rejection(locator=where, reason=reason, excerpt=excerpt(products))
        return
    for index, product in enumerate(products or []):
        at = f"{where}/{index}"
        offer = offer_from_row(registration, product, at, emitted.record.source_id)
        yield guard.admit(offer, product, at)


def _repeats(records: list[Any], previous: list[Any]) -> bool:
    """The same records as the page before. Comparing the lists stops at the first difference
    (the usual case: at once); the hash, only for equal lists, keeps ``1`` and ``1.0`` apart."""
    return records == previous and content_hash(records) == content_hash(previous)


def pointer_of(path: str | None) -> str:
    """The JSON pointer (RFC 6901) of a dotted path: ``result.items`` -> ``/result/items``."""
    parts = path.split(".") if path else []
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _records(
    document: Any, records_path: str | None, number: int, url: str
) -> tuple[str, list[Any]]:
    where = f"page {number} of {url}"
    if records_path:
        records = get_path(document, records_path)
        if not isinstance(records, list):
            raise ConnectorError(f"{where}: records_path {records_path!r} does not lead to a list")
        return pointer_of(records_path), records
    if isinstance(document, list):
        return "", document
    for key in DEFAULT_RECORD_KEYS if isinstance(document, dict) else ():
        if isinstance(document.get(key), list):
            return "/" + key, document[key]
    found = (
        ", ".join(list(document)[:20]) if isinstance(document, dict) else type(document).__name__
    )
    raise ConnectorError(
        f"{where}: cannot find the list of records; set the records_path option (found: {found})"
    )


def _parse(content: bytes, number: int, url: str) -> Any:
    """A page's JSON: orjson reads most pages three times faster and, where it reads one,
    as ``json.loads`` does; what it refuses (a number beyond 64 bits or a double, NaN, a lone
    surrogate, UTF-16, a BOM, bad JSON) is read, or refused with its message, by ``json.loads``."""
    return _parse_page(content, number, url)[0]


#: A negative exponent (``1e-5``; JSON writes a digit before it). Each pattern starts with its
#: literal, which the regex engine finds by a plain search: a character class first scanned a
#: page seven times slower.
_NEGATIVE_EXPONENTS = (re.compile(rb"e-(?<=[0-9]e-)"), re.compile(rb"E-(?<=[0-9]E-)"))


def _tiny_floats(content: bytes) -> bool:
    """Whether a page may hold a float below 1e-4 in size: a negative exponent, or four zeros
    after a point (``0.00009``; ``1.00005`` says so too: a needless but harmless look)."""
    return b".0000" in content or any(p.search(content) for p in _NEGATIVE_EXPONENTS)


#: Every digit made ``0``, so that a run of digits is found by a plain search for zeros.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: Twenty digits in a row: past 64 bits an integer is read by orjson as a float (rounded).
_LONG_DIGITS = b"0" * 20


def _long_integers(content: bytes) -> bool:
    """Whether a page may hold an integer orjson would round: twenty digits in a row (in a
    text too, a needless but harmless look). A translation and a plain search: a pattern
    would cost eight times the parse."""
    return _LONG_DIGITS in content.translate(_DIGITS_AS_ZERO)


def _parse_page(content: bytes, number: int, url: str) -> tuple[Any, bool]:
    """``_parse``, and whether its values are ones orjson writes back as ``json.dumps`` does
    (``PlainJSON``): read by orjson (so no number beyond 64 bits, no NaN, no lone surrogate)
    and holding no float below 1e-4 in size. A page with an integer orjson would round (it
    reads one beyond 64 bits as a float) is read by ``json.loads``, which keeps it exact."""
    if not _long_integers(content):
        try:
            return orjson.loads(content), not _tiny_floats(content)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(content), False
    except (ValueError, RecursionError) as exc:
        raise ConnectorError(f"page {number} of {url} is not valid JSON: {exc}") from None


def _exactly_one(options: BaseModel, *names: str) -> None:
    if sum(getattr(options, name) is not None for name in names) != 1:
        raise ValueError(f"give exactly one of {' or '.join(names)}")


def _secret(value: str | None, env: str | None, option: str) -> str:
    if value is not None:
        return value
    found = os.environ.get(str(env))
    if not found:
        raise ConnectorError(f"the environment variable {env} named by option {option} is not set")
    return found


def _fetch(
    registered_url: str,
    request: PageRequest,
    context: ReadContext,
    credentials: Credentials,
) -> FeedResponse:
    """One page; credentials go only to the registered origin, never into error messages."""
    headers, params, secret = credentials
    page_url = request.url or registered_url
    if urlsplit(page_url)[:2] != urlsplit(registered_url)[:2]:
        headers, params = {}, {}
    merged = {**request.params, **params}
    url = str(httpx.URL(page_url).copy_merge_params(merged)) if merged else page_url
    try:
        # A URL the feed gave (a Link header) is never a local path, whoever registered it.
        taken = request.url is not None
        headers = {"Accept": "application/json", **headers}
        return fetch_source(url, context, headers, from_response=taken)
    except ConnectorError as exc:
        message = str(exc)
        if secret:  # as given, and as a query string may encode it
            for form in {secret, quote(secret), quote(secret, ""), quote_plus(secret, "")}:
                message = message.replace(form, "***")
        raise ConnectorError(message) from None


register(JsonApiKind())
