"""The API and the page over real HTTP: search, shop records with provenance, escaping."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms, demo_registrations
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.webserver import serve_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web")
    runtime = Runtime(
        Settings(data_dir=root / "var", config_dir=root / "config", allow_hosts="127.0.0.1:*")
    )
    with DemoPlatforms(generate_catalogue(n_shops=150), port=0) as platforms:
        for registration in demo_registrations(platforms.base_url):
            runtime.store.save_connector(registration, origin="cli")
        runtime.run_all()
        with serve_app(runtime) as base_url:
            yield base_url
    runtime.close()


def test_healthz(site: str) -> None:
    body = httpx.get(f"{site}/healthz").json()
    assert body["status"] == "ok" and body["indexed"] > 0


def test_search_api_and_shop_record(site: str) -> None:
    answer = httpx.get(f"{site}/api/search", params={"q": "boulangerie"}).json()
    assert answer["total"] > 0 and set(answer) >= {"hits", "facets", "total"}
    for city, count in list(answer["facets"]["city"].items())[:3]:
        narrowed = httpx.get(f"{site}/api/search", params={"q": "boulangerie", "city": city})
        assert narrowed.json()["total"] == count
    merged = next(h for h in answer["hits"] if len(h["platforms"]) > 1)
    shop = httpx.get(f"{site}/api/shops/{merged['entity_id']}").json()
    assert shop["entity_id"] == merged["entity_id"]
    assert set(shop["platforms"]) == set(merged["platforms"])
    assert shop["golden"]["name"]["platform"] in shop["platforms"]
    assert len(shop["members"]) == len(shop["listings"]) >= 2
    assert all(listing["url"] for listing in shop["listings"])


def test_unknown_shop_is_404(site: str) -> None:
    response = httpx.get(f"{site}/api/shops/e000000000000")
    assert response.status_code == 404


def test_page_escapes_the_query_and_sets_no_cookie(site: str) -> None:
    response = httpx.get(site + "/", params={"q": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "set-cookie" not in response.headers
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_openapi_docs(site: str) -> None:
    assert httpx.get(f"{site}/docs").status_code == 200
    paths = httpx.get(f"{site}/openapi.json").json()["paths"]
    assert {"/api/search", "/api/shops/{entity_id}", "/healthz"} <= set(paths)


def test_page_links_the_next_and_previous_pages(site: str) -> None:
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.pages: dict[str, str] = {}
            self.shops: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "a" and a.get("rel") in ("next", "prev"):
                self.pages[str(a["rel"])] = str(a["href"])
            if tag == "li" and a.get("data-entity-id"):
                self.shops.append(str(a["data-entity-id"]))

    def read(url: str) -> Links:
        links = Links()
        links.feed(httpx.get(url).text)
        return links

    answer = httpx.get(f"{site}/api/search", params={"city": "Toulouse", "per_page": 1}).json()
    assert answer["total"] + answer["offers_total"] > 40, "the demo should give several pages"
    first = read(f"{site}/?ville=Toulouse")
    assert "prev" not in first.pages and first.pages["next"] == "/?ville=Toulouse&page=2"
    second = read(site + first.pages["next"])
    assert second.pages == {"prev": "/?ville=Toulouse", "next": "/?ville=Toulouse&page=3"}
    assert second.shops and not set(first.shops) & set(second.shops)
