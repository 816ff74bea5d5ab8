"""Operators' checks and runs: in their own bounded thread pool, never in the threads that
serve the public pages, a few at a time per key and in all, each within a total deadline."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException

from aggregator.settings import Settings

T = TypeVar("T")


class OperatorWork:
    """Slots for slow operator work. Example::

    work = OperatorWork(settings)
    report = await work.run(key_hash, runtime.check, registration)   # 429 when no slot is free
    """

    def __init__(self, settings: Settings) -> None:
        self.per_key = max(1, settings.operator_max_per_key)
        self.total = max(1, settings.operator_max_total)
        self.deadline = settings.operator_deadline_s
        self._pool = ThreadPoolExecutor(max_workers=self.total, thread_name_prefix="operator")
        self._lock = threading.Lock()
        self._by_key: Counter[str] = Counter()
        self._in_flight = 0

    def _take(self, key: str) -> None:
        with self._lock:
            if self._by_key[key] >= self.per_key:
                raise _busy(f"this API key already has {self.per_key} checks or runs in flight")
            if self._in_flight >= self.total:
                raise _busy("the service is running as many operator checks and runs as it may")
            self._by_key[key] += 1
            self._in_flight += 1

    def _release(self, key: str) -> None:
        with self._lock:
            self._by_key[key] -= 1
            if self._by_key[key] <= 0:
                del self._by_key[key]
            self._in_flight -= 1

    async def run(self, key: str, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in the pool; the slot is held until it ends, even past the deadline
        (then the caller gets 504 and the work finishes in the background)."""
        self._take(key)
        try:
            future: Future[T] = self._pool.submit(work, *args)
        except BaseException:
            self._release(key)
            raise
        future.add_done_callback(lambda _: self._release(key))
        try:
            waiting = asyncio.shield(asyncio.wrap_future(future))
            return await asyncio.wait_for(waiting, self.deadline)
        except TimeoutError:
            raise HTTPException(
                504,
                detail=f"not finished within {self.deadline:g} s; it goes on in the background: "
                "see the connector's runs",
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _busy(message: str) -> HTTPException:
    return HTTPException(429, detail=f"{message}: try again later", headers={"Retry-After": "5"})
