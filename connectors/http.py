"""The shared HTTP client for feeds: redirects re-checked, size limits, deadlines, retries, local
files and conditional requests; connections go through the guard of :mod:`connectors.network`."""

from __future__ import annotations

import contextlib
import random
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from aggregator.settings import Settings
from connectors.base import ConnectorError, ReadContext
from connectors.network import (
    _DOWNLOAD_ENDS,
    DEFAULT_PORTS,
    AddressRefused,
    GuardedNetwork,
    Resolver,
    _guarded_transport,
    address_problem,
    allowed_names,
    host_allowed,
    split_entry,
)

#: The guard's names stay importable from here, where feeds' code has always found them.
__all__ = [
    "DEFAULT_PORTS",
    "FROM_RESPONSE_REFUSED",
    "LOCAL_FILES_REFUSED",
    "AddressRefused",
    "FeedClient",
    "FeedResponse",
    "GuardedNetwork",
    "address_problem",
    "allowed_names",
    "build_context",
    "conditional_headers",
    "fetch_if_changed",
    "fetch_source",
    "host_allowed",
    "local_path",
    "open_source",
    "split_entry",
    "validators",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Caller headers kept when a redirect leaves the origin (credentials are not).
HEADERS_KEPT_ACROSS_ORIGINS = frozenset({"accept", "if-none-match", "if-modified-since"})
_RETRYABLE_ERRORS = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
_DEFAULTS = Settings.model_fields
LOCAL_FILES_REFUSED = "local files are only accepted from the command line or the config directory"
FROM_RESPONSE_REFUSED = "a URL taken from a feed's response must be http(s)"


@dataclass(frozen=True)
class FeedResponse:
    """A fetched feed: status, headers (case-insensitive), decoded body and the final URL."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str


class FeedClient:
    """Fetches feeds politely and defensively. Build it with ``FeedClient.from_settings``.

    Example::

        with FeedClient(allowed_hosts={"127.0.0.1:8000"}) as client:
            response = client.get("http://127.0.0.1:8000/shops.csv")
    """

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        user_agent: str = _DEFAULTS["user_agent"].default,
        timeout_s: float = _DEFAULTS["http_timeout_s"].default,
        max_body_bytes: int = _DEFAULTS["max_body_bytes"].default,
        max_download_s: float = _DEFAULTS["max_download_s"].default,
        max_redirects: int = 5,
        max_tries: int = 3,
        backoff_s: float = 0.5,
        max_wait_s: float = 30.0,
        resolver: Resolver | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.network = GuardedNetwork(allowed_hosts, resolver)
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self.max_download_s = max_download_s
        self.max_redirects = max_redirects
        self.max_tries = max(1, max_tries)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._client = httpx.Client(
            transport=_guarded_transport(self.network),
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> FeedClient:
        options: dict[str, Any] = {
            "allowed_hosts": settings.allowed_hosts,
            "user_agent": settings.user_agent,
            "timeout_s": settings.http_timeout_s,
            "max_body_bytes": settings.max_body_bytes,
            "max_download_s": settings.max_download_s,
        }
        return cls(**(options | overrides))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        max_download_s: float | None = None,
        deadline: float | None = None,
    ) -> FeedResponse:
        """GET ``url``, following up to ``max_redirects`` redirects, each one re-checked.

        The whole download (redirects, retries and waits included) must end within
        ``max_download_s`` (the client's own when None) and before ``deadline`` (a
        ``time.monotonic()`` instant, the run's); a feed dripping bytes is cut off, not read on.
        Returns 2xx and 304 responses; raises ``ConnectorError`` for anything else.
        """
        seconds = self.max_download_s if max_download_s is None else max_download_s
        clock = _Deadline(url, seconds, deadline)
        token = _DOWNLOAD_ENDS.set(clock.at)
        try:
            return self._follow(url, dict(headers or {}), clock)
        finally:
            _DOWNLOAD_ENDS.reset(token)

    def _follow(self, url: str, hop_headers: dict[str, str], clock: _Deadline) -> FeedResponse:
        current = url
        for _ in range(self.max_redirects + 1):
            via = "" if current == url else f" (redirected from {url})"
            try:
                parts = urlsplit(current)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise ConnectorError(f"refused {current}{via}: only http(s) URLs are fetched")
                response = self._get_with_retries(current, hop_headers, via, clock)
            except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors too
                raise ConnectorError(f"refused {current}{via}: invalid URL ({exc})") from None
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            target = urljoin(current, location)
            if urlsplit(target)[:2] != parts[:2]:  # another origin: drop the credentials
                kept = HEADERS_KEPT_ACROSS_ORIGINS
                hop_headers = {k: v for k, v in hop_headers.items() if k.lower() in kept}
            current = target
        raise ConnectorError(f"cannot fetch {url}: more than {self.max_redirects} redirects")

    def _get_with_retries(
        self, url: str, headers: dict[str, str], via: str, clock: _Deadline
    ) -> FeedResponse:
        for attempt in range(1, self.max_tries + 1):
            last = attempt == self.max_tries
            clock.check()
            # No single read may wait past the deadline either (a server that never answers).
            timeout = httpx.Timeout(min(self.timeout_s, max(clock.remaining(), 0.001)))
            try:
                with self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES and not last:
                        wait = self._wait(attempt, response.headers.get("retry-after"))
                    elif status >= 400:
                        answer = f"the server answered {status} {response.reason_phrase}"
                        tries = f" after {attempt} tries" if attempt > 1 else ""
                        raise ConnectorError(f"cannot fetch {url}{via}: {answer}{tries}")
                    else:
                        content = self._read_body(response, url, clock)
                        return FeedResponse(status, response.headers, content, str(response.url))
            except AddressRefused as exc:
                raise ConnectorError(f"refused {url}{via}: {exc}") from None
            except httpx.TransportError as exc:
                clock.check()  # a read cut by the deadline says so, not "read timeout"
                reason = self._describe(exc)
                if last or not isinstance(exc, _RETRYABLE_ERRORS):
                    tries = f" ({attempt} tries)" if attempt > 1 else ""
                    verb = "reach" if isinstance(exc, httpx.ConnectError) else "fetch"
                    raise ConnectorError(f"cannot {verb} {url}{via}: {reason}{tries}") from exc
                wait = self._wait(attempt, None)
            if wait >= clock.remaining():  # Retry-After beyond the deadline: give up now
                clock.expire(f"the server asked to retry in {wait:g} s")
            self._sleep(wait)
        raise AssertionError("unreachable: the last try returns or raises")

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        seconds = _retry_after_seconds(retry_after)
        if seconds is None:  # exponential backoff with jitter
            seconds = self.backoff_s * 2 ** (attempt - 1) + random.uniform(0, self.backoff_s)
        return max(0.0, min(seconds, self.max_wait_s))

    def _describe(self, exc: httpx.TransportError) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connection timed out after {self.timeout_s:g} s"
        if isinstance(exc, httpx.TimeoutException):
            return f"no data for {self.timeout_s:g} s (read timeout)"
        text = str(exc) or type(exc).__name__
        return "connection refused" if "refused" in text.lower() else text

    def _read_body(self, response: httpx.Response, url: str, clock: _Deadline) -> bytes:
        """The decoded body, stopped as soon as it passes ``max_body_bytes``: a small gzip body
        that inflates to gigabytes (a bomb) is never inflated beyond the limit."""
        limit = self.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_big(url, limit)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise ConnectorError(f"cannot read {url}: unsupported content-encoding {encoding!r}")
        compressed = encoding not in ("", "identity")  # MAX_WBITS | 32: gzip or zlib header
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32) if compressed else None
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                clock.check()
                if inflater is None:
                    body += chunk
                while inflater is not None and chunk and len(body) <= limit:
                    body += inflater.decompress(chunk, limit - len(body) + 1)
                    chunk = inflater.unconsumed_tail
                if len(body) > limit:
                    raise _too_big(url, limit)
            body += inflater.flush() if inflater else b""
        except zlib.error as exc:
            raise ConnectorError(f"cannot decompress {url}: {exc}") from None
        if len(body) > limit:
            raise _too_big(url, limit)
        return bytes(body)


class _Deadline:
    """When one download must be over: its own limit, or the run's deadline if sooner."""

    def __init__(self, url: str, seconds: float, run_deadline: float | None):
        self.url, self.seconds = url, seconds
        own = time.monotonic() + seconds
        self.at = own if run_deadline is None else min(own, run_deadline)
        self.by_run = run_deadline is not None and run_deadline < own

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            self.expire()

    def expire(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        if self.by_run:
            raise ConnectorError(
                f"stopped reading {self.url}: the run did not finish within its max_run_s{extra}"
            )
        raise ConnectorError(
            f"stopped reading {self.url}: the download did not finish within "
            f"max_download_s={self.seconds:g}{extra}"
        )


def _too_big(url: str, limit: int) -> ConnectorError:
    return ConnectorError(f"stopped reading {url}: larger than the {limit}-byte max_body_bytes")


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); None when absent or unreadable."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        return parsedate_to_datetime(value).timestamp() - time.time()
    return None


def local_path(url: str) -> Path | None:
    """The local file ``url`` names (a path or a file:// URL), or None for http(s) URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConnectorError(f"refused {url}: a file URL must name a local path")
        return Path(url2pathname(parts.path))
    if len(parts.scheme) > 1:  # one letter is a Windows drive
        raise ConnectorError(f"refused {url}: use an http(s) URL or a local path")
    return Path(url)


def fetch_source(
    url: str,
    context: ReadContext,
    headers: Mapping[str, str] | None = None,
    *,
    from_response: bool = False,
) -> FeedResponse:
    """Fetch ``url`` through the context's client, or read it as a local file when allowed.

    ``from_response``: the URL was read in a feed (a ``Link`` header, a ``next`` field, a
    sitemap): only the registered URL may ever be a local path, so such a URL must be http(s)
    (and then passes the address guard like any other), whoever registered the connector."""
    path = local_path(url)
    if path is None:
        timing = {"max_download_s": context.max_download_s, "deadline": context.deadline}
        options = {k: v for k, v in timing.items() if v is not None}  # plain clients: none
        response: FeedResponse = context.http.get(url, headers=headers, **options)
        return response
    if from_response:
        raise ConnectorError(f"refused {url}: {FROM_RESPONSE_REFUSED}")
    if not context.allow_local_files:
        raise ConnectorError(f"refused {url}: {LOCAL_FILES_REFUSED}")
    limit = int(getattr(context.http, "max_body_bytes", _DEFAULTS["max_body_bytes"].default))
    try:
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except OSError as exc:
        raise ConnectorError(f"cannot read {url}: {exc.strerror or exc}") from None
    if len(content) > limit:
        raise _too_big(url, limit)
    return FeedResponse(200, {}, content, path.resolve().as_uri())


def conditional_headers(url: str, state: Mapping[str, Any]) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from the validators a complete read saved in
    ``state`` (see ``validators``); none for a local file, which is always read again."""
    if local_path(url) is not None:
        return {}
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = str(state["etag"])
    if state.get("last_modified"):
        headers["If-Modified-Since"] = str(state["last_modified"])
    return headers


def fetch_if_changed(
    url: str, context: ReadContext, state: Mapping[str, Any]
) -> FeedResponse | None:
    """The feed fetched with a conditional GET, or None when the server answers 304 (unchanged
    since the read that saved ``state``).

    Example, in a connector's ``read``::

        response = fetch_if_changed(url, context, state)
        if response is None:  # unchanged: nothing to read or mark gone
            yield Checkpoint(state=dict(state), complete=False)
            return
        ...
        yield Checkpoint(state=validators(response), complete=True)
    """
    response = fetch_source(url, context, conditional_headers(url, state))
    return None if response.status == 304 else response


def validators(response: FeedResponse) -> dict[str, Any]:
    """The state to save after a complete read: what makes the next request conditional. Its
    keys (``etag``, ``last_modified``) are in stored connector states: do not rename them."""
    return {
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
    }


def open_source(url: str, context: ReadContext) -> bytes:
    """The bytes of a feed given by URL or, when the context allows it, by local path."""
    return fetch_source(url, context).content


def build_context(settings: Settings, allow_local_files: bool = False) -> ReadContext:
    """The context connectors run in: a client built from the settings, local files or not."""
    return ReadContext(http=FeedClient.from_settings(settings), allow_local_files=allow_local_files)
