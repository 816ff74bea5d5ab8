"""Privacy in production: ``aggregator serve`` logs no query nor client address; headers, French
error pages, API docs from this origin."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.public_site import CLIENT, Site, served_demo
from tests.webserver import serve_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_demo(tmp_path_factory.mktemp("privacy"), n_shops=60) as site:
        yield site


def test_serve_logs_that_a_search_happened_never_what_nor_who(site: Site) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    for path in ("/", "/api/search"):
        response = httpx.get(site.base_url + path, params={"q": marker, "lat": 43.61, "lon": 1.44})
        assert response.status_code == 200
    time.sleep(0.5)  # the child process flushes its lines
    log = site.log_text()
    assert "search (page /):" in log and "search (api /api/search):" in log, log
    assert marker not in log and CLIENT not in log, log
    assert "43.61" not in log and "GET /" not in log


def test_headers_and_no_cookie(site: Site) -> None:
    response = httpx.get(site.base_url + "/", params={"q": "pain"})
    policy = response.headers["permissions-policy"]
    assert "geolocation=(self)" in policy
    assert all(f"{p}=()" in policy for p in ("camera", "microphone", "browsing-topics"))
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in response.headers
    assert response.headers["content-encoding"] == "gzip"
    anchors = re.findall(r"<a [^>]*href=\"https?://[^>]*>", response.text)
    assert anchors and all('rel="nofollow noreferrer noopener"' in a for a in anchors)


def test_errors_are_french_pages_and_json_for_the_api(site: Site) -> None:
    page = httpx.get(site.base_url + "/boutique/e000000000000")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in page.text and 'lang="fr"' in page.text
    assert httpx.get(site.base_url + "/nulle-part").status_code == 404
    bad = httpx.post(site.base_url + "/boutique/e000000000000/signaler", data={"message": "x"})
    assert bad.status_code == 404 and "Page introuvable" in bad.text
    api = httpx.get(site.base_url + "/api/shops/e000000000000")
    assert api.status_code == 404 and api.json()["detail"]


def test_api_docs_load_only_this_origin(site: Site) -> None:
    for path in ("/docs", "/redoc"):
        html = httpx.get(site.base_url + path).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), sources
        for source in sources:
            assert httpx.get(site.base_url + source).status_code == 200, source


def test_static_files_are_vendored(site: Site) -> None:
    vendor = Path(__file__).resolve().parents[1] / "aggregator/web/public/static/vendor"
    assert (vendor / "swagger-ui/swagger-ui-bundle.js").stat().st_size > 100_000
    assert (vendor / "redoc/redoc.standalone.js").stat().st_size > 100_000


def test_a_crash_is_a_french_page_with_the_headers_and_json_for_the_api(
    tmp_path: Path,
) -> None:
    from aggregator.runtime import Runtime
    from aggregator.settings import Settings

    class Broken:
        in_process = True

        def search(self, query: object) -> None:
            raise RuntimeError("index unreadable")

        def close(self) -> None:
            pass

    runtime = Runtime(Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config"))
    runtime.__dict__["backend"] = Broken()  # the cached property, replaced
    with serve_app(runtime) as base, httpx.Client(base_url=base) as client:
        page = client.get("/", params={"q": "pain"})
        assert page.status_code == 500 and "Erreur du serveur" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "geolocation=(self)" in page.headers["permissions-policy"]
        api = client.get("/api/search", params={"q": "pain"})
        assert api.status_code == 500 and api.json() == {"detail": "internal error"}
    runtime.close()
