"""Weights estimated without labels (EM), and the sanity checks that refuse a drifted estimate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dedupe.score.estimate as estimate
import dedupe.score.fit as fit
from aggregator.models import Decision, Verdict
from benchmarks.dedupe_data import generate
from dedupe import MatchConfig, MatchModel, ShopTable, evaluate, match_table
from dedupe.score.probes import failed_probes

N = 12_000


@pytest.fixture(scope="module")
def data() -> Any:
    return generate(N, seed=9)


def run(data: Any, **config: Any) -> tuple[Any, dict[str, float]]:
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig(**config))
    state = result.state
    predicted = {state.table.keys[r]: state.entity_of[r] for r in range(len(state.table))}
    truth = {state.table.keys[r]: data.truth[r] for r in range(len(state.table))}
    return result, evaluate(predicted, truth)


def test_weights_are_estimated_from_the_data(data: Any) -> None:
    result, scores = run(data, estimate=True)
    model = result.state.model
    assert model.source == "estimated"
    assert scores["f1"] >= 0.98, scores
    by_name = {c.name: c for c in model.comparisons}
    # Agreement weighs for a match, disagreement against; a shared phone weighs more than a
    # shared postcode; the prior is the chance that two random records match (tiny).
    for comparison in model.comparisons:
        assert comparison.weights[0] > 0 > comparison.weights[-1], comparison.name
    assert by_name["phone"].weights[0] > by_name["postcode"].weights[0]
    assert model.prior < 1e-3
    assert not failed_probes(model)
    assert result.explain(*sorted(result.state.table.keys[:2]))["weights"] == "estimated"


def test_a_drifted_estimate_is_refused_and_the_general_fit_used(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the plausible bounds, random-pair u counts "same postcode", "same kind" and
    # "near" as independent evidence: EM's model merges neighbours of a kind (the drift the
    # Splink note measured). The probes catch it; the general fit, which keeps disagreement
    # and context within the a priori weights, serves instead.
    monkeypatch.setattr(estimate, "PLAUSIBLE", {})
    result, scores = run(data, estimate=True)
    source = result.state.model.source
    assert source.startswith("fitted (estimate refused"), source
    assert "postcode exact, category exact" in source
    assert not failed_probes(result.state.model)
    assert scores["f1"] >= 0.98, scores


def test_when_nothing_can_be_learnt_the_defaults_serve(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(estimate, "PLAUSIBLE", {})
    monkeypatch.setattr(fit, "MIN_RECORDS", 10**9)
    result, scores = run(data, estimate=True)
    source = result.state.model.source
    assert source.startswith("a priori (estimate refused"), source
    assert result.state.model.comparisons == MatchModel().comparisons
    assert scores["f1"] >= 0.98, scores


def test_probes_reject_a_model_that_merges_same_postcode_same_kind() -> None:
    drifted = MatchModel().with_estimates(
        {"postcode": [(0.99, 0.0001), (0.005, 0.3), (0.005, 0.6997)]}, prior=1e-3
    )
    problems = failed_probes(drifted)
    assert any("postcode exact, category exact" in p for p in problems), problems
    assert not failed_probes(MatchModel())


def test_small_runs_fit_their_own_weights(data: Any) -> None:
    # 2,000 records: too few for the identifier sessions, enough for the general fit; its
    # prior is that of 2,000 records, not of a million.
    columns = {k: v[:2000] for k, v in data.columns.items()}
    result = match_table(ShopTable(columns))  # estimate="auto"
    model = result.state.model
    assert model.source.startswith("fitted"), model.source
    assert 1e-5 < model.prior < 1e-2
    assert not failed_probes(model)
    state = result.state
    predicted = {state.table.keys[r]: state.entity_of[r] for r in range(len(state.table))}
    truth = {state.table.keys[r]: data.truth[r] for r in range(len(state.table))}
    assert evaluate(predicted, truth)["f1"] >= 0.98


def test_tiny_runs_keep_the_a_priori_weights(data: Any) -> None:
    columns = {k: v[:200] for k, v in data.columns.items()}
    result = match_table(ShopTable(columns))
    assert result.state.model.source.startswith("a priori"), result.state.model.source


def test_decisions_refine_the_estimate(data: Any) -> None:
    result, _ = run(data, estimate=False)
    state = result.state
    groups: dict[str, list[str]] = {}
    for row in range(len(state.table)):
        groups.setdefault(state.entity_of[row], []).append(state.table.keys[row])
    pairs = [keys[:2] for keys in groups.values() if len(keys) >= 2][:40]
    decisions = [
        Decision.model_validate({"a": a, "b": b, "verdict": Verdict.must_link, "reviewer": "cci"})
        for a, b in (
            (dict(zip(("platform", "source_id"), x.split(":", 1), strict=True)) for x in pair)
            for pair in pairs
        )
    ]
    refined = match_table(
        ShopTable(dict(data.columns)), decisions, config=MatchConfig(estimate=True)
    )
    assert refined.state.model.source == "estimated"
    assert refined.stats["decisions_applied"] == len(decisions)
    # A model that gets the decided pairs wrong (where the defaults got them right) is refused.
    levels = np.zeros((len(MatchModel().comparisons), 6), dtype=np.uint8)
    truth = np.ones(6)
    hopeless = MatchModel(prior=1e-30)
    assert not estimate._decisions_ok(hopeless, MatchModel(), (levels, truth))
    assert estimate._decisions_ok(MatchModel(), MatchModel(), (levels, truth))
