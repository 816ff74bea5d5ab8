"""The customers' pages in Debian's Chromium driven by Playwright, against ``aggregator serve``
on the demo catalogue with a fixed clock: search, chips, near me, interests, shop page, error
reports, accessibility (axe-core), phone widths, and what a whole session leaves behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aggregator.web.public.reports import MIN_FILL_S
from tests.public_site import CLIENT, Site, served_demo

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WIDTHS = {"desktop": 1280, "phone": 390}
#: Place de la Bourse, Toulouse: the fake position the browser is granted.
HERE = {"latitude": 43.60447, "longitude": 1.44425}
#: Every request of every page of the module, to check the origin at the end.
REQUESTS: list[str] = []

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    ARTIFACTS.mkdir(exist_ok=True)
    print(f"screenshots in {ARTIFACTS}")
    with served_demo(tmp_path_factory.mktemp("browser"), n_shops=150) as site:
        yield site


def open_context(browser: Any, width: int = 1280, **options: Any) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 500 else 900}, **options
    )
    context.on("request", lambda request: REQUESTS.append(request.url))
    return context


def shot(page: Any, name: str) -> None:
    """The whole page: the viewport stretched to it for the moment, since cards off screen
    are not painted (``content-visibility: auto``) and a full-page capture would show them
    blank."""
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(height, 16_000)})
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def wait_for_summary(page: Any, test: str, text: str, negate: bool = False) -> None:
    """Until the results' count line passes ``test`` (a string method) with ``text``; a
    function, not an expression, so the page's CSP (no eval) lets it run."""
    page.wait_for_function(
        "([test, text, negate]) => { const el = document.querySelector('#compte');"
        " return !!el && el.textContent.trim().replace(/\\s+/g, ' ')[test](text) !== negate; }",
        arg=[test, text, negate],
    )


def summary(page: Any) -> str:
    return " ".join(page.locator("#compte").inner_text().split())


