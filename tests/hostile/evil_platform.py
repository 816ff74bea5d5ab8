"""An "evil platform" on loopback: feeds that start good and then turn hostile, and the yardstick
every hostile case is judged by (what the store held before is still there, byte for byte).

Example::

    with EvilPlatform() as evil:
        evil.json_shops(good_shops(20))                 # a well-behaved feed...
        runner = evil.runner(store, context, settings)   # ...registered like an administrator
        assert runner().status == "ok"
        before = snapshot(store)
        evil.json_shops(good_shops(20, website="javascript:alert(1)"))   # ...turns hostile
        run = runner()
        assert snapshot(store) == before
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aggregator.models import ConnectorRegistration, Run
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from tests.loopback import BaseURL, RequestTarget, Response, serve_routes

JSON_MAPPING = {
    "source_id": "id",
    "name": "name",
    "city": "city",
    "description": "description",
    "website": "website",
    "lat": "lat",
    "lon": "lon",
}
CSV_MAPPING = {"source_id": "id", "name": "nom", "city": "ville"}


def good_shop(i: int, **overrides: Any) -> dict[str, Any]:
    """A shop as a careful platform publishes it."""
    shop = {
        "id": f"s{i}",
        "name": f"Boulangerie n°{i}",
        "city": "Toulouse",
        "description": "Pain au levain, viennoiseries",
        "website": f"https://boulangerie-{i}.example/",
        "lat": 43.6 + i / 1000,
        "lon": 1.44,
    }
    return shop | overrides


def good_shops(n: int) -> list[dict[str, Any]]:
    return [good_shop(i) for i in range(1, n + 1)]


def shops_csv(rows: list[tuple[str, str, str]]) -> bytes:
    """``id;nom;ville`` lines, UTF-8."""
    return ("id;nom;ville\n" + "".join(f"{a};{b};{c}\n" for a, b, c in rows)).encode()


def drip(body: bytes, every_s: float) -> Iterator[bytes]:
    """The body one byte at a time: each read gets data well within the read timeout."""
    for byte in body:
        time.sleep(every_s)
        yield bytes([byte])


def snapshot(store: Store) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Every stored record, live or gone, with everything a run may change about it."""
    return {
        (r.platform, r.record_type.value, r.source_id): (
            r.content_hash,
            json.dumps(r.record, sort_keys=True),
            json.dumps(r.payload, sort_keys=True),
            r.gone_at,
            r.last_changed,
        )
        for r in store.iter_raw(include_gone=True)
    }


@dataclass
class EvilPlatform:
    """A loopback server whose routes a test rewrites between runs."""

    routes: dict[str, Any] = field(default_factory=dict)
    base: BaseURL | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> EvilPlatform:
        self.base = self._stack.enter_context(serve_routes(self.routes))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def url(self) -> str:
        assert self.base is not None, "use the platform as a context manager"
        return str(self.base)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def serve(self, path: str, route: Response | Callable[[RequestTarget], Response]) -> str:
        self.routes[path] = route
        return self.url + path

    def json_shops(self, shops: Any, headers: dict[str, str] | None = None) -> str:
        body = json.dumps({"data": shops}, ensure_ascii=False, allow_nan=True)
        return self.serve(
            "/shops.json", (200, {"Content-Type": "application/json"} | (headers or {}), body)
        )

    def registration(self, path: str = "/shops.json", **fields: Any) -> ConnectorRegistration:
        kind = fields.pop("kind", "csv" if path.endswith(".csv") else "json_api")
        mapping = fields.pop("mapping", CSV_MAPPING if kind == "csv" else JSON_MAPPING)
        data = {"platform": "evil", "kind": kind, "url": self.url + path, "mapping": mapping}
        return ConnectorRegistration.model_validate(data | fields)

    def runner(
        self,
        store: Store,
        context: ReadContext,
        settings: Settings,
        path: str = "/shops.json",
        *,
        origin: str = "cli",
        **fields: Any,
    ) -> Runner:
        registration = self.registration(path, **fields)
        store.save_connector(registration, origin=origin)
        return Runner(store, context, settings, registration)


@dataclass
class Runner:
    """One registration run through the real pipeline, as ``aggregator run`` does."""

    store: Store
    context: ReadContext
    settings: Settings
    registration: ConnectorRegistration

    @property
    def cid(self) -> str:
        return self.registration.effective_id()

    def __call__(self, **settings: Any) -> Run:
        chosen = self.settings.model_copy(update=settings) if settings else self.settings
        return run_connector(self.store, self.registration, self.context, chosen)

    def quarantined(self, run: Run) -> list[str]:
        return [r.reason for r in self.store.list_quarantine(run.id or 0)]
