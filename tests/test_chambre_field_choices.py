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
