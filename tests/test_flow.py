"""End to end: demo platforms on loopback → run → a typo query finds a merged shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms, demo_registrations
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from search import SearchQuery


@pytest.fixture(scope="module")
def demo_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, DemoPlatforms]]:
    root = tmp_path_factory.mktemp("flow")
    settings = Settings(
        data_dir=root / "var", config_dir=root / "config", allow_hosts="127.0.0.1:*"
    )
    runtime = Runtime(settings)
    with DemoPlatforms(generate_catalogue(n_shops=300), host="127.0.0.1", port=0) as platforms:
        for registration in demo_registrations(platforms.base_url):
            runtime.store.save_connector(registration, origin="cli")
        runtime.run_all()
        yield runtime, platforms
    runtime.close()


def test_typo_query_finds_a_shop_merged_across_platforms(demo_flow) -> None:  # type: ignore[no-untyped-def]
    runtime, platforms = demo_flow
    answer = runtime.backend.search(SearchQuery(text="boulangrie", per_page=50))
    assert answer.total > 0
    merged = [hit for hit in answer.hits if {"toutoulouse", "clickn_co"} <= set(hit.platforms)]
    assert merged, "no boulangerie listed on both demo platforms was merged"
    hit = merged[0]
    assert "boulang" in (hit.category or "") + hit.name.lower()
    links = {listing.platform: listing.url for listing in hit.listings}
    assert links["toutoulouse"].startswith(platforms.base_url + "/toutoulouse/")
    assert links["clickn_co"].startswith(platforms.base_url + "/clickn_co/")


def test_second_run_over_unchanged_feeds_changes_nothing(demo_flow) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = demo_flow
    entities_before = runtime.store.entity_hashes()
    report = runtime.run_all()
    for run in report.runs:
        assert run.status == "ok", run.errors
        assert (run.counts.new, run.counts.changed, run.counts.gone) == (0, 0, 0)
        assert run.counts.unchanged == run.counts.fetched - run.counts.rejected
    assert report.matching is not None and report.matching.changed == []
    assert runtime.store.entity_hashes() == entities_before


def test_export_lists_every_shop_record_once(demo_flow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = demo_flow
    ids = runtime.store.entity_ids_by_record()
    entities = list(runtime.store.iter_entities())
    exported = [(e.entity_id, m.platform, m.source_id) for e in entities for m in e.members]
    assert len(exported) == len(ids) == len(set(exported))
    assert {(p, s) for _, p, s in exported} == {(k.platform, k.source_id) for k in ids}