@pytest.mark.parametrize("layout", WIDTHS)
def test_a_typo_finds_the_shop_and_its_page(browser: Any, site: Site, layout: str) -> None:
    context = open_context(browser, WIDTHS[layout])
    page = context.new_page()
    page.goto(site.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").count() == 1
    shot(page, f"home-{layout}")
    page.fill("input[name=q]", "boulangrie")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("li.hit")
    assert "boulangerie" in page.locator("li.hit h3").first.inner_text().lower()
    shot(page, f"results-{layout}")

    merged = (
        page.locator("li.hit", has=page.locator("a.listing[data-platform=clickn_co]"))
        .filter(has=page.locator("a.listing[data-platform=toutoulouse]"))
        .filter(has_not_text="Horaires inconnus")  # a shop whose week the page can show
    )
    assert merged.count() > 0, "no merged shop with known hours on the first page"
    assert merged.first.locator("a.listing").first.text_content() in (
        "Click'n CO (démo)",
        "Toutoulouse (démo)",
    )
    merged.first.locator("h3 a").click()
    page.wait_for_selector("article.shop")
    assert page.locator("table.week tr").count() == 7
    assert page.locator("table.week tr.today").count() == 1
    assert "Mardi" in page.locator("table.week tr.today").inner_text()
    assert (page.locator("a.tel").get_attribute("href") or "").startswith("tel:+33")
    links = page.locator("ul.listings a.listing")
    assert links.count() >= 2
    for i in range(links.count()):
        assert (links.nth(i).get_attribute("href") or "").startswith(site.platforms_url)
        assert links.nth(i).get_attribute("rel") == "nofollow noreferrer noopener"
    shot(page, f"shop-{layout}")
    assert context.cookies() == []
    context.close()


def test_typing_updates_the_heading_and_title_and_reads_out_the_count(
    browser: Any, site: Site
) -> None:
    """Results swapped in as one types come with their heading, the tab's title and a status
    line a screen reader reads out: the page no longer says "près de chez vous" above the
    results for "fromage"."""
    context = open_context(browser)
    page = context.new_page()
    page.goto(site.base_url + "/")
    assert page.locator("#annonce").get_attribute("role") == "status"
    assert page.locator("#annonce").inner_text() == ""
    page.type("input[name=q]", "fromage", delay=30)
    page.wait_for_function(
        "() => document.title.startsWith('fromage') && document.querySelector('#compte') !== null"
    )
    assert page.title() == "fromage – Acheter local"
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text() == "Résultats pour «\u00a0fromage\u00a0»"
    page.wait_for_function(
        "() => document.querySelector('#annonce').textContent"
        " === document.querySelector('#compte').textContent.trim()"
    )
    announced = page.locator("#annonce").inner_text()
    assert "commerce" in announced and announced == page.locator("#compte").inner_text().strip()
    assert "fromage" in page.url
    context.close()


def test_each_chip_narrows_the_results(browser: Any, site: Site) -> None:
    context = open_context(browser)
    page = context.new_page()
    page.goto(site.base_url + "/?q=boulangerie")
    every = int(summary(page).split()[0])
    page.get_by_label("Ouvert maintenant").check()  # the script reloads the results
    wait_for_summary(page, "includes", "ouverts")
    open_now = int(summary(page).split()[0])
    assert 0 < open_now < every
    # Text content, not inner text: cards below the first screen are not laid out.
    statuses = page.locator("li.hit p.status").all_text_contents()
    assert statuses and all(s.startswith("Ouvert · ferme à") for s in statuses)
    assert "ouvert=maintenant" in page.url
    page.get_by_label("Ouvert maintenant").uncheck()
    wait_for_summary(page, "startsWith", f"{every} ")
    for label in ("Retrait en boutique", "Livraison", "À emporter"):
        page.get_by_label(label).check()
        wait_for_summary(page, "startsWith", f"{every} ", negate=True)
        narrowed = int(summary(page).split()[0])
        assert 0 < narrowed < every
        for badges in page.locator("li.hit").all():
            assert label in (badges.locator("ul.badges").text_content() or "")
        page.get_by_label(label).uncheck()
        wait_for_summary(page, "startsWith", f"{every} ")
    context.close()


def test_near_me_asks_only_on_click_and_sends_a_rounded_position(browser: Any, site: Site) -> None:
    context = open_context(browser, WIDTHS["phone"], geolocation=HERE, permissions=["geolocation"])
    page = context.new_page()
    reads: list[str] = []
    page.on("console", lambda m: reads.append(m.text) if m.text == "geolocation read" else None)
    context.add_init_script(
        "(() => { const g = navigator.geolocation; const get = g.getCurrentPosition.bind(g);"
        " const watch = g.watchPosition.bind(g);"
        " g.getCurrentPosition = (...a) => { console.log('geolocation read'); return get(...a); };"
        " g.watchPosition = (...a) => { console.log('geolocation read'); return watch(...a); };"
        " })()"
    )
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.goto(site.base_url + "/?q=boulangerie")
    page.click("#vers-autour")  # opens the explanation, reads nothing
    assert page.locator("details.drawer").get_attribute("open") is not None
    assert page.evaluate("document.activeElement.id") == "autour"
    shot(page, "filters-open-phone")
    assert reads == [] and not any("lat=" in url for url in sent)
    page.get_by_label("5 km").check()
    # The URL with the position (the 5 km change also updates the URL, in place).
    with page.expect_navigation(url=lambda url: "lat=" in url):
        page.click("#autour")
    assert reads == ["geolocation read"]
    asked = parse_qs(urlsplit(page.url).query)
    assert asked["lat"] == ["43.604"] and asked["lon"] == ["1.444"]
    assert asked["tri"] == ["distance"] and asked["rayon"] == ["5"]
    assert all("43.60447" not in url and "1.44425" not in url for url in sent)
    distances = [
        int(d)
        for d in page.locator("li.card").evaluate_all(
            "cards => cards.map(c => c.dataset.distanceM)"
        )
    ]
    assert distances and distances == sorted(distances) and distances[-1] <= 5000
    assert page.locator("li.hit .distance").first.inner_text().startswith("à ")
    shot(page, "near-me-phone")
    context.close()


def interests_session(browser: Any, site: Site, state: dict | None) -> tuple[list, list]:
    """The same visit in a fresh browser profile with or without saved interests (``state``,
    the local storage of a profile that saved them): the requests sent, the order shown."""
    context = open_context(browser, storage_state=state)
    page = context.new_page()
    sent: list[tuple[str, str, str | None, dict[str, str]]] = []
    page.on(
        "request",
        lambda r: sent.append((r.method, r.url, r.post_data, r.all_headers())),
    )
    page.goto(site.base_url + "/")
    page.fill("input[name=q]", "pain")
    wait_for_summary(page, "includes", "produit")
    page.goto(site.base_url + "/?ville=Toulouse")
    order = page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.entityId)")
    context.close()
    return sent, order


