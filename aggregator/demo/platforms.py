"""The demo platforms on a loopback HTTP server, and the connector registrations that read them.

Routes (``DemoPlatforms.base_url`` + path):

- ``GET /toutoulouse/api/v1/shops?page=N&per_page=M``: JSON ``{"data": [...], "meta": {...}}``;
  ``per_page`` defaults to 50, at most 100. The API is public; a client may send
  ``X-Api-Key: demo-toutoulouse-key`` (``TOUTOULOUSE_API_KEY``); a wrong key gets 401.
- ``GET /clickn_co/export.csv``: cp1252, ``;``-separated, CRLF; ``ETag`` and ``Last-Modified``
  honoured (``If-None-Match`` / ``If-Modified-Since`` give 304).
- ``GET <link>`` for every listing (``/toutoulouse/boutique/...``, ``/clickn_co/commerce/...``...):
  a small HTML page about the shop, every merchant value escaped.
- ``GET /healthz``; anything else is 404. Requests are not logged.

Example::

    with DemoPlatforms(generate_catalogue(120)) as demo:
        registrations = demo_registrations(demo.base_url)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aggregator.demo.data.profiles import (
    CLICKNCO_COLUMNS,
    CLICKNCO_MAPPING,
    PLATFORM_NAMES,
    PLATFORMS,
    TOUTOULOUSE_MAPPING,
)
from aggregator.demo.feeds import (
    DANS_MA_ZONE_PREFIX,
    GEOLOCAL31_PATH,
    TOUSOCCITARIENS_SITEMAP,
    dans_ma_zone_feed,
    geolocal31_geojson,
    more_registrations,
    tousoccitariens_jsonld,
    tousoccitariens_sitemap,
)
from aggregator.demo.generator import Catalogue
from aggregator.demo.variations import platform_listing
from aggregator.models import ConnectorRegistration

TOUTOULOUSE_API_KEY = "demo-toutoulouse-key"
#: The exports are dated from the platforms' launch, one hour later per update.
FIRST_EXPORT = datetime(2020, 11, 20, 8, 0, tzinfo=UTC)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the platform publishes it: without the generator's ``_`` bookkeeping."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def clickn_co_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CLICKNCO_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in CLICKNCO_COLUMNS])
    return buffer.getvalue().encode("cp1252", errors="replace")


def _published_fields(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in record.items():
        if isinstance(value, dict):
            yield from _published_fields(value, f"{prefix}{key}.")
        elif key != "products" and value not in (None, "", []):
            yield prefix + key, ", ".join(value) if isinstance(value, list) else str(value)


def _euros(price: Any) -> str:
    return f"{price:.2f} €".replace(".", ",") if isinstance(price, int | float) else ""


def listing_page(platform: str, record: dict[str, Any]) -> str:
    """The shop's page on the platform: what the platform publishes, every value escaped."""
    markup = tousoccitariens_jsonld(record) if platform == "tousoccitariens" else ""
    site = escape(PLATFORM_NAMES.get(platform, platform))
    name = escape(str(record.get("name") or record.get("enseigne")))
    fields = "".join(
        f"<dt>{escape(key)}</dt><dd>{'<br>'.join(map(escape, value.splitlines()))}</dd>"
        for key, value in _published_fields(record)
    )
    items = "".join(
        f"<li>{escape(str(p.get('name') or p.get('title')))} {_euros(p.get('price'))}</li>"
        for p in record.get("products", [])
    )
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{name} · {site}'
        f"</title>{markup}</head><body><p>{site}</p><h1>{name}</h1><dl>{fields}</dl><ul>{items}</ul>"
        "</body></html>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    demo: DemoPlatforms

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up are no news: keep stderr quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in two writes: without this, keep-alive clients wait 40 ms each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: one line per request would drown the test output."""

    def do_HEAD(self) -> None:
        self._head = True
        self._route()

    def do_GET(self) -> None:
        self._head = False
        self._route()

    def _route(self) -> None:
        demo, url = self.server.demo, urlsplit(self.path)
        if url.path == "/healthz":
            return self._send(200, b'{"status": "ok"}', "application/json")
        if url.path == "/toutoulouse/api/v1/shops" and "toutoulouse" in demo.listings:
            return self._shops(parse_qs(url.query))
        if url.path == "/clickn_co/export.csv" and "clickn_co" in demo.listings:
            return self._export()
        feed = demo.feeds.get(url.path)
        if feed is not None:
            return self._send(200, feed[1], feed[0])
        page = demo.pages.get(url.path.rstrip("/").lower())
        if page is not None:
            return self._send(200, listing_page(*page).encode(), "text/html; charset=utf-8")
        self._send(404, b"not found\n", "text/plain; charset=utf-8")

    def _shops(self, query: dict[str, list[str]]) -> None:
        key = self.headers.get("X-Api-Key")
        if key is not None and key != TOUTOULOUSE_API_KEY:
            return self._json(401, {"error": "invalid X-Api-Key"})
        try:
            page = int(query.get("page", ["1"])[0])
            per_page = min(int(query.get("per_page", ["50"])[0]), 100)
        except ValueError:
            return self._json(400, {"error": "page and per_page must be integers"})
        if page < 1 or per_page < 1:
            return self._json(400, {"error": "page and per_page start at 1"})
        records = self.server.demo.toutoulouse_records
        total = len(records)
        data = records[(page - 1) * per_page : page * per_page]
        pages = math.ceil(total / per_page)
        meta = {"page": page, "per_page": per_page, "total": total, "total_pages": pages}
        self._json(200, {"data": data, "meta": meta})

    def _export(self) -> None:
        demo = self.server.demo
        headers = {"ETag": demo.etag, "Last-Modified": format_datetime(demo.modified, usegmt=True)}
        if self._not_modified(demo.etag, demo.modified):
            return self._send(304, b"", None, headers)
        body = demo.clickn_co_body
        self._send(200, body, "text/csv; charset=windows-1252", headers)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            wanted = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
            return "*" in wanted or etag in wanted
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return modified <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if content_type and content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", "default-src 'none'")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
        self.end_headers()
        if not self._head and status != 304:
            self.wfile.write(body)


class DemoPlatforms:
    """The demo marketplaces of ``catalogue`` served from one loopback HTTP server (a thread)."""

    def __init__(
        self,
        catalogue: Catalogue,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 31,
        platforms: Iterable[str] = PLATFORMS,
    ) -> None:
        self.catalogue, self.seed = catalogue, seed
        self._server = _Server((host, port), _Handler)
        self._server.demo = self
        # Listening on every interface still means links through loopback.
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.base_url = f"http://{shown}:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._updates = 0
        #: Platform -> its records as ``platform_listing`` made them (with ``_true_id``).
        self.listings = {p: platform_listing(catalogue, p, seed, self.base_url) for p in platforms}
        self._publish()

    def _publish(self) -> None:
        self.toutoulouse_records = [public(r) for r in self.listings.get("toutoulouse", [])]
        self.clickn_co_body = clickn_co_csv(self.listings.get("clickn_co", []))
        self.etag = '"' + hashlib.sha256(self.clickn_co_body).hexdigest()[:20] + '"'
        self.modified = FIRST_EXPORT + timedelta(hours=self._updates)
        self.feeds = (
            {
                GEOLOCAL31_PATH: (
                    "application/geo+json",
                    geolocal31_geojson(public(r) for r in self.listings.get("geolocal31", [])),
                )
            }
            if "geolocal31" in self.listings
            else {}
        )
        if "tousoccitariens" in self.listings:
            self.feeds[TOUSOCCITARIENS_SITEMAP] = (
                "application/xml",
                tousoccitariens_sitemap(
                    self.listings["tousoccitariens"], self.modified.date().isoformat()
                ),
            )
        for r in self.listings.get("dans_ma_zone", []):
            path = f"{DANS_MA_ZONE_PREFIX}{str(r['source_id']).lower()}.xml"
            self.feeds[path] = ("application/rss+xml; charset=utf-8", dans_ma_zone_feed(r))
        prefix = len(self.base_url)
        self.pages = {
            str(r.get("url") or r.get("lien"))[prefix:].lower(): (platform, public(r))
            for platform, records in self.listings.items()
            for r in records
        }

    def update(self, platform: str, records: list[dict[str, Any]]) -> None:
        """Replace what a platform publishes (a shop leaves, a phone changes...) for later reads."""
        self.listings[platform] = records
        self._updates += 1
        self._publish()

    def registrations(self, schedule: str | None = None) -> list[ConnectorRegistration]:
        """Every connector that reads a platform this server publishes a feed for."""
        return demo_registrations(self.base_url, schedule) + more_registrations(
            self.base_url, self.listings, schedule
        )

    def start(self) -> DemoPlatforms:
        if self._thread is None:
            serve = self._server.serve_forever
            self._thread = threading.Thread(target=serve, args=(0.1,), daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> DemoPlatforms:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_registrations(base_url: str, schedule: str | None = None) -> list[ConnectorRegistration]:
    """The connector registrations that read the demo's Toutoulouse API and Click'n CO export."""
    base = base_url.rstrip("/")
    pagination = {"style": "page", "param": "page", "start": 1, "size_param": "per_page"}
    toutoulouse = ConnectorRegistration(
        platform="toutoulouse",
        kind="json_api",
        url=f"{base}/toutoulouse/api/v1/shops",
        name="Toutoulouse (démo)",
        schedule=schedule,
        options={
            "records_path": "data",
            "pagination": {**pagination, "size": 100},
            "offers_path": "products",
        },
        mapping=dict(TOUTOULOUSE_MAPPING),
    )
    clickn_co = ConnectorRegistration(
        platform="clickn_co",
        kind="csv",
        url=f"{base}/clickn_co/export.csv",
        name="Click'n CO (démo)",
        schedule=schedule,
        options={"delimiter": ";", "encoding": "cp1252"},
        mapping=dict(CLICKNCO_MAPPING),
    )
    return [toutoulouse, clickn_co]
