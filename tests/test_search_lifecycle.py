"""The embedded index over time: upserts replace, deletes remove, rebuilds switch atomically while
searches keep answering, and the index reopens from disk."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.models import Entity
from aggregator.settings import Settings
from search import ConfigurationError, EmbeddedBackend, SearchBackend, SearchQuery, open_backend

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_search_sample import make_entity, sample_entities
except ImportError:
    from test_search_sample import make_entity, sample_entities  # type: ignore[no-redef]


def shop_ids(backend: EmbeddedBackend, text: str = "", **options: object) -> set[str]:
    answer = backend.search(SearchQuery(text=text, per_page=100, **options))  # type: ignore[arg-type]
    return {hit.entity_id for hit in answer.hits}


def generations(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("gen-*"))


def test_upsert_replaces_the_shop_and_its_offers(tmp_path: Path) -> None:
    with EmbeddedBackend(tmp_path) as backend:
        assert backend.upsert(sample_entities()) == 12
        renamed = make_entity(
            "ent-boul-blagnac",
            "Maison Martin",
            "boulangerie",
            "Blagnac",
            "31700",
            43.637,
            1.39,
            offers=[("Chocolatine", 1.3)],
        )
        # Twice in one batch: the last version wins, nothing is duplicated.
        assert backend.upsert([renamed, renamed]) == 2
        assert backend.count() == 12
        assert shop_ids(backend, "maison martin") == {"ent-boul-blagnac"}
        stored = backend.get("ent-boul-blagnac")
        assert stored is not None and stored["names"] == ["Maison Martin"]
        croissants = backend.search(SearchQuery(text="croissant")).offers
        assert [o.entity_id for o in croissants] == ["ent-boul-capitole"]
        offers = backend.search(SearchQuery(text="chocolatine")).offers
        assert [(o.shop_name, o.title) for o in offers] == [("Maison Martin", "Chocolatine")]


def test_delete_removes_the_shop_and_its_offers(tmp_path: Path) -> None:
    with EmbeddedBackend(tmp_path) as backend:
        backend.rebuild(sample_entities())
        assert backend.delete(["ent-boul-capitole", "ent-unknown"]) == 1
        assert backend.delete([]) == 0
        assert backend.count() == 11
        assert backend.get("ent-boul-capitole") is None
        assert "ent-boul-capitole" not in shop_ids(backend, "boulangerie")
        offers = backend.search(SearchQuery(text="croissant")).offers
        assert [o.entity_id for o in offers] == ["ent-boul-blagnac"]
        assert backend.search(SearchQuery(text="levain")).total == 0


def test_rebuild_answers_from_the_old_index_until_it_switches(tmp_path: Path) -> None:
    path = tmp_path / "search"
    backend = EmbeddedBackend(path)
    backend.rebuild(sample_entities())
    old = shop_ids(backend)
    new_entities = [
        make_entity(
            f"ent-new-{i}",
            f"Boulangerie Nouvelle {i}",
            "boulangerie",
            "Toulouse",
            "31000",
            43.60,
            1.44,
        )
        for i in range(40)
    ]
    seen_during: list[set[str]] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def keep_searching() -> None:
        while not done.is_set():
            try:
                seen_during.append(shop_ids(backend))
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                failures.append(error)
                return

    def slow_entities() -> Iterator[Entity]:
        for i, entity in enumerate(new_entities):
            if i == 20:
                # Half of the new index is written: searches still see the old one, whole.
                assert shop_ids(backend) == old
                assert backend.count() == 12
            done.wait(0.005)
            yield entity

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        assert backend.rebuild(slow_entities()) == 40
    finally:
        done.set()
        reader.join()
    assert not failures
    assert seen_during and all(ids in (old, shop_ids(backend)) for ids in seen_during)
    assert shop_ids(backend) == {e.entity_id for e in new_entities}
    assert backend.count() == 40
    assert len(generations(path)) == 1
    assert (path / "current").read_text().strip() == generations(path)[0]
    backend.close()


def test_a_failed_rebuild_keeps_the_live_index(tmp_path: Path) -> None:
    with EmbeddedBackend(tmp_path) as backend:
        backend.rebuild(sample_entities())
        before = generations(tmp_path)

        def broken() -> Iterator[Entity]:
            yield sample_entities()[0]
            raise RuntimeError("store went away")

        with pytest.raises(RuntimeError, match="store went away"):
            backend.rebuild(broken())
        assert generations(tmp_path) == before
        assert backend.count() == 12


def test_another_instance_follows_the_switch(tmp_path: Path) -> None:
    writer, reader = EmbeddedBackend(tmp_path), EmbeddedBackend(tmp_path)
    writer.rebuild(sample_entities())
    assert reader.count() == 12
    writer.rebuild(sample_entities()[:3])
    assert reader.count() == 3
    writer.upsert(
        [
            make_entity(
                "ent-x", "Librairie Ombres Blanches", "librairie", "Toulouse", "31000", 43.60, 1.44
            )
        ]
    )
    assert shop_ids(reader, "librairie") == {"ent-x"}
    writer.close()
    reader.close()


def test_reopen_from_disk(tmp_path: Path) -> None:
    first = EmbeddedBackend(tmp_path / "search")
    first.rebuild(sample_entities())
    first.close()
    again = EmbeddedBackend(tmp_path / "search")
    assert again.count() == 12
    assert "ent-boul-capitole" in shop_ids(again, "boulangrie")
    assert "ent-patiss-colomiers" in shop_ids(again, "Pâtisseries")
    assert again.get("ent-pizza") is not None
    again.close()


def test_open_backend_from_settings(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "synonyms.yaml").write_text("groups:\n  - [tartine, sandwich]\n")
    settings = Settings(data_dir=tmp_path / "var", config_dir=config)
    backend = open_backend(settings)
    assert isinstance(backend, EmbeddedBackend) and isinstance(backend, SearchBackend)
    backend.upsert(
        [
            make_entity(
                "ent-s",
                "Le Comptoir",
                "snack",
                "Toulouse",
                "31000",
                None,
                None,
                description="Sandwichs frais",
            )
        ]
    )
    assert shop_ids(backend, "tartines ") == {"ent-s"}
    assert (tmp_path / "var" / "search" / "current").is_file()
    backend.close()
    meili = Settings(data_dir=tmp_path / "var", config_dir=config, search_backend="meilisearch")
    with pytest.raises(ConfigurationError, match="needs MEILI_URL"):
        open_backend(meili)
