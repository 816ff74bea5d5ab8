"""Pairwise and B-cubed scores, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from aggregator.models import RecordKey
from dedupe import evaluate


def test_scores_worked_by_hand() -> None:
    truth = {"a": "1", "b": "1", "c": "2", "d": "2"}
    predicted = {"a": "x", "b": "x", "c": "x", "d": "y", "z": "x"}  # "z" is not in truth
    scores = evaluate(predicted, truth)
    assert scores["true_pairs"] == 2 and scores["predicted_pairs"] == 3
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(0.4)
    assert scores["bcubed_precision"] == pytest.approx(2 / 3)
    assert scores["bcubed_recall"] == pytest.approx(3 / 4)
    assert scores["bcubed_f1"] == pytest.approx(2 * (2 / 3) * 0.75 / (2 / 3 + 0.75))


def test_perfect_and_missing_predictions() -> None:
    truth = {RecordKey(platform="p", source_id=str(i)): str(i // 2) for i in range(6)}
    perfect = {k: "e" + v for k, v in truth.items()}
    assert evaluate(perfect, truth)["f1"] == 1.0
    assert evaluate(perfect, truth)["bcubed_f1"] == 1.0
    # Nothing predicted: every record alone, no pair found, nothing wrongly merged.
    empty = evaluate({}, truth)
    assert empty["precision"] == 1.0 and empty["recall"] == 0.0 and empty["f1"] == 0.0
    assert empty["bcubed_precision"] == 1.0 and empty["bcubed_recall"] == 0.5
    everything = evaluate(dict.fromkeys(truth, "one"), truth)
    assert everything["recall"] == 1.0 and everything["precision"] == pytest.approx(3 / 15)


def test_singletons_only() -> None:
    truth = {"a": "1", "b": "2"}
    scores = evaluate({"a": "x", "b": "y"}, truth)
    assert scores["f1"] == 1.0 and scores["bcubed_f1"] == 1.0
    assert evaluate({}, {})["records"] == 0
