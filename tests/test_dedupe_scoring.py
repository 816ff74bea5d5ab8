"""Comparison levels and the Fellegi–Sunter model: weights, missing values, estimates, roles."""

from __future__ import annotations

import json
import math

import pytest

from aggregator.models import ShopRecord
from dedupe import (
    DEFAULT_COMPARISONS,
    Comparison,
    Level,
    MatchModel,
    Thresholds,
    explain,
    match_shops,
)
from dedupe.prepare.columns_of import prepare
from dedupe.score.comparisons import MISSING
from dedupe.score.measures import haversine_m
from dedupe.score.model import probability


def shop(source_id: str, name: str, platform: str = "toutoulouse", **fields: object) -> ShopRecord:
    return ShopRecord(platform=platform, source_id=source_id, name=name, **fields)  # type: ignore[arg-type]


def test_level_weight_is_log2_m_over_u() -> None:
    level = Level("exact", 0.5, 0.001, at_least=1.0)
    assert level.weight == pytest.approx(math.log2(500))
    assert level.holds(1.0) and not level.holds(0.99)
    with pytest.raises(ValueError):
        Level("bad", 0.0, 0.5)


def test_every_default_comparison_ends_with_a_catch_all_level() -> None:
    names = [c.name for c in DEFAULT_COMPARISONS]
    assert names[:3] == ["name", "address", "distance"]
    assert {"phone", "email", "website", "siret", "category"} <= set(names)
    for comparison in DEFAULT_COMPARISONS:
        last = comparison.levels[-1]
        assert last.at_least is None and last.at_most is None
        assert last.weight < 0 < comparison.levels[0].weight
        assert comparison.level_index(None) == MISSING


def test_missing_fields_are_neutral() -> None:
    prepared = prepare([shop("1", "Boulangerie Ange"), shop("2", "Boulangerie Ange")])
    model = MatchModel()
    detail = model.explain(prepared, 0, 1)
    assert [f for f, d in detail["fields"].items() if d["level"] != "missing"] == ["name"]
    assert detail["match_weight"] == pytest.approx(
        model.prior_weight + DEFAULT_COMPARISONS[0].levels[0].weight, abs=1e-3
    )


def test_probability_and_thresholds() -> None:
    assert probability(0) == 0.5
    assert probability(10) > 0.999 and probability(-100) == 0.0
    assert Thresholds.weight(0.5) == 0
    with pytest.raises(ValueError):
        Thresholds(upper=0.4, lower=0.6)


def test_distance_is_haversine() -> None:
    # One degree along a meridian is 2πR/360 with the mean Earth radius.
    assert haversine_m(43.0, 1.44, 44.0, 1.44) == pytest.approx(111_195, abs=1)
    # 0.001° of longitude at Toulouse's latitude: about 80 m.
    assert haversine_m(43.6, 1.440, 43.6, 1.441) == pytest.approx(80.5, abs=0.5)


def test_estimates_replace_the_defaults() -> None:
    model = MatchModel().with_estimates({"email": [(0.9, 0.5), (0.1, 0.5)]}, prior=0.01)
    email = next(c for c in model.comparisons if c.name == "email")
    assert email.levels[0].weight == pytest.approx(math.log2(0.9 / 0.5))
    assert model.prior == 0.01
    with pytest.raises(ValueError, match="unknown comparison"):
        MatchModel().with_estimates({"colour": []})
    with pytest.raises(ValueError, match="expected 2"):
        MatchModel().with_estimates({"email": [(0.5, 0.5)]})


def test_a_custom_model_drives_the_matcher() -> None:
    a = shop("1", "Boulangerie Ange", phone="05 61 11 11 11")
    b = shop("2", "Boulangerie Ange", platform="clicknco", phone="05 61 11 11 11")
    assert len(match_shops([a, b]).entities) == 1
    names_only = MatchModel(comparisons=DEFAULT_COMPARISONS[:1])
    assert len(match_shops([a, b], model=names_only).entities) == 2


def test_comparison_roles_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        Comparison(
            "x",
            ("names",),
            DEFAULT_COMPARISONS[0].measure,
            (Level("a", 0.5, 0.5),),
            role="sometimes",
        )


def test_a_chain_website_does_not_merge_branches() -> None:
    common = {"website": "https://www.boulangerie-ange.fr", "category": "Boulangerie"}
    a = shop(
        "1",
        "Boulangerie Ange",
        address="45 bd de Strasbourg",
        postcode="31000",
        phone="05 61 11 11 11",
        **common,
    )
    b = shop(
        "2",
        "Boulangerie Ange",
        platform="clicknco",
        address="8 av. de l'URSS",
        postcode="31000",
        phone="05 61 22 22 22",
        **common,
    )
    result = match_shops([a, b])
    assert len(result.entities) == 2
    assert [c.explanation.get("refused") for c in result.candidates] == ["conflict"]


def test_one_street_name_in_two_towns_is_two_addresses() -> None:
    balma = shop("1", "Le Fournil", address="5 av. de Toulouse", postcode="31130", city="Balma")
    colomiers = shop(
        "2", "Le Fournil", address="5 avenue de Toulouse", postcode="31770", city="Colomiers"
    )
    assert explain(balma, colomiers)["fields"]["address"]["level"] == "different"
    short = shop(
        "3", "Le Fournil", address="5 av. de Toulouse", postcode="31520", city="Ramonville"
    )
    long = shop(
        "4",
        "Le Fournil",
        address="5 avenue de Toulouse",
        postcode="31520",
        city="Ramonville-Saint-Agne",
    )
    assert explain(short, long)["fields"]["address"]["level"] == "exact"
    cedex = shop(
        "5", "Le Fournil", address="5 av. de Toulouse", postcode="31068", city="Toulouse Cedex 7"
    )
    town = shop("6", "Le Fournil", address="5 av. de Toulouse", postcode="31000", city="Toulouse")
    assert explain(cedex, town)["fields"]["address"]["level"] == "exact"


def test_weights_round_trip_as_json() -> None:
    model = MatchModel().with_estimates(
        {"phone": [(0.9, 1e-5), (0.05, 1e-4), (0.05, 0.9999)]}, prior=2e-6, source="estimated"
    )
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.source == "estimated" and again.prior == pytest.approx(2e-6)
    for mine, theirs in zip(again.comparisons, model.comparisons, strict=True):
        assert mine.weights == pytest.approx(theirs.weights)
