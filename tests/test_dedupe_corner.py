"""A name no other record bears, on two streets of one corner: the streets' difference is
read as missing; a chain's name, or the same two streets farther apart, keep it."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.models import ShopRecord
from dedupe import match_shops
from dedupe.matcher import update
from dedupe.score.measures import CORNER_M, corner, haversine_m


def shop(source_id: str, name: str, platform: str = "osm", **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


STREETS = ["Grassmarket", "Leith Walk", "George Street", "Rose Street", "Pilrig Street"]


def _records() -> list[ShopRecord]:
    records = [
        shop(
            str(i),
            f"{('Bar', 'Deli', 'Books', 'Cafe')[i % 4]} {i}",
            address=f"{i % 90 + 1} {STREETS[i % 5]}",
            lat=55.90 + i * 1e-3,
            lon=-3.30,
        )
        for i in range(250)
    ]
    corner_a, corner_b = (55.94645, -3.20086), (55.94713, -3.20166)  # 90 m apart
    far_b = (55.94900, -3.20600)  # 430 m from corner_a
    return [
        *records,
        shop("c1", "CodeBase", address="38 Castle Terrace", lat=corner_a[0], lon=corner_a[1]),
        shop("c2", "CodeBase", "fsq", address="38 Lady Lawson Street",
             lat=corner_b[0], lon=corner_b[1]),
        # A chain: its name is borne by other records too.
        shop("k1", "Costa", address="12 Castle Terrace", lat=corner_a[0], lon=corner_a[1]),
        shop("k2", "Costa", "fsq", address="40 Lady Lawson Street",
             lat=corner_b[0], lon=corner_b[1]),
        shop("k3", "Costa", "yelp", address="3 Leith Walk", lat=55.97, lon=-3.17),
        # The pair's own name, two streets too far apart to be one building.
        shop("f1", "Maxies", address="5 Victoria Street", lat=corner_a[0], lon=corner_a[1]),
        shop("f2", "Maxies", "fsq", address="9 Johnston Terrace", lat=far_b[0], lon=far_b[1]),
    ]  # fmt: skip


def test_two_streets_within_corner_distance_are_a_corner() -> None:
    assert haversine_m(55.94645, -3.20086, 55.94713, -3.20166) < CORNER_M
    assert haversine_m(55.94645, -3.20086, 55.94900, -3.20600) > CORNER_M


def test_an_own_name_on_two_streets_of_one_corner_reads_the_address_as_missing() -> None:
    result = match_shops(_records(), keep_pairs=True)
    model, prepared, row = result.state.model, result.state.prepared, result.state.row_of
    assert model is not None and model.name_frequencies is not None
    pairs = {k: (row[f"osm:{k}1"], row[f"fsq:{k}2"]) for k in ("c", "k", "f")}
    a = [p[0] for p in pairs.values()]
    b = [p[1] for p in pairs.values()]
    assert corner(prepared, np.array(a), np.array(b)).tolist() == [True, True, False]
    explained = {k: model.explain(prepared, i, j) for k, (i, j) in pairs.items()}
    for detail in explained.values():
        assert detail["fields"]["address"]["level"] == "different"
    different = model.comparison("address").levels[-1].weight
    assert different < 0
    own = explained["c"]["fields"]["corner"]
    assert own["weight"] == pytest.approx(-different, abs=1e-3)
    assert "corner" not in explained["k"]["fields"]  # a chain's two shops
    assert "corner" not in explained["f"]["fields"]  # 430 m apart
    scored = model.score(prepared, a, b)
    for k, detail in enumerate(explained.values()):
        assert scored.weights[k] == pytest.approx(detail["match_weight"], abs=1e-2)
    assert scored.conflicts[0] == pytest.approx(explained["c"]["conflict_weight"], abs=1e-2)
    # Without the corner, the CodeBase pair would weigh as the Maxies pair's streets do.
    assert explained["c"]["match_weight"] - explained["c"]["fields"]["distance"]["weight"] > (
        explained["f"]["match_weight"] - explained["f"]["fields"]["distance"]["weight"]
    )


def test_pruning_keeps_a_corner_pair_that_reaches_the_bound() -> None:
    result = match_shops(_records(), keep_pairs=True)
    model, prepared, row = result.state.model, result.state.prepared, result.state.row_of
    assert model is not None
    i, j = row["osm:c1"], row["fsq:c2"]
    weight, _ = model.score_one(prepared, i, j)
    assert len(model.score(prepared, [i], [j], prune_below=weight - 1e-6)) == 1
    assert len(model.score(prepared, [i], [j], prune_below=weight + 1e-6)) == 0


def test_an_incremental_run_reads_the_corner_as_a_full_one() -> None:
    records = _records()
    extra = shop("n1", "Nero", "fsq", address="7 Rose Street", lat=55.98, lon=-3.18)
    full = match_shops([*records, extra])
    before = match_shops(records)
    later = update(before, [extra])
    assert later.state.model is not None and before.state.model is not None
    i, j = later.state.row_of["osm:c1"], later.state.row_of["fsq:c2"]
    assert "corner" in later.state.model.explain(later.state.prepared, i, j)["fields"]
    entity = {str(k): v for k, v in later.assignments().items()}
    assert entity == {str(k): v for k, v in full.assignments().items()}
