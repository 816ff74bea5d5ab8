"""Admins and reviewers: each admin-only action refused to a reviewer key (403, a French page or
a JSON detail) and carried out for an admin; reviewers decide and undo their own work."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.chambre_demo import DemoDesk, build_demo
from tests.webserver import serve_app


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoDesk, str, dict]]:
    demo = build_demo(tmp_path_factory.mktemp("roles"))
    store = demo.runtime.store
    keys = {
        "admin": store.create_reviewer_key("Chef", "admin")[1],
        "lise": store.create_reviewer_key("Lise", "reviewer")[1],
        "marc": store.create_reviewer_key("Marc", "reviewer")[1],
    }
    with serve_app(demo.runtime) as base:
        yield demo, base, keys
    demo.runtime.close()


@contextmanager
def session(base: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base) as client:
        assert client.post("/chambre/connexion", data={"cle": key}).status_code == 303
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_page_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403, response.text
    assert "Réservé aux administrateurs" in response.text and words in response.text
    assert response.headers["content-type"].startswith("text/html")


def assert_api_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["detail"]


def test_only_admins_create_and_revoke_keys(desk: tuple[DemoDesk, str, dict]) -> None:
    demo, base, keys = desk
    store = demo.runtime.store
    with session(base, keys["lise"]) as lise:
        assert_page_refused(lise.get("/chambre/cles"), "créer et révoquer les clés")
        assert_page_refused(
            lise.post("/chambre/cles", data={"nom": "Intrus", "role": "admin"}), "clés"
        )
        assert_page_refused(lise.post("/chambre/cles/1/revoquer"), "clés")
    assert_api_refused(httpx.get(f"{base}/api/review/keys", headers=bearer(keys["lise"])), "keys")
    assert_api_refused(
        httpx.post(
            f"{base}/api/review/keys", headers=bearer(keys["lise"]), json={"name": "Intrus"}
        ),
        "keys",
    )
    assert_api_refused(
        httpx.delete(f"{base}/api/review/keys/1", headers=bearer(keys["lise"])), "keys"
    )
    assert "Intrus" not in {name for _, name, *_ in store.list_reviewer_keys()}

    with session(base, keys["admin"]) as chef:
        page = chef.post("/chambre/cles", data={"nom": "Nina", "role": "reviewer"})
        assert page.status_code == 200 and "affichée une seule fois" in page.text
        new_key = page.text.split('<code class="key">')[1].split("<")[0]
        assert store.reviewer_for_key(new_key).name == "Nina"  # type: ignore[union-attr]
        nina_id = store.reviewer_for_key(new_key).key_id  # type: ignore[union-attr]
        with session(base, new_key) as nina:
            assert chef.post(f"/chambre/cles/{nina_id}/revoquer").status_code == 200
            assert 'name="cle"' in nina.get("/chambre/").text  # her session closed at once
    made = httpx.post(
        f"{base}/api/review/keys", headers=bearer(keys["admin"]), json={"name": "Olga"}
    )
    assert made.status_code == 201 and made.json()["key"].startswith("chambre_")
    listed = httpx.get(f"{base}/api/review/keys", headers=bearer(keys["admin"])).json()
    assert "Olga" in {k["name"] for k in listed} and all("key" not in k for k in listed)
    gone = httpx.delete(
        f"{base}/api/review/keys/{made.json()['id']}", headers=bearer(keys["admin"])
    )
    assert gone.status_code == 200 and store.reviewer_for_key(made.json()["key"]) is None


def test_only_admins_export_the_decision_log(desk: tuple[DemoDesk, str, dict]) -> None:
    demo, base, keys = desk
    store = demo.runtime.store
    item = store.review_queue()[0]
    store.decide(item.a, item.b, "unsure", reviewer="Lise", role="reviewer", note="=1+1")
    try:
        with session(base, keys["lise"]) as lise:
            assert_page_refused(lise.get("/chambre/decisions/journal.csv"), "exporter le journal")
            assert "journal.csv" not in lise.get("/chambre/decisions").text
        assert_api_refused(
            httpx.get(f"{base}/api/review/log", headers=bearer(keys["lise"])), "decision log"
        )
        with session(base, keys["admin"]) as chef:
            exported = chef.get("/chambre/decisions/journal.csv")
            assert exported.status_code == 200 and exported.text.startswith("\ufeff")
            rows = list(csv.reader(io.StringIO(exported.text[1:]), delimiter=";"))
            assert rows[0][:3] == ["id", "decided_at", "reviewer"]
            assert len(rows) == 1 + len(store.decision_log())
            assert "'=1+1" in exported.text  # a note stays text in a spreadsheet
        as_json = httpx.get(f"{base}/api/review/log", headers=bearer(keys["admin"])).json()
        assert [r["id"] for r in as_json] == sorted(e.id for e in store.decision_log())
    finally:
        store.undo_last("Lise")


def test_reviewers_undo_their_own_rulings_and_only_admins_undo_others(
    desk: tuple[DemoDesk, str, dict],
) -> None:
    demo, base, keys = desk
    store = demo.runtime.store
    first, second = store.review_queue()[:2]
    with session(base, keys["lise"]) as lise, session(base, keys["marc"]) as marc:
        lise.post("/chambre/decision", data={"a": first.a, "b": first.b, "verdict": "unsure"})
        marc.post("/chambre/decision", data={"a": second.a, "b": second.b, "verdict": "unsure"})
        # Marc's undo takes back his own ruling, never Lise's.
        marc.post("/chambre/annuler")
        assert store.decision_log("Lise", limit=1)[0].action == "decide"
        assert_page_refused(
            marc.post("/chambre/annuler", data={"de": "Lise"}), "annuler les décisions"
        )
        assert_page_refused(marc.get("/chambre/decisions?qui=Lise"), "autre relecteur")
        assert_api_refused(
            httpx.post(
                f"{base}/api/review/undo", headers=bearer(keys["marc"]), json={"reviewer": "Lise"}
            ),
            "another reviewer",
        )
        assert store.current_rulings()[tuple(sorted((first.a, first.b)))].reviewer == "Lise"
    with session(base, keys["admin"]) as chef:
        page = chef.get("/chambre/decisions?qui=Lise")
        assert page.status_code == 200 and "Annuler la dernière décision de Lise" in page.text
        assert chef.post("/chambre/annuler", data={"de": "Lise"}).status_code == 303
    undo = store.decision_log("Chef", limit=1)[0]
    assert (undo.action, undo.role, undo.after) == ("undo", "admin", "none")
    assert tuple(sorted((first.a, first.b))) not in store.current_rulings()
    # Lise has nothing left to undo: the admin's undo counts as hers being taken back.
    assert store.undo_last("Lise") is None
    lise_again = httpx.post(f"{base}/api/review/decide", headers=bearer(keys["lise"]), json={
        "a": first.a, "b": first.b, "verdict": "unsure"})  # fmt: skip
    assert lise_again.status_code == 200
    by_api = httpx.post(
        f"{base}/api/review/undo", headers=bearer(keys["admin"]), json={"reviewer": "Lise"}
    )
    assert by_api.status_code == 200 and by_api.json()["reviewer"] == "Chef"
    assert store.current_rulings() == {}


def test_only_admins_undo_another_reviewers_field_choice(desk: tuple[DemoDesk, str, dict]) -> None:
    demo, base, keys = desk
    store = demo.runtime.store
    entity = next(e for e in store.iter_entities() if len(e.members) > 1)
    member = str(entity.members[0])
    store.choose_field(entity.entity_id, "name", member, value="x", reviewer="Lise")
    url = f"/chambre/commerce/{entity.entity_id}/choix/annuler"
    with session(base, keys["marc"]) as marc:
        assert "Annuler ce choix" not in marc.get(f"/chambre/commerce/{entity.entity_id}").text
        assert_page_refused(
            marc.post(url, data={"champ": "name", "de": "Lise"}), "annuler les décisions"
        )
    assert entity.entity_id in store.field_choices()
    with session(base, keys["admin"]) as chef:
        assert "Annuler ce choix" in chef.get(f"/chambre/commerce/{entity.entity_id}").text
        assert chef.post(url, data={"champ": "name", "de": "Lise"}).status_code == 303
    assert entity.entity_id not in store.field_choices()


def test_only_admins_draw_the_sample_and_save_the_reports_state(
    desk: tuple[DemoDesk, str, dict],
) -> None:
    _, base, keys = desk
    with session(base, keys["lise"]) as lise:
        assert_page_refused(
            lise.post("/chambre/echantillon/tirer", data={"taille": "5", "graine": "1"}),
            "échantillon",
        )
        assert_page_refused(lise.post("/chambre/rapports/etat"), "état des rapports")
    with session(base, keys["admin"]) as chef:
        assert chef.post("/chambre/rapports/etat").status_code == 303
        drawn = chef.post("/chambre/echantillon/tirer", data={"taille": "3", "graine": "1"})
        assert drawn.status_code == 303
