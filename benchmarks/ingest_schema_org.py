"""Pages per second of a ``schema_org`` crawl: a generated site of N pages (half shop pages in
JSON-LD, half product pages in microdata, a sitemap index) served on loopback, crawled with
politeness off. Also times the extraction alone (no network, no Scrapy).

    .venv/bin/python benchmarks/ingest_schema_org.py --pages 2000 --concurrency 8

The last line printed is one JSON object: pages, seconds, pages_per_s.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aggregator.models import ConnectorRegistration
from connectors.base import Checkpoint, Item, ReadContext
from connectors.http import FeedClient
from connectors.schema_org.connector import SchemaOrgKind
from connectors.schema_org.extract import extract_page

SHOP = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{name}</title>
<script type="application/ld+json">{jsonld}</script></head>
<body><h1>{name}</h1><p>{filler}</p><a href="/produits/{n}.html">Produits</a></body></html>"""
PRODUCT = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{name}</title></head>
<body><div itemscope itemtype="http://schema.org/Product"><h1 itemprop="name">{name}</h1>
<p itemprop="description">{filler}</p>
<div itemprop="offers" itemscope itemtype="http://schema.org/Offer">
<meta itemprop="priceCurrency" content="EUR"><span itemprop="price">{price}</span> €
<link itemprop="availability" href="http://schema.org/InStock"></div></div></body></html>"""
FILLER = "Produits du terroir, circuits courts, retrait en boutique. " * 20


def generate(root: Path, pages: int, base: str) -> None:
    """``pages`` pages under ``root`` and a sitemap index of two sitemaps listing them."""
    (root / "boutiques").mkdir()
    (root / "produits").mkdir()
    shops, products = [], []
    for n in range(pages):
        if n % 2 == 0:
            jsonld = json.dumps({
                "@context": "https://schema.org", "@type": "Bakery", "name": f"Fournil {n}",
                "address": {"@type": "PostalAddress", "streetAddress": f"{n} rue du Taur",
                            "postalCode": "31000", "addressLocality": "Toulouse",
                            "telephone": f"05 61 {n % 100:02d} {n // 100 % 100:02d} 00"},
                "geo": {"@type": "GeoCoordinates", "latitude": 43.6 + n / 1e5, "longitude": 1.44},
                "openingHours": "Tu-Sa 07H00-19H30",
            })  # fmt: skip
            page = SHOP.format(name=f"Fournil {n}", jsonld=jsonld, filler=FILLER, n=n + 1)
            (root / "boutiques" / f"{n}.html").write_text(page, "utf-8")
            shops.append(f"{base}/boutiques/{n}.html")
        else:
            page = PRODUCT.format(
                name=f"Pain {n}", filler=FILLER, price=f"{1 + n % 9},{n % 100:02d}"
            )
            (root / "produits" / f"{n}.html").write_text(page, "utf-8")
            products.append(f"{base}/produits/{n}.html")
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    for name, urls in (("boutiques", shops), ("produits", products)):
        entries = "".join(f"<url><loc>{u}</loc><lastmod>2024-05-01</lastmod></url>" for u in urls)
        (root / f"sitemap-{name}.xml").write_text(f"<urlset {ns}>{entries}</urlset>", "utf-8")
    index = "".join(
        f"<sitemap><loc>{base}/sitemap-{n}.xml</loc></sitemap>" for n in ("boutiques", "produits")
    )
    (root / "sitemap.xml").write_text(f"<sitemapindex {ns}>{index}</sitemapindex>", "utf-8")


class _Quiet(SimpleHTTPRequestHandler):
    """A static server closer to a production one: keep-alive, and no Nagle stalls (its headers
    and body go in separate writes, which delayed ACKs would hold ~40 ms each)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrency_per_host")
    parser.add_argument("--no-rdfa", action="store_true", help="read JSON-LD and microdata only")
    args = parser.parse_args()
    syntaxes = ["json-ld", "microdata"] + ([] if args.no_rdfa else ["rdfa"])
    with tempfile.TemporaryDirectory() as tmp, FeedClient(allowed_hosts={"127.0.0.1:*"}) as http:
        root = Path(tmp)
        with serving(root) as base:
            generate(root, args.pages, base)
            sample = sorted(root.glob("*/*.html"))[:200]
            started = time.perf_counter()
            for path in sample:
                extract_page(path.read_bytes(), f"{base}/{path.name}", syntaxes=syntaxes)
            alone = len(sample) / (time.perf_counter() - started)
            print(f"extraction alone ({', '.join(syntaxes)}): {alone:,.0f} pages/s on one core")
            options = {
                "politeness_delay_s": 0,
                "concurrency_per_host": args.concurrency,
                "max_pages": args.pages,
                "syntaxes": syntaxes,
            }
            registration = ConnectorRegistration(
                platform="bench", kind="schema_org", url=f"{base}/sitemap.xml", options=options
            )
            started = time.perf_counter()
            records = 0
            for emitted in SchemaOrgKind().read(registration, {}, ReadContext(http=http)):
                records += isinstance(emitted, Item)
                complete = isinstance(emitted, Checkpoint) and emitted.complete
            seconds = time.perf_counter() - started
    print(f"crawl: {args.pages} pages, {records} records, complete={complete}, {seconds:.2f} s")
    print(
        f"(includes ~1-2 s to start the child process and Scrapy; concurrency {args.concurrency})"
    )
    print(json.dumps({"pages": args.pages, "seconds": round(seconds, 3),
                      "pages_per_s": round(args.pages / seconds, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
