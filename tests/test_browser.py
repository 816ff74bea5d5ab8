"""The search page in Debian's Chromium driven by Playwright: type, search, follow a shop."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms, demo_registrations
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.webserver import serve_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("browser")
    runtime = Runtime(
        Settings(data_dir=root / "var", config_dir=root / "config", allow_hosts="127.0.0.1:*")
    )
    with DemoPlatforms(generate_catalogue(n_shops=150), port=0) as platforms:
        for registration in demo_registrations(platforms.base_url):
            runtime.store.save_connector(registration, origin="cli")
        runtime.run_all()
        with serve_app(runtime) as base_url:
            yield base_url, platforms.base_url
    runtime.close()


def test_search_a_typo_and_open_a_merged_shop(browser, site) -> None:  # type: ignore[no-untyped-def]
    base_url, platforms_url = site
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(base_url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("input[name=q]", "boulangrie")
    page.click("button[type=submit]")
    page.wait_for_selector("li.hit")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-boulangrie.png"), full_page=True)
    print(f"screenshots in {ARTIFACTS}")

    hits = page.locator("li.hit")
    assert hits.count() > 0
    merged = page.locator("li.hit", has=page.locator("a.listing[data-platform=clickn_co]")).filter(
        has=page.locator("a.listing[data-platform=toutoulouse]")
    )
    assert merged.count() > 0, "no merged shop on the first page"
    merged.first.locator("h3 a").click()
    page.wait_for_selector("article.shop")
    platforms = page.locator("ul.listings a.listing")
    assert platforms.count() >= 2
    assert all(
        (platforms.nth(i).get_attribute("href") or "").startswith(platforms_url)
        for i in range(platforms.count())
    )
    page.screenshot(path=str(ARTIFACTS / "shop.png"), full_page=True)

    # Privacy by construction: no cookie, and nothing requested from another origin.
    assert context.cookies() == []
    assert all(url.startswith(base_url) for url in requested), requested
    context.close()
