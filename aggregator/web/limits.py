"""Fair shares of the web service: a total deadline per request, and rate limits (token
buckets) per client address on the public side and per key on the operators' API.

Buckets live in this process's memory only; client addresses are never logged or stored, and
an operator key is kept only as its SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aggregator.settings import Settings

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPERATOR_PREFIX = "/api/operator"
#: Probes and static files are not rate limited: a load balancer asks from one address.
UNLIMITED = ("/healthz", "/readyz", "/static/")
#: The most buckets kept; the least recently used go first (a flood of addresses or keys
#: cannot grow memory without bound).
MAX_BUCKETS = 100_000


class TokenBuckets:
    """``rate`` tokens a second up to ``burst``, one bucket per name. Example::

    buckets = TokenBuckets(rate=20, burst=60)
    wait = buckets.take("203.0.113.9")   # 0.0: go ahead; otherwise seconds to wait
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, max(1, burst), clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, name: str) -> float:
        """Take one token: 0.0 when there was one, else the seconds until there is."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[name] = (tokens, now)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
            return wait


def key_hash(authorization: str | None) -> str | None:
    """The SHA-256 of a bearer key (the form the store keeps), or None without one."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return hashlib.sha256(authorization[7:].strip().encode()).hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    """ASGI middleware: 429 with ``Retry-After`` once a client's bucket is empty."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.public = TokenBuckets(settings.rate_public_per_s, settings.rate_public_burst)
        self.operator = TokenBuckets(settings.rate_operator_per_s, settings.rate_operator_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(UNLIMITED):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if path.startswith(OPERATOR_PREFIX):
            # Per key; requests without one share their address's bucket.
            name = key_hash(_header(scope, b"authorization")) or f"address {client}"
            wait, who = self.operator.take(name), "this API key"
        else:
            wait, who = self.public.take(client), "your address"
        if wait > 0:
            retry = max(1, math.ceil(wait))
            await _answer(
                send,
                429,
                f"too many requests from {who}: try again in {retry} s",
                {"Retry-After": str(retry)},
            )
            return
        await self.app(scope, receive, send)


class Deadline:
    """ASGI middleware: a request not answered within its deadline gets 504. The operators'
    checks and runs keep their own deadline (``aggregator.web.operator.work``)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.seconds = settings.request_deadline_s
        self.operator_seconds = settings.operator_deadline_s + 5.0

    def deadline(self, path: str) -> float:
        if path.startswith(OPERATOR_PREFIX) and path.endswith(("/check", "/run")):
            return self.operator_seconds
        return self.seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(
                self.app(scope, receive, watched), self.deadline(scope.get("path", ""))
            )
        except TimeoutError:
            if not started:
                await _answer(send, 504, "the request took longer than its deadline", {})