def test_interests_reorder_in_the_page_and_survive_a_reload(browser: Any, site: Site) -> None:
    context = open_context(browser)
    page = context.new_page()
    page.goto(site.base_url + "/?ville=Toulouse")
    groups = page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.group)")
    interest = next(g for g in reversed(groups) if g and g != groups[0])
    before = page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.entityId)")
    page.click("details.drawer summary")
    page.locator(f"input[data-interest={interest}]").check()
    assert page.evaluate("Object.keys(localStorage)") == [], "saved before the user asked"
    page.click("#garder")
    after = page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.group)")
    assert after[0] == interest and after != groups
    shot(page, "interests-desktop")
    page.reload()
    assert page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.group)") == after
    assert page.locator(f"input[data-interest={interest}]").is_checked()
    storage = page.evaluate(
        "async () => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage),"
        " idb: (await indexedDB.databases()).length})"
    )
    assert storage == {"local": ["interets"], "session": [], "idb": 0}
    assert set(before) == set(
        page.locator("li.card").evaluate_all("cards => cards.map(c => c.dataset.entityId)")
    )
    assert context.cookies() == []
    state = context.storage_state()
    context.close()

    plain_requests, plain_order = interests_session(browser, site, None)
    liked_requests, liked_order = interests_session(browser, site, state)
    assert len(plain_requests) >= 5  # page, style, script, results as typed, page

    # The same requests, byte for byte, in a stable order (the style sheet and the script are
    # asked in parallel). The favicon is left out: Chromium asks for it once or twice in a
    # visit depending on timing alone (nothing the page says).
    def sent(requests: list) -> list[str]:
        return sorted(repr(r) for r in requests if not r[1].endswith("/favicon.svg"))

    assert sent(plain_requests) == sent(liked_requests)
    assert sorted(plain_order) == sorted(liked_order) and plain_order != liked_order


def test_an_error_report_is_stored(browser: Any, site: Site) -> None:
    context = open_context(browser, WIDTHS["phone"])
    page = context.new_page()
    page.goto(site.base_url + "/?q=boulangerie")
    # A shop with known hours: the report below is about them.
    page.locator("li.hit").filter(has_not_text="Horaires inconnus").locator("h3 a").first.click()
    page.wait_for_selector("article.shop")
    entity_id = page.locator("article.shop").get_attribute("data-entity-id")
    note = f"Fermé le lundi {uuid.uuid4().hex[:6]}"
    page.select_option("#champ", "opening_hours")
    page.fill("#message", note)
    # A form sent sooner than a person could write it is asked again (MIN_FILL_S).
    page.wait_for_timeout(MIN_FILL_S * 1000 + 200)
    page.click("#signaler button[type=submit]")
    page.wait_for_selector("#signaler .notice")
    shot(page, "report-sent-phone")
    reports = site.runtime.store.list_error_reports()
    assert any(
        r.entity_id == entity_id and r.message == note and r.field == "opening_hours"
        for r in reports
    )
    context.close()


def test_first_result_within_three_key_presses(browser: Any, site: Site) -> None:
    context = open_context(browser, WIDTHS["phone"])
    page = context.new_page()
    page.goto(site.base_url + "/?q=boulangerie")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller aux résultats"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    first = page.locator("li.card h3 a").first.get_attribute("href")
    assert page.evaluate("document.activeElement.getAttribute('href')") == first
    context.close()


PAGES = {
    "home": "/",
    "results": "/?q=boulangerie",
    "filters-open": "/?q=pain&ville=Toulouse",
    "shop": None,
    "404": "/boutique/e000000000000",
}


@pytest.mark.parametrize("layout", WIDTHS)
def test_no_accessibility_violation_and_no_sideways_scroll(
    browser: Any, site: Site, layout: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = open_context(browser, WIDTHS[layout])
    page = context.new_page()
    page.goto(site.base_url + "/?q=fromage")
    shop_path = page.locator("li.hit h3 a").first.get_attribute("href")
    found: dict[str, str] = {}
    for name, path in PAGES.items():
        page.goto(site.base_url + (path or shop_path))
        if name == "filters-open":
            page.click("details.drawer summary")
        results = axe.run(page)
        if results.violations_count:
            found[name] = results.generate_report()
        shot(page, f"{name}-axe-{layout}")
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())

    narrow = open_context(browser, 360)
    page = narrow.new_page()
    for name, path in PAGES.items():
        page.goto(site.base_url + (path or shop_path))
        if name == "filters-open":
            page.click("details.drawer summary")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name} is {width} px wide at 360 px"
    narrow.close()
    context.close()


def test_api_docs_render_under_the_csp(browser: Any, site: Site) -> None:
    context = open_context(browser)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site.base_url + "/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 3
    page.goto(site.base_url + "/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    assert "Acheter local" in page.locator("h1").first.inner_text()
    assert refused == []
    context.close()


def test_after_the_session_nothing_kept_nothing_sent_elsewhere(browser: Any, site: Site) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    context = open_context(browser)
    page = context.new_page()
    page.goto(site.base_url + "/")
    page.fill("input[name=q]", marker)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#compte")
    assert context.cookies() == []
    context.close()
    log = site.log_text()
    assert "search (page /):" in log
    assert marker not in log and CLIENT not in log
    # ReDoc's search worker is a blob: URL of this origin.
    origin = (site.base_url + "/", "blob:" + site.base_url + "/")
    assert REQUESTS and all(url.startswith(origin) for url in REQUESTS), [
        url for url in REQUESTS if not url.startswith(origin)
    ]
