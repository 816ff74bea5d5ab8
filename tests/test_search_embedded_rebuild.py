"""A rebuild indexed by a worker process answers as one indexed in the feeding process, and a
feed that fails mid-way leaves the live index as it was."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.models import Entity
from search import EmbeddedBackend, SearchQuery

try:  # tests/ as a package, or as a plain directory on sys.path (pytest's prepend mode)
    from tests.test_search_sample import sample_entities
except ImportError:
    from test_search_sample import sample_entities  # type: ignore[no-redef]

QUERIES = ["", "boulangerie", "boulangrie", "croissant", "pain", "bio", "toulouse", "fromage"]


def _answers(backend: EmbeddedBackend) -> list[dict[str, object]]:
    """Each query's totals, facets and hits; hits as a sorted list, since tantivy's indexing
    threads number the documents in no fixed order (hits of equal score come in that order,
    two rebuilds in one process alike)."""
    out: list[dict[str, object]] = []
    for text in QUERIES:
        answer = backend.search(SearchQuery(text=text, per_page=100)).model_dump(
            exclude={"took_ms"}
        )
        for name in ("hits", "offers"):
            answer[name] = sorted(answer[name], key=repr)
        out.append(answer)
    return out


def test_a_worker_process_indexes_as_the_feeding_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="search.embedded_rebuild")
    entities = sample_entities()
    here = EmbeddedBackend(tmp_path / "here")
    there = EmbeddedBackend(tmp_path / "there")
    there.rebuild_hand_off = 2  # every entity past the second goes to the worker
    try:
        assert len(entities) > 2 * there.rebuild_hand_off
        assert here.rebuild(entities) == len(entities)
        assert "worker process" not in caplog.text
        assert there.rebuild(entities) == len(entities)
        assert f"{len(entities)} entities" in caplog.text and "worker process" in caplog.text
        assert there.count() == here.count() == len(entities)
        for entity in entities:
            assert there.get(entity.entity_id) == here.get(entity.entity_id) is not None
        answers = _answers(there)
        assert answers == _answers(here)
        assert any(answer["hits"] for answer in answers)
    finally:
        here.close()
        there.close()


def test_a_feed_failing_after_the_hand_off_leaves_the_live_index(tmp_path: Path) -> None:
    entities = sample_entities()
    backend = EmbeddedBackend(tmp_path / "search")
    backend.rebuild_hand_off = 1
    try:
        backend.rebuild(entities[:3])
        before = _answers(backend)
        generations = sorted(p.name for p in (tmp_path / "search").glob("gen-*"))

        def failing() -> Iterator[Entity]:
            yield from entities
            raise RuntimeError("the store went away")

        with pytest.raises(RuntimeError, match="the store went away"):
            backend.rebuild(failing())
        assert backend.count() == 3
        assert _answers(backend) == before
        assert sorted(p.name for p in (tmp_path / "search").glob("gen-*")) == generations
    finally:
        backend.close()
