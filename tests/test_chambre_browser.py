"""The review desk in Debian's Chromium: keyboard-only review with undo, axe-core, screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chambre_demo import DemoDesk, build_demo
from tests.webserver import serve_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "chambre"

pytestmark = pytest.mark.browser
#: A demo world whose matching, on the weights fitted to it, leaves more than ten pairs to review
#: (25 when measured; 500 shops of seed 2 left 15, then 9 once own names counted).
DESK_SHOPS, DESK_SEED = 1000, 2


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoDesk, str, str]]:
    demo = build_demo(tmp_path_factory.mktemp("chambre-browser"), shops=DESK_SHOPS, seed=DESK_SEED)
    _, key = demo.runtime.store.create_reviewer_key("Anne (CCI Toulouse)", "reviewer")
    with serve_app(demo.runtime) as base:
        yield demo, base, key
    demo.runtime.close()


def login(browser: Any, base: str, key: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(base + "/chambre/")
    page.fill("#cle", key)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('File d')")
    return page


def test_keyboard_only_review_with_one_undo(browser: Any, desk: tuple[DemoDesk, str, str]) -> None:
    demo, base, key = desk
    store = demo.runtime.store
    queued = len(store.review_queue())
    assert queued >= 10, f"the demo world leaves only {queued} pairs"
    page = login(browser, base, key)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.keyboard.press("ArrowRight")  # resume the review
    page.wait_for_selector("form#decider")
    page.keyboard.press("?")
    assert page.locator("#aide").get_attribute("open") is not None
    page.keyboard.press("?")
    first = page.locator("input[name=a]").input_value(), page.locator("input[name=b]").input_value()
    with page.expect_navigation():
        page.keyboard.press("s")  # skip: the next pair
    skipped_to = (
        page.locator("input[name=a]").input_value(),
        page.locator("input[name=b]").input_value(),
    )
    assert skipped_to != first and "pos=1" in page.url
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")  # and back
    assert (
        page.locator("input[name=a]").input_value(),
        page.locator("input[name=b]").input_value(),
    ) == first
    decided: list[tuple[str, str]] = []
    undone_once = False
    while len(decided) < 10:
        a = page.locator("input[name=a]").input_value()
        b = page.locator("input[name=b]").input_value()
        letter = "m" if demo.truth[a] == demo.truth[b] else "d"
        with page.expect_navigation():
            page.keyboard.press(letter.upper())
        decided.append((a, b))
        if len(decided) == 4 and not undone_once:
            with page.expect_navigation():
                page.keyboard.press("z")  # back to the pair just decided
            assert (
                page.locator("input[name=a]").input_value(),
                page.locator("input[name=b]").input_value(),
            ) == (a, b)
            decided.pop()
            undone_once = True
    assert all(url.startswith(base) for url in requested)
    log = store.decision_log("Anne (CCI Toulouse)")
    # Ten rulings kept, one undone and decided again: eleven decisions and one undo.
    assert [e.action for e in log].count("undo") == 1 and len(log) == 12
    rulings = store.current_rulings()
    assert len([p for p, e in rulings.items() if e.reviewer.startswith("Anne")]) == 10
    for a, b in decided:
        entry = rulings[(a, b) if a < b else (b, a)]
        assert entry.after == ("must_link" if demo.truth[a] == demo.truth[b] else "cannot_link")
    assert len(store.review_queue()) <= queued - 10
    page.goto(base + "/chambre/decisions")
    assert page.locator("table.log tbody tr").count() == 12
    page.context.close()


PAGES = {
    "file": "/chambre/",
    "paire": "/chambre/paire?pos=0",
    "decisions": "/chambre/decisions",
    "rapports": "/chambre/rapports",
    "liste": "/chambre/rapports/liste?figure=exclusives",
}


@pytest.mark.parametrize("width", [1280, 390])
def test_desk_pages_pass_axe_and_are_screenshotted(
    browser: Any, desk: tuple[DemoDesk, str, str], width: int
) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    demo, base, key = desk
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    anonymous = browser.new_context(viewport={"width": width, "height": 900})
    login_page = anonymous.new_page()
    login_page.goto(base + "/chambre/")
    pages = {"connexion": login_page}
    page = login(browser, base, key, width)
    axe = axe_module.Axe()
    store = demo.runtime.store
    first = store.review_queue()[0] if store.review_queue() else None
    entity = next(e for e in store.iter_entities() if len(e.members) > 1)
    from aggregator.web.chambre.sample import pair_scorer

    store.draw_sample(5, 1, pair_scorer(demo.runtime), "test")
    extra = {
        "commerce": f"/chambre/commerce/{entity.entity_id}",
        "echantillon": "/chambre/echantillon",
        "aveugle": "/chambre/echantillon/paire",
        "signalements": "/chambre/signalements",
    }
    store.add_error_report(entity.entity_id, "Le téléphone a changé", "phone")
    if first is not None:
        extra["fiche"] = f"/chambre/fiche?cle={first.a}"
    for name, path in {**PAGES, **extra}.items():
        page.goto(base + path)
        pages[name] = page
        _check(axe, page, name, width)
    _check(axe, login_page, "connexion", width)
    # What a reviewer is refused, as the refusal page shows it.
    page.goto(base + "/chambre/cles")
    _check(axe, page, "refus", width)
    # An admin's pages: keys (with one just created), another reviewer's decisions, a shop
    # with a field choice that can be undone.
    _, admin_key = store.create_reviewer_key(f"Chef {width}", "admin")
    admin = login(browser, base, admin_key, width)
    member = str(entity.members[0])
    store.choose_field(entity.entity_id, "name", member, value="x", reviewer="Anne (CCI Toulouse)")
    admin.goto(base + "/chambre/cles")
    admin.fill("#nom", f"Nina {width}")
    with admin.expect_navigation():
        admin.click("text=Créer la clé")
    _check(axe, admin, "cles", width)
    for name, path in {
        "decisions-admin": "/chambre/decisions?qui=Anne+%28CCI+Toulouse%29",
        "commerce-choix": f"/chambre/commerce/{entity.entity_id}",
    }.items():
        admin.goto(base + path)
        _check(axe, admin, name, width)
    store.undo_field_choice(entity.entity_id, reviewer="test", of="Anne (CCI Toulouse)")
    print(f"screenshots in {ARTIFACTS}")
    anonymous.close()
    page.context.close()
    admin.context.close()


def _check(axe: Any, page: Any, name: str, width: int) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    results = axe.run(page)
    assert results.response["passes"], "axe-core ran no rule"
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
    ]
    assert violations == [], (name, width, violations)
