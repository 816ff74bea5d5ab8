"""Labelled pairs: constraints and training labels; the order in which to ask for them."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from aggregator.models import RecordKey, Verdict
from dedupe import (
    MatchConfig,
    ShopTable,
    decisions_from_labels,
    informative_pairs,
    match_table,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from dedupe_data import generate  # noqa: E402

sys.path.remove(str(BENCHMARKS))

LABELLED = Path(
    os.environ.get("MATCHING_LABELLED")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "labelled"
)


@pytest.fixture(scope="module")
def data() -> Any:
    return generate(3000, seed=4)


def test_labels_become_decisions() -> None:
    decisions = decisions_from_labels(
        [("a:1", "b:1", True), (RecordKey(platform="a", source_id="2"), "b:2", False)],
        reviewer="import",
    )
    assert [d.verdict for d in decisions] == [Verdict.must_link, Verdict.cannot_link]
    assert decisions[1].a == RecordKey(platform="a", source_id="2")
    assert {d.reviewer for d in decisions} == {"import"}
    with pytest.raises(ValueError, match="platform:source_id"):
        decisions_from_labels([("nokey", "b:1", True)])


def test_informative_pairs_come_closest_to_the_threshold_first(data: Any) -> None:
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig())
    asked = informative_pairs(result, limit=None)
    assert asked, "a run of 3,000 records has pairs near the threshold"
    values = [p.value for p in asked]
    assert values == sorted(values, reverse=True)
    assert all(p.effect >= 1 for p in asked)
    # Far from the threshold means little to learn: the first pairs are the uncertain ones.
    top = asked[: max(1, len(asked) // 10)]
    assert min(abs(p.probability - 0.9) for p in top) < 0.1
    # Decided pairs are not asked again.
    first = asked[0]
    decided = decisions_from_labels([(first.a, first.b, not first.same_entity)])
    again = match_table(ShopTable(dict(data.columns)), decided, config=MatchConfig())
    assert (first.a, first.b) not in {(p.a, p.b) for p in informative_pairs(again, limit=None)}


def test_labels_are_obeyed_and_refit_the_weights(data: Any) -> None:
    table = ShopTable(dict(data.columns))
    result = match_table(table, config=MatchConfig())
    keys = result.state.table.keys
    truth = {keys[r]: data.truth[r] for r in range(len(keys))}
    labels = [
        (str(p.a), str(p.b), truth[str(p.a)] == truth[str(p.b)])
        for p in informative_pairs(result, limit=60)
    ]
    # Add known non-matches enough to inform u as well.
    rows = list(range(0, len(keys) - 1, 37))
    labels += [(keys[r], keys[r + 1], False) for r in rows if truth[keys[r]] != truth[keys[r + 1]]]
    refit = match_table(table, decisions_from_labels(labels), config=MatchConfig())
    assert refit.state.model.source.startswith("fitted"), refit.state.model.source
    assert refit.state.model.to_dict() != result.state.model.to_dict()
    entity = {str(k): e for k, e in refit.assignments().items()}
    for a, b, same in labels:
        assert (entity[a] == entity[b]) is same, (a, b, same)


@pytest.mark.real_data
@pytest.mark.skipif(not LABELLED.is_dir(), reason=f"labelled real data absent: {LABELLED}")
def test_labelled_real_sets_block_and_match() -> None:
    spec = importlib.util.spec_from_file_location(
        "matching_labelled", BENCHMARKS / "matching_labelled.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.ROOT = LABELLED
    figures = bench.run_set("locu_foursquare_nyc")
    assert figures["blocking_recall"] >= 0.98, figures
    assert figures["precision"] >= 0.97 and figures["recall"] >= 0.94, figures
    yelp = bench.run_set("geoer_osm_yelp_test")
    assert yelp["blocking_recall"] >= 0.99, yelp
    assert yelp["f1"] >= 0.85, yelp


def test_questions_are_those_an_answer_could_overturn_and_of_many_kinds(data: Any) -> None:
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig())
    asked = informative_pairs(result, limit=None)
    undiscounted = []
    for p in asked:
        # A merged pair is overturned by "different" (1 - p), one kept apart by "same" (p).
        flip = 1.0 - p.probability if p.same_entity else p.probability
        alone = flip * math.log2(1 + p.effect)
        assert p.value <= alone + 1e-5
        undiscounted.append(p.value >= alone - 1e-5)
    # Pairs of one pattern of evidence after the first are worth less: some are discounted,
    # and the first question of each pattern is not.
    assert undiscounted[0] and not all(undiscounted)


def test_pairs_scored_below_the_review_threshold_are_asked_when_the_run_kept_them(
    data: Any,
) -> None:
    table = ShopTable(dict(data.columns))
    stored_only = informative_pairs(match_table(table, config=MatchConfig()), limit=None)
    assert all(p.probability >= 0.5 for p in stored_only)
    kept = match_table(ShopTable(dict(data.columns)), config=MatchConfig(keep_pairs=True))
    asked = informative_pairs(kept, limit=None)
    lower = [p for p in asked if p.probability < 0.5]
    assert lower, "3,000 generated records have candidate pairs scored 0.1-0.5"
    assert all(p.probability >= 0.1 for p in lower)
    # The stored pairs are asked as before; the lower ones come in beside them.
    assert {(p.a, p.b) for p in stored_only} <= {(p.a, p.b) for p in asked}
    # Valued as any other pair: a pair kept apart at p is overturned by "same" with chance p
    # (one at 0.4 comes before a merged pair at 0.95), one merged through others by 1 - p.
    for p in lower:
        flip = 1.0 - p.probability if p.same_entity else p.probability
        assert p.value <= flip * math.log2(1 + p.effect) + 1e-5


def _kind(result: Any, question: Any) -> tuple:
    """A question's pattern of evidence (comparison levels) and side (merged or apart)."""
    s = result.state
    rows = [s.row_of[str(question.a)]], [s.row_of[str(question.b)]]
    return (*s.model.score(s.prepared, *rows).levels[:, 0].tolist(), question.same_entity)


