"""Kind ``schema_org`` against generated sites on loopback: the standard suite, incremental runs
with sitemap ``lastmod``, robots.txt, the SSRF guard on sitemap entries and redirects, check()."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import RequestTarget, serve_routes

import connectors.schema_org.connector  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

SITE = Path(__file__).parent / "connector_fixtures" / "schema_org" / "site"
TYPES = {".xml": "application/xml", ".txt": "text/plain", ".html": "text/html; charset=utf-8"}
FAST = {"politeness_delay_s": 0, "concurrency_per_host": 1}


def site_routes(directory: Path = SITE, **extra: Any) -> dict[str, Any]:
    """Every file of a fixture site as a route; ``{base}`` in it becomes the server's URL."""

    def serve(body: str, content_type: str) -> Callable[[RequestTarget], Any]:
        def route(target: RequestTarget) -> tuple[int, dict[str, str], str]:
            base = f"http://{target.headers['Host']}"
            return 200, {"Content-Type": content_type}, body.replace("{base}", base)

        return route

    routes: dict[str, Any] = {
        "/" + path.relative_to(directory).as_posix(): serve(
            path.read_text("utf-8"), TYPES[path.suffix]
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    routes.update(extra)
    return routes


def sitemap(*entries: tuple[str, str | None]) -> Callable[[RequestTarget], Any]:
    """A sitemap route listing ``(path or absolute URL, lastmod)`` entries."""

    def route(target: RequestTarget) -> tuple[int, dict[str, str], str]:
        base = f"http://{target.headers['Host']}"
        urls = "".join(
            f"<url><loc>{loc if '://' in loc else base + loc}</loc>"
            + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
            + "</url>"
            for loc, lastmod in entries
        )
        xmlns = "http://www.sitemaps.org/schemas/sitemap/0.9"
        return 200, {"Content-Type": "application/xml"}, f'<urlset xmlns="{xmlns}">{urls}</urlset>'

    return route


def page(jsonld: str) -> tuple[int, dict[str, str], str]:
    body = f'<html><head><script type="application/ld+json">{jsonld}</script></head></html>'
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


BAKERY = page('{"@type": "Bakery", "name": "Fournil de la Daurade", "telephone": "05 61 00 00 09"}')
CROISSANT = page('{"@type": "Product", "name": "Croissant", "offers": {"price": "1.10"}}')


class TestSchemaOrgKind(ConnectorSuite):
    kind = "schema_org"

    def feed(self) -> dict[str, Any]:
        return site_routes()

    def registration(self, base_url: str) -> dict[str, Any]:
        return {
            "platform": "suite",
            "kind": "schema_org",
            "url": f"{base_url}/sitemap.xml",
            "options": FAST,
        }

    def broken_feed(self) -> dict[str, Any]:
        return {"/sitemap.xml": (500, {}, "database down")}


@pytest.fixture
def context() -> Iterator[ReadContext]:
    with FeedClient(allowed_hosts={"127.0.0.1:*"}, timeout_s=2) as http:
        yield ReadContext(http=http)


def registration(url: str, **options: Any) -> ConnectorRegistration:
    return ConnectorRegistration(
        platform="tousoccitariens", kind="schema_org", url=url, options=FAST | options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:
    return list(get_kind("schema_org").read(reg, dict(state or {}), context))


def records(emitted: list[Emitted]) -> list[ShopRecord | OfferRecord]:
    return [e.record for e in emitted if isinstance(e, Item)]


def rejections(emitted: list[Emitted]) -> list[Rejection]:
    return [e for e in emitted if isinstance(e, Rejection)]


def paths(base: Any) -> list[str]:
    return [str(target) for target in base.requests]


def test_sitemap_index_crawl_extracts_every_syntax(context: ReadContext) -> None:
    with serve_routes(site_routes()) as base:
        emitted = read(registration(f"{base}/sitemap.xml"), context)
    found = {
        r.source_id.removeprefix(base): r for r in records(emitted) if isinstance(r, ShopRecord)
    }
    found |= {r.source_id.removeprefix(base) + " offer": r for r in records(emitted)
              if isinstance(r, OfferRecord)}  # fmt: skip
    fournil = found["/boutiques/fournil-des-carmes.html"]
    assert isinstance(fournil, ShopRecord)
    assert (fournil.phone, fournil.email) == ("05 61 00 00 01", "contact@fournil-carmes.example")
    assert fournil.opening_hours == "Tu-Sa 07:00-19:30; Su 07:30-13:00"
    assert (fournil.lat, fournil.siret, fournil.category) == (43.5975, "12345678900012", "Bakery")
    baguette = found["/boutiques/fournil-des-carmes.html#1 offer"]
    assert isinstance(baguette, OfferRecord)
    assert (baguette.price, baguette.shop_source_id) == (1.3, fournil.source_id)
    assert found["/boutiques/librairie-du-taur.html"].lat == 43.6069  # type: ignore[union-attr]
    fromagerie = found["/boutiques/fromagerie-saint-cyprien.html"]
    assert (fromagerie.lat, fromagerie.opening_hours) == (43.5981, "Tu,We 09:00-19:00")  # type: ignore[union-attr]
    two = [found[f"/boutiques/marche-du-lauragais.html#{n}"] for n in (1, 2)]
    assert [s.name for s in two] == ["Ferme de l'Oustal", "Boucherie du Canal"]  # type: ignore[union-attr]
    tomme = found["/boutiques/fromagerie-saint-cyprien.html offer"]
    assert tomme.shop_source_id == fromagerie.source_id  # type: ignore[union-attr]
    saucisse = found["/produits/saucisse.html offer"]  # canonical URL, not the sitemap's ?ref=
    assert (saucisse.price, saucisse.availability) == (12.5, "in_stock")  # type: ignore[union-attr]
    assert found["/produits/violettes.html offer"].price == 5.9  # type: ignore[union-attr]
    broken = rejections(emitted)
    assert [r.locator.removeprefix(base) for r in broken] == ["/boutiques/marche-du-lauragais.html"]
    assert "JSON-LD block 2 is not valid JSON" in broken[0].reason
    assert emitted[-1] == Checkpoint(state=emitted[-1].state, complete=True)  # type: ignore[union-attr]


def test_incremental_runs_skip_pages_whose_lastmod_did_not_change(context: ReadContext) -> None:
    lastmod = {"/boutique.html": "2024-05-01"}
    routes = {
        "/sitemap.xml": lambda t: sitemap(*lastmod.items(), ("/croissant.html", "2024-05-01"))(t),
        "/boutique.html": BAKERY,
        "/croissant.html": CROISSANT,
    }
    with serve_routes(routes) as base:
        reg = registration(f"{base}/sitemap.xml", full_refresh_every=3)
        first = read(reg, context)
        state = first[-1].state  # type: ignore[union-attr]
        assert first[-1].complete and state["runs_since_full"] == 0  # type: ignore[union-attr]
        croissant = [r for r in records(first) if isinstance(r, OfferRecord)]
        assert croissant[0].shop_source_id == f"{base}/boutique.html"  # the site's only business
        base.requests.clear()
        second = read(reg, context, state)
        assert records(second) == [] and not second[-1].complete  # type: ignore[union-attr]
        assert "/boutique.html" not in paths(base)
        lastmod["/boutique.html"] = "2024-05-02"
        base.requests.clear()
        third = read(reg, context, second[-1].state)  # type: ignore[union-attr]
        assert [r.source_id for r in records(third)] == [f"{base}/boutique.html"]
        assert "/croissant.html" not in paths(base)
        assert third[-1].state["runs_since_full"] == 2  # type: ignore[union-attr]
        fourth = read(reg, context, third[-1].state)  # type: ignore[union-attr]
        assert len(records(fourth)) == 2 and fourth[-1].complete  # type: ignore[union-attr]


def test_a_complete_crawl_marks_removed_pages_gone(tmp_path: Path, context: ReadContext) -> None:
    entries = [("/boutique.html", "2024-05-01"), ("/croissant.html", "2024-05-01")]
    routes = {
        "/sitemap.xml": lambda t: sitemap(*entries)(t),
        "/boutique.html": BAKERY,
        "/croissant.html": CROISSANT,
    }
    settings = Settings(data_dir=tmp_path, allow_hosts="127.0.0.1:*", truncation_ratio=0.1)
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        with serve_routes(routes) as base:
            reg = registration(f"{base}/sitemap.xml", full_refresh_every=1)
            store.save_connector(reg, origin="api")
            assert run_connector(store, reg, context, settings).counts.new == 2
            entries.pop()
            run = run_connector(store, reg, context, settings)
        assert (run.status, run.counts.gone) == ("ok", 1), run.errors
    finally:
        store.dispose()


def test_pages_failing_with_500_fail_the_run_and_keep_the_state(
    tmp_path: Path, context: ReadContext
) -> None:
    routes = site_routes()
    settings = Settings(data_dir=tmp_path, allow_hosts="127.0.0.1:*")
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        with serve_routes(routes) as base:
            reg = registration(f"{base}/sitemap.xml")
            cid = store.save_connector(reg, origin="api")
            assert run_connector(store, reg, context, settings).status == "ok"
            state, live = store.get_state(cid), store.count_raw(cid)
            for path in [p for p in routes if p.endswith(".html")]:
                routes[path] = (500, {}, "boom")
            failed = run_connector(store, reg, context, settings)
        assert failed.status == "failed" and failed.counts.gone == 0
        assert "pages could not be read" in failed.errors[0] and "answered 500" in failed.errors[0]
        assert store.get_state(cid) == state and store.count_raw(cid) == live
    finally:
        store.dispose()


def test_crawls_twice_in_one_process_and_checks_a_sample(context: ReadContext) -> None:
    with serve_routes(site_routes()) as base:
        reg = registration(f"{base}/sitemap.xml")
        assert records(read(reg, context)) == records(read(reg, context))
        base.requests.clear()
        report = get_kind("schema_org").check(reg, context, limit=2)
    assert report.ok and 1 <= len(report.records) <= 2, report.problems
    pages = [p for p in paths(base) if p.endswith(".html") or "?" in p]
    assert len(pages) <= 2, pages


def test_robots_txt_is_obeyed(context: ReadContext) -> None:
    routes = {
        "/robots.txt": (200, {}, "User-agent: *\nDisallow: /prive/\n"),
        "/sitemap.xml": sitemap(("/boutique.html", None), ("/prive/boutique.html", None)),
        "/boutique.html": BAKERY,
        "/prive/boutique.html": BAKERY,
    }
    with serve_routes(routes) as base:
        emitted = read(registration(f"{base}/sitemap.xml"), context)
    assert "/prive/boutique.html" not in paths(base)
    refused = rejections(emitted)
    assert [r.locator for r in refused] == [f"{base}/prive/boutique.html"]
    assert "robots.txt" in refused[0].reason
    assert [r.source_id for r in records(emitted)] == [f"{base}/boutique.html"]
    assert not emitted[-1].complete  # type: ignore[union-attr]


def test_guard_refuses_sitemap_entries_and_redirects_to_other_addresses(
    context: ReadContext,
) -> None:
    with serve_routes({}) as other:  # reachable only as "localhost", which is not allowed
        port = other.split(":")[-1]
        routes = {
            "/sitemap.xml": sitemap(
                *[(f"/boutique-{n}.html", None) for n in range(4)],
                (f"http://localhost:{port}/boutique.html", None),
                ("http://169.254.169.254/latest/meta-data/", None),
                ("/vers-ailleurs.html", None),
            ),
            **{f"/boutique-{n}.html": BAKERY for n in range(4)},
            "/vers-ailleurs.html": (302, {"Location": f"http://localhost:{port}/secret"}, ""),
        }
        with serve_routes(routes) as base:
            emitted = read(registration(f"{base}/sitemap.xml"), context)
    assert other.requests == []  # refused before connecting: not even robots.txt
    reasons = {r.locator: r.reason for r in rejections(emitted)}
    assert "loopback" in reasons[f"http://localhost:{port}/boutique.html"]
    assert "link-local" in reasons["http://169.254.169.254/latest/meta-data/"]
    assert "loopback" in reasons[f"{base}/vers-ailleurs.html"]
    assert len(records(emitted)) == 4


@pytest.mark.parametrize("url", ["http://169.254.169.254/sitemap.xml", "http://10.0.0.7/"])
def test_a_guarded_registration_url_is_refused_before_crawling(
    url: str, context: ReadContext
) -> None:
    with pytest.raises(ConnectorError, match="refused .*(link-local|private)"):
        read(registration(url), context)
    report = get_kind("schema_org").check(registration(url), context)
    assert not report.ok and "refused" in report.problems[0]


def test_loopback_needs_the_allow_list() -> None:
    refused = pytest.raises(ConnectorError, match="loopback")
    with serve_routes({"/sitemap.xml": sitemap()}) as base, FeedClient() as http, refused:
        read(registration(f"{base}/sitemap.xml"), ReadContext(http=http))
    assert base.requests == []


def test_start_pages_follow_same_site_links_up_to_max_pages(context: ReadContext) -> None:
    index = '<a href="/a.html">a</a> <a href="/b.html">b</a> <a href="http://localhost/x">x</a>'
    routes = {
        "/": (200, {"Content-Type": "text/html"}, f"<html><body>{index}</body></html>"),
        "/a.html": BAKERY,
        "/b.html": CROISSANT,
    }
    with serve_routes(routes) as base:
        full = read(registration(f"{base}/"), context)
        cut = read(registration(f"{base}/", max_pages=2), context)
    assert len(records(full)) == 2 and full[-1].complete  # type: ignore[union-attr]
    assert len(records(cut)) == 1 and not cut[-1].complete  # type: ignore[union-attr]


def test_products_go_to_the_configured_shop_and_slow_pages_are_refused(
    context: ReadContext,
) -> None:
    def slow(target: RequestTarget) -> Any:
        time.sleep(3)
        return CROISSANT

    routes = {
        "/sitemap.xml": sitemap(("/croissant.html", None), ("/lent.html", None), ("/x.png", None)),
        "/croissant.html": CROISSANT,
        "/lent.html": slow,
        "/x.png": (200, {"Content-Type": "image/png"}, b"\x89PNG"),
    }
    with serve_routes(routes) as base:
        emitted = read(registration(f"{base}/sitemap.xml", shop="fournil-1"), context)
    offer = records(emitted)[0]
    assert isinstance(offer, OfferRecord) and offer.shop_source_id == "fournil-1"
    assert [(r.locator, r.reason) for r in rejections(emitted)] == [
        (f"{base}/lent.html", "page not read: no answer within 2 s")
    ]


def test_sitemap_that_is_not_a_sitemap_fails_clearly(context: ReadContext) -> None:
    not_xml = {"/sitemap.xml": (200, {}, "<html><body>oops</body></html>")}
    with serve_routes(not_xml) as base, pytest.raises(ConnectorError, match="is not a sitemap"):
        read(registration(f"{base}/sitemap.xml"), context)


def test_options_and_mapping_are_validated(context: ReadContext) -> None:
    with pytest.raises(ConnectorError, match="option 'politeness'"):
        read(registration("http://127.0.0.1:9/sitemap.xml", politeness=1), context)
    reg = registration("http://127.0.0.1:9/sitemap.xml").model_copy(
        update={"mapping": {"name": "n"}}
    )
    with pytest.raises(ConnectorError, match="not a mapping"):
        read(reg, context)


def test_user_agent_and_body_size_come_from_the_deployment() -> None:
    routes = {
        "/sitemap.xml": sitemap(("/boutique.html", None), ("/enorme.html", None)),
        "/boutique.html": BAKERY,
        "/enorme.html": (200, {"Content-Type": "text/html"}, "<html>" + "x" * 50_000),
    }
    client = FeedClient(allowed_hosts={"127.0.0.1:*"}, user_agent="buy-local-test/1.0 (+contact)")
    client.max_body_bytes = 10_000
    with serve_routes(routes) as base, client:
        emitted = read(registration(f"{base}/sitemap.xml"), ReadContext(http=client))
    assert {t.headers["User-Agent"] for t in base.requests} == {"buy-local-test/1.0 (+contact)"}
    (refused,) = rejections(emitted)
    assert refused.locator == f"{base}/enorme.html" and "10000" in refused.reason


def test_a_crawler_that_cannot_start_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, context: ReadContext
) -> None:
    monkeypatch.setattr("connectors.schema_org.crawl.MODULE", "connectors.no_such_crawler")
    with serve_routes(site_routes()) as base, pytest.raises(ConnectorError) as error:
        read(registration(f"{base}/sitemap.xml"), context)
    assert "the crawler stopped (exit 1)" in str(error.value)
    assert "No module named connectors.no_such_crawler" in str(error.value)


def test_guard_components_refuse_other_schemes_and_rebound_addresses() -> None:
    from scrapy import Request
    from twisted.internet.error import DNSLookupError

    from connectors.schema_org.crawl import AddressGuard, GuardedResolver, Refused

    guard = AddressGuard(["127.0.0.1:*"])
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "http://localhost:1/", "http://[::1]/"):
        with pytest.raises(Refused, match="refused"):
            guard.process_request(Request(url))
    assert guard.process_request(Request("http://127.0.0.1:1/")) is None
    resolver = GuardedResolver.__new__(GuardedResolver)  # the vetting alone, no reactor
    resolver.allowed_hosts = frozenset({"demo.localhost"})
    assert resolver._vet("127.0.0.1", "demo.localhost") == "127.0.0.1"
    with pytest.raises(DNSLookupError, match="rebind.example: address 10.1.2.3 is private"):
        resolver._vet("10.1.2.3", "rebind.example")


def test_an_allowed_host_name_is_crawled_through_the_guarded_resolver() -> None:
    with serve_routes(
        {"/sitemap.xml": sitemap(("/boutique.html", None)), "/boutique.html": BAKERY}
    ) as base:
        url = base.replace("127.0.0.1", "localhost")
        with FeedClient(allowed_hosts={"localhost:*"}) as http:
            emitted = read(registration(f"{url}/sitemap.xml"), ReadContext(http=http))
    assert [r.source_id for r in records(emitted)] == [f"{url}/boutique.html"]


def test_every_shop_links_to_its_page_on_the_platform(context: ReadContext) -> None:
    """The listing URL: the shop's own ``url`` when it stays on the platform's host, else the
    page it was read from (its canonical URL); a ``url`` elsewhere is the shop's website, and
    an address other than http(s) is never a link."""
    elsewhere = page('{"@type": "Bakery", "name": "Fournil", "url": "https://fournil.example/"}')
    canonical = (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        '<html><head><link rel="canonical" href="/producteurs/ferme-du-lac">'
        '<script type="application/ld+json">{"@type": "Farm", "name": "Ferme du Lac",'
        ' "url": "javascript:alert(1)"}</script></head></html>',
    )

    def own(target: RequestTarget) -> tuple[int, dict[str, str], str]:
        base = f"http://{target.headers['Host']}"
        return page(f'{{"@type": "Store", "name": "Épicerie", "url": "{base}/e/12#top"}}')

    routes = {
        "/sitemap.xml": sitemap(("/p/fournil", None), ("/p/lac?ref=x", None), ("/p/e", None)),
        "/p/fournil": elsewhere,
        "/p/lac": canonical,
        "/p/e": own,
    }
    with serve_routes(routes) as base:
        shops = {
            r.name: r
            for r in records(read(registration(f"{base}/sitemap.xml"), context))
            if isinstance(r, ShopRecord)
        }
    assert shops["Fournil"].url == f"{base}/p/fournil"
    assert shops["Fournil"].website == "https://fournil.example/"
    assert shops["Ferme du Lac"].url == f"{base}/producteurs/ferme-du-lac"
    assert shops["Épicerie"].url == f"{base}/e/12"
