"""Field choices: a reviewer picks which member's value a golden field shows; the choice is
logged, every later run (incremental or full alike) shows it while it holds, and the desk says
when it no longer does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aggregator.models import Entity, RecordType
from aggregator.store import Store
from aggregator.store.field_choices import FieldChoiceError
from tests.chambre_demo import DemoDesk, build_demo
from tests.test_chambre_decisions import put_shops
from tests.webserver import serve_app


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDesk]:
    demo = build_demo(tmp_path_factory.mktemp("choix"))
    yield demo
    demo.runtime.close()


def test_choices_are_an_append_only_log_whose_latest_is_in_force(store: Store) -> None:
    put_shops(store, "p:1", "q:1")
    first = store.choose_field(
        "e1", "name", "p:1", value="Boulangerie 1", reviewer="anne", role="reviewer", note="vu"
    )
    second = store.choose_field("e1", "name", "q:1", value="Boulangerie 1 bis", reviewer="paul")
    store.choose_field("e2", "phone", "q:1", value="0561000000", reviewer="anne")
    log = store.field_choice_log("e1")
    assert [c.id for c in log] == [first.id, second.id]
    assert (log[0].reviewer, log[0].role, log[0].note, log[0].value) == (
        "anne", "reviewer", "vu", "Boulangerie 1",
    )  # fmt: skip
    assert log[0].chosen_at is not None and log[1].role is None
    in_force = store.field_choices()
    assert {e: {f: c.record_key for f, c in fs.items()} for e, fs in in_force.items()} == {
        "e1": {"name": "q:1"},
        "e2": {"phone": "q:1"},
    }
    with pytest.raises(FieldChoiceError):
        store.choose_field("e1", "lat", "p:1", value="43.6", reviewer="anne")
    with pytest.raises(FieldChoiceError):
        store.choose_field("e1", "name", "p:1", value="x", reviewer="anne", note="n" * 2001)
    assert len(store.field_choice_log()) == 3


def _name(store: Store, key: str) -> str:
    platform, _, source_id = key.partition(":")
    stored = store.get_raw(platform, source_id, RecordType.shop)
    assert stored is not None
    return str(stored.record["name"])


def _golden(entity: Entity | None, field: str) -> tuple[object, str, str | None]:
    assert entity is not None
    item = entity.golden.fields[field]
    return item.value, f"{item.platform}:{item.source_id}", entity.golden.chosen.get(field)


def test_a_choice_from_the_desk_holds_in_incremental_and_full_runs_until_its_record_leaves(
    desk: DemoDesk,
) -> None:
    store, runtime = desk.runtime.store, desk.runtime
    # An entity whose members spell the name differently.
    entity, other = None, ""
    by_record = {str(k): e for k, e in store.entity_ids_by_record().items()}
    for entity_id in sorted(set(by_record.values())):
        found = store.get_entity(entity_id)
        assert found is not None
        if len(found.members) < 3:
            continue
        shown = found.golden.fields["name"]
        source = f"{shown.platform}:{shown.source_id}"
        names = {str(m): _name(store, str(m)) for m in found.members}
        others = [k for k, n in sorted(names.items()) if n.strip() != names[source].strip()]
        if others:
            entity, other = found, others[0]
            break
    assert entity is not None, "the demo world has an entity whose members disagree on a name"
    entity_id = entity.entity_id
    before = _golden(entity, "name")
    _, key = store.create_reviewer_key("Claire", "reviewer")
    with serve_app(runtime) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
        client.post("/chambre/connexion", data={"cle": key})
        page = client.get(f"/chambre/commerce/{entity_id}")
        assert page.status_code == 200 and "/choisir" in page.text and other in page.text
        refused = client.post(
            f"/chambre/commerce/{entity_id}/choisir", data={"champ": "name", "cle": "nope:1"}
        )
        assert refused.status_code == 422 and store.field_choice_log(entity_id) == []
        done = client.post(
            f"/chambre/commerce/{entity_id}/choisir",
            data={"champ": "name", "cle": other, "note": "nom sur la devanture"},
        )
        assert done.status_code == 200 and "prochaine mise en correspondance" in done.text
        (logged,) = store.field_choice_log(entity_id)
        assert (logged.reviewer, logged.role, logged.field, logged.record_key, logged.note) == (
            "Claire", "reviewer", "name", other, "nom sur la devanture",
        )  # fmt: skip
        assert logged.value == _name(store, other)
        assert _golden(store.get_entity(entity_id), "name") == before  # not before a run

        outcome, _ = runtime.match_and_index()
        assert outcome.mode == "incremental" and entity_id in {e.entity_id for e in outcome.changed}
        incremental = store.get_entity(entity_id)
        value, source, chosen = _golden(incremental, "name")
        assert (source, chosen) == (other, "Claire") and value != before[0]
        assert "appliqué" in client.get(f"/chambre/commerce/{entity_id}").text

        runtime.match_and_index(full=True)
        full = store.get_entity(entity_id)
        assert full is not None and incremental is not None
        assert full.golden.model_dump() == incremental.golden.model_dump()

        # The chosen record split out: the choice no longer applies, the desk says so.
        client.post(f"/chambre/commerce/{entity_id}/separer", data={"cle": other})
        runtime.match_and_index()
        after = store.get_entity(entity_id)
        assert after is not None and other not in {str(m) for m in after.members}
        assert "name" not in after.golden.chosen and _golden(after, "name")[1] != other
        assert "ne s'applique plus" in client.get(f"/chambre/commerce/{entity_id}").text
        client.post("/chambre/annuler")
    runtime.match_and_index(full=True)


def test_undo_of_a_choice_is_a_new_row_that_puts_back_the_one_before(store: Store) -> None:
    put_shops(store, "p:1", "q:1")
    store.choose_field("e1", "name", "p:1", value="Boulangerie 1", reviewer="anne")
    store.choose_field("e1", "name", "q:1", value="Boulangerie 1 bis", reviewer="anne")
    store.choose_field("e1", "name", "p:1", value="Boulangerie 1", reviewer="paul")
    store.choose_field("e1", "phone", "q:1", value="0561000000", reviewer="anne")
    # Anne's latest choice on the name: back to what was in force before it (her first).
    undone = store.undo_field_choice("e1", reviewer="anne", role="reviewer", field="name")
    assert undone is not None and (undone.action, undone.record_key) == ("undo", "p:1")
    assert store.field_choices()["e1"]["name"].record_key == "p:1"
    # Again: her first choice goes, and the field has no choice at all.
    cleared = store.undo_field_choice("e1", reviewer="anne", field="name")
    assert cleared is not None and cleared.cleared and cleared.value is None
    assert "name" not in store.field_choices()["e1"]
    assert store.undo_field_choice("e1", reviewer="anne", field="name") is None
    # Without a field: her latest choice on the entity (the phone), then nothing left.
    phone = store.undo_field_choice("e1", reviewer="anne")
    assert phone is not None and phone.field == "phone" and "e1" not in store.field_choices()
    assert store.undo_field_choice("e1", reviewer="anne") is None
    # An admin takes back Paul's choice; the undo row names the admin and the row undone.
    paul = next(c for c in store.field_choice_log("e1") if c.reviewer == "paul")
    by_admin = store.undo_field_choice("e1", reviewer="chef", role="admin", of="paul")
    assert by_admin is not None and (by_admin.reviewer, by_admin.undoes) == ("chef", paul.id)
    log = store.field_choice_log("e1")
    assert len(log) == 4 + 4 and [c.action for c in log].count("undo") == 4  # nothing deleted


def test_a_choice_undone_from_the_desk_leaves_the_golden_record_to_survivorship(
    desk: DemoDesk,
) -> None:
    store, runtime = desk.runtime.store, desk.runtime
    entity = next(
        e
        for e in store.iter_entities()
        if len({_name(store, str(k)) for k in e.members}) > 1 and "name" not in e.golden.chosen
    )
    before = _golden(entity, "name")
    other = next(
        str(k) for k in entity.members if f"{before[1]}" != str(k) and _name(store, str(k))
    )
    _, key = store.create_reviewer_key("Jeanne", "reviewer")
    with serve_app(runtime) as base, httpx.Client(base_url=base) as client:
        client.post("/chambre/connexion", data={"cle": key})
        client.post(
            f"/chambre/commerce/{entity.entity_id}/choisir", data={"champ": "name", "cle": other}
        )
        runtime.match_and_index()
        assert _golden(store.get_entity(entity.entity_id), "name")[1:] == (other, "Jeanne")
        page = client.get(f"/chambre/commerce/{entity.entity_id}").text
        assert "Annuler ce choix" in page
        undo = client.post(
            f"/chambre/commerce/{entity.entity_id}/choix/annuler", data={"champ": "name"}
        )
        assert undo.status_code == 303
        nothing = client.post(
            f"/chambre/commerce/{entity.entity_id}/choix/annuler", data={"champ": "name"}
        )
        assert nothing.status_code == 409 and "Aucun choix" in nothing.text
    runtime.match_and_index()
    assert _golden(store.get_entity(entity.entity_id), "name") == before
    runtime.match_and_index(full=True)
    assert _golden(store.get_entity(entity.entity_id), "name") == before
    assert [c.action for c in store.field_choice_log(entity.entity_id)][-2:] == ["choose", "undo"]