def test_a_kind_of_pair_answered_once_is_asked_after_the_kinds_nobody_answered(
    data: Any,
) -> None:
    config = MatchConfig(keep_pairs=True)
    result = match_table(ShopTable(dict(data.columns)), config=config)
    asked = informative_pairs(result, limit=None)
    kinds = [_kind(result, q) for q in asked]
    # The first question whose kind has other pairs waiting, answered as the run decided it
    # (same weights: the kinds stay what they were).
    k = next(i for i, kind in enumerate(kinds) if kinds.count(kind) > 1)
    answered, kind = asked[k], kinds[k]
    decided = decisions_from_labels([(answered.a, answered.b, answered.same_entity)])
    fixed = MatchConfig(model=result.state.model, keep_pairs=True)
    again = match_table(ShopTable(dict(data.columns)), decided, config=fixed)
    after = informative_pairs(again, limit=None)
    siblings = [q for q in after if _kind(again, q) == kind]
    assert siblings and (answered.a, answered.b) not in {(q.a, q.b) for q in after}
    # Pushed back behind every kind nobody answered.
    assert after[-len(siblings) :] == siblings
    for rank, q in enumerate(siblings):
        flip = 1.0 - q.probability if q.same_entity else q.probability
        alone = flip * math.log2(1 + q.effect)
        # The answer counts as one more pair of the kind before each of them.
        assert q.value == pytest.approx(alone / (2 + rank), rel=1e-3, abs=1e-5)
    # Kinds nobody answered keep their worth: the first question, of another kind, is valued
    # alone, as before the answer.
    other = after[0]
    flip = 1.0 - other.probability if other.same_entity else other.probability
    assert other.value == pytest.approx(flip * math.log2(1 + other.effect), rel=1e-3, abs=1e-5)
