"""A batch of entities built together (one-record clusters in bulk) is the one built entity
by entity, in the same order."""

from __future__ import annotations

from aggregator.entity_build import EntityBatches
from benchmarks.dedupe_data import generate
from dedupe import MatchConfig, ShopTable, match_shops, match_table
from tests.test_dedupe_golden_speed import PRIORITY, RECORDS, _same


def _check(result) -> int:  # noqa: ANN001
    clusters = list(result.iter_clusters())
    build = result.builder()
    batches = EntityBatches(result)
    made = [e for start in range(0, len(clusters), 7) for e in batches(clusters[start : start + 7])]
    assert len(made) == len(clusters)
    for (entity_id, rows), entity in zip(clusters, made, strict=True):
        expected = build(entity_id, rows)
        _same(entity, expected)
        assert entity.model_dump(mode="json") == expected.model_dump(mode="json")
        assert hash(entity.members[0]) == hash(expected.members[0])
    return sum(len(rows) == 1 for _, rows in clusters)


def test_records_with_urls_and_extras() -> None:
    result = match_shops(RECORDS, platform_priority=PRIORITY)
    assert 0 < _check(result) < len(list(result.iter_clusters()))


def test_generated_records() -> None:
    result = match_table(ShopTable(dict(generate(3000, 11).columns)), config=MatchConfig())
    assert _check(result) > 1000


def test_empty_batch() -> None:
    result = match_shops(RECORDS)
    assert EntityBatches(result)([]) == []


def test_a_batch_leaves_nothing_for_the_cyclic_collector() -> None:
    """A full matching writes with the cyclic collector paused: a batch whose objects formed a
    cycle would stay in memory until the write ends (a million records' worth of columns)."""
    import gc

    from dedupe.golden.field_columns import FieldColumns

    result = match_table(ShopTable(dict(generate(3000, 11).columns)), config=MatchConfig())
    clusters = list(result.iter_clusters())
    batches = EntityBatches(result)
    gc.collect()
    gc.disable()
    try:
        for start in range(0, len(clusters), 500):
            assert batches(clusters[start : start + 500])
        assert not [o for o in gc.get_objects() if isinstance(o, FieldColumns)]
        assert gc.collect() == 0
    finally:
        gc.enable()
