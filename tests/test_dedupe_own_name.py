"""Equal names no other record bears: the share of such candidate pairs that match, read from
those whose other fields say it, floors the score of those nothing else contradicts."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from aggregator.models import ShopRecord
from dedupe import MatchModel, match_shops
from dedupe.matcher import update
from dedupe.prepare.columns_of import prepare
from dedupe.score.fit import own_name_odds
from dedupe.score.frequency import MIN_NAMES, NameFrequencies
from dedupe.score.model import OWN_NAME_EVIDENCE, probability


def shop(source_id: str, name: str, platform: str = "osm", **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


def _model(names: list[str], own: float | None) -> MatchModel:
    frequencies = NameFrequencies.of_names(names)
    assert frequencies is not None
    return MatchModel(name_frequencies=frequencies, own_name=own)


NAMES = [f"shop {i}" for i in range(MIN_NAMES)] + ["ange"] * 3


def test_equal_names_of_their_own_and_nothing_else_score_at_least_the_estimated_odds() -> None:
    prepared = prepare([shop("1", "Baan Rim Nam"), shop("2", "Baan Rim Nam", platform="fsq")])
    before, _ = _model(NAMES, None).score_one(prepared, 0, 1)
    after, _ = _model(NAMES, 4.0).score_one(prepared, 0, 1)
    assert probability(before) < 0.9 <= probability(after)
    assert after == pytest.approx(4.0)


def test_a_name_other_records_bear_or_a_field_against_gets_no_floor() -> None:
    prepared = prepare(
        [
            shop("1", "Ange"),
            shop("2", "Ange", platform="fsq"),
            shop("3", "Baan Rim Nam", address="12 Sukhumvit Road"),
            shop("4", "Baan Rim Nam", platform="fsq", address="80 Rama IV Road"),
            shop("5", "Baan Rim Nam", platform="yelp", phone="+66 2 123 4567"),
        ]
    )
    plain, lifted = _model(NAMES, None), _model(NAMES, 4.0)
    # "ange" is borne by three records: not the pair's own.
    assert lifted.score_one(prepared, 0, 1) == plain.score_one(prepared, 0, 1)
    # Another address weighs against: nothing is lifted.
    assert lifted.score_one(prepared, 2, 3) == plain.score_one(prepared, 2, 3)
    # A phone on one side only is no evidence against: lifted.
    assert lifted.score_one(prepared, 2, 4)[0] > plain.score_one(prepared, 2, 4)[0]


def test_explain_shows_the_floor_and_adds_up_to_the_score() -> None:
    prepared = prepare([shop("1", "Baan Rim Nam"), shop("2", "Baan Rim Nam", platform="fsq")])
    model = _model(NAMES, 4.0)
    detail = model.explain(prepared, 0, 1)
    assert detail["fields"]["own_name"]["weight"] > 0
    assert detail["match_weight"] == pytest.approx(model.score_one(prepared, 0, 1)[0], abs=1e-3)


def test_pruning_stays_exact_and_the_odds_are_saved_with_the_weights() -> None:
    prepared = prepare([shop("1", "Baan Rim Nam"), shop("2", "Baan Rim Nam", platform="fsq")])
    model = _model(NAMES, 4.0)
    weight, _ = model.score_one(prepared, 0, 1)
    assert len(model.score(prepared, [0], [1], prune_below=weight - 1e-6)) == 1
    assert len(model.score(prepared, [0], [1], prune_below=weight + 1e-6)) == 0
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.own_name == 4.0
    assert again.score_one(prepared, 0, 1) == model.score_one(prepared, 0, 1)
    assert MatchModel.from_dict(_model(NAMES, None).to_dict()).own_name is None


def _places(same: int, apart: int) -> tuple[list[ShopRecord], np.ndarray, np.ndarray]:
    """Places listed twice under names of their own: ``same`` pairs share a phone, ``apart``
    pairs give other phones and addresses 30 km apart, ten more give nothing but the name."""
    records = [shop(f"o{i}", f"Shop {i}") for i in range(MIN_NAMES)]
    a, b = [], []
    for k in range(same + apart + 10):
        one: dict[str, Any] = {}
        other: dict[str, Any] = {}
        if k < same:
            one = other = {"phone": f"+66 2 100 {k:04d}"}
        elif k < same + apart:
            one = {
                "phone": f"+66 2 100 {k:04d}",
                "address": f"{k} Sukhumvit Road",
                "lat": 13.70,
                "lon": 100.50,
            }
            other = {
                "phone": f"+66 2 200 {k:04d}",
                "address": f"{k + 5} Rama IV Road",
                "lat": 13.98,
                "lon": 100.50,
            }
        a.append(len(records))
        records.append(shop(f"p{k}", f"Baan {k} Thai", **one))
        b.append(len(records))
        records.append(shop(f"q{k}", f"Baan {k} Thai", platform="fsq", **other))
    return records, np.array(a), np.array(b)


def test_the_odds_are_the_share_of_matches_the_other_fields_find() -> None:
    records, a, b = _places(same=40, apart=20)
    prepared = prepare(records)
    model = _model([r.name.lower() for r in records], None)
    odds = own_name_odds(model, prepared, a, b)
    assert odds is not None
    # 40 of the 60 pairs with other fields share a phone, 20 are far apart and differ.
    assert probability(odds) == pytest.approx(40 / 60, abs=0.03)
    # Too few pairs with anything but the name to read the share from.
    records, a, b = _places(same=OWN_NAME_EVIDENCE - 1, apart=0)
    assert own_name_odds(model, prepare(records), a, b) is None


def test_a_run_estimates_the_odds_merges_names_alone_and_keeps_them_incrementally() -> None:
    """Places listed twice at one point teach the share; a pair of names alone is merged."""
    records = [
        shop(f"o{i}", f"Shop {i}", city="Chiang Mai", lat=18.70 + i * 1e-3, lon=98.90)
        for i in range(300)
    ]
    for k in range(40):
        name = "Baan " + "".join("abcdefghij"[int(d)] for d in f"{k:03d}") + "ong"
        place: dict[str, Any] = {"lat": 18.80 + k * 1e-2, "lon": 98.95}
        records.append(shop(f"p{k}", name, **place))
        records.append(shop(f"q{k}", name, platform="fsq", **place))
    records += [shop("a", "Khao Soi Mae Sai"), shop("b", "Khao Soi Mae Sai", platform="fsq")]
    result = match_shops(records)
    model = result.state.model
    assert model is not None and model.own_name is not None and model.own_name > 3.2
    state = result.state
    assert state.entity_of[state.row_of["osm:a"]] == state.entity_of[state.row_of["fsq:b"]]
    later = update(result, [shop("c", "Khao Soi Mae Sai", platform="yelp")])
    assert later.state.model.own_name == model.own_name  # type: ignore[union-attr]
