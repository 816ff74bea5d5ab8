"""Labels correct the weights: a shrunk logistic regression with the fitted weight as offset."""

from __future__ import annotations

import numpy as np

from dedupe import MatchModel
from dedupe.score.comparisons import MISSING
from dedupe.score.learn import MIN_LABELS, learn_from_labels

MODEL = MatchModel(prior=1e-3)
NAMES = [c.name for c in MODEL.comparisons]
UPPER = float(np.log2(0.9 / 0.1))


def _pairs(rows: list[dict[str, str]]) -> np.ndarray:
    """Levels (comparisons x pairs) of pairs described by level labels; others missing."""
    levels = np.full((len(NAMES), len(rows)), MISSING, dtype=np.uint8)
    for k, row in enumerate(rows):
        for name, label in row.items():
            comparison = MODEL.comparison(name)
            levels[NAMES.index(name), k] = [lv.label for lv in comparison.levels].index(label)
    return levels


def _weight(model: MatchModel, row: dict[str, str]) -> float:
    total = model.prior_weight
    for name, label in row.items():
        total += next(lv.weight for lv in model.comparison(name).levels if lv.label == label)
    return total


# "Same name within 200 m, nothing else known": the a priori weights leave it in review.
NEAR = {"name": "exact", "distance": "<=200m"}
# "Similar name, same address": a merge.
SAME_ADDRESS = {"name": "similar>=0.9", "address": "exact"}


def test_labels_that_contradict_the_weights_move_them_and_decide_better() -> None:
    assert _weight(MODEL, NEAR) < UPPER
    rows = [NEAR] * 60 + [SAME_ADDRESS] * 10 + [{"name": "different", "distance": "farther"}] * 10
    truth = np.array([1.0] * 59 + [0.0] + [1.0] * 10 + [0.0] * 10)
    # A few such answers move the level weights too little to change a decision: the levels
    # stay, but the labels move the merge threshold to where they decide the pattern right.
    some = np.r_[np.arange(20), np.arange(60, 80)]
    few = learn_from_labels(MODEL, (_pairs(rows)[:, some], truth[some]), centre=UPPER)
    assert "corrected" not in few.source and "threshold moved" in few.source
    for before, after in zip(MODEL.comparisons, few.comparisons, strict=True):
        assert before.weights == after.weights
    assert _weight(few, NEAR) >= UPPER
    learnt = learn_from_labels(MODEL, (_pairs(rows), truth), centre=UPPER)
    assert learnt.source.endswith("corrected by 80 labels")
    # 59 of 60 such pairs match: the pattern now merges; the others keep their side.
    assert _weight(learnt, NEAR) >= UPPER > _weight(MODEL, NEAR)
    assert _weight(learnt, SAME_ADDRESS) >= UPPER
    assert _weight(learnt, {"name": "different", "distance": "farther"}) < 0
    # Shrunk towards the fitted weights: no level moves by more than a few bits.
    for before, after in zip(MODEL.comparisons, learnt.comparisons, strict=True):
        assert max(abs(a - b) for a, b in zip(before.weights, after.weights, strict=True)) < 4


def test_few_labels_or_labels_that_agree_with_the_weights_change_nothing() -> None:
    # Fewer labels than MIN_LABELS, even all contradicting the weights: no correction.
    few = [NEAR] * (MIN_LABELS - 5) + [SAME_ADDRESS] * 4
    truth = np.array([1.0] * (MIN_LABELS - 5) + [0.0] * 4)
    assert learn_from_labels(MODEL, (_pairs(few), truth), centre=UPPER) is MODEL
    rows = [NEAR] * 30 + [SAME_ADDRESS] * 10
    # Labels that say what the weights say: nothing to correct.
    agreeing = np.array([0.0] * 30 + [1.0] * 10)
    assert learn_from_labels(MODEL, (_pairs(rows), agreeing), centre=UPPER) is MODEL
    # One verdict only, or no labels at all.
    assert learn_from_labels(MODEL, (_pairs(rows), np.ones(40)), centre=UPPER) is MODEL
    assert learn_from_labels(MODEL, None, centre=UPPER) is MODEL


def test_the_offset_is_the_pairs_weight_as_scored_frequency_included() -> None:
    # 60 "same name within 200 m" pairs, 59 of them matches: on the level weights alone the
    # pattern stays under the threshold and the labels move it up (the first test).
    rows = [NEAR] * 60 + [SAME_ADDRESS] * 10 + [{"name": "different", "distance": "farther"}] * 10
    truth = np.array([1.0] * 59 + [0.0] + [1.0] * 10 + [0.0] * 10)
    levels = _pairs(rows)
    assert learn_from_labels(MODEL, (levels, truth), centre=UPPER) is not MODEL
    # Scored with a term the levels do not show (a rare shared name word: +2.5 bits here), the
    # same pairs already sit where their labels say: nothing left to correct.
    scored = np.array([_weight(MODEL, row) for row in rows])
    scored[:60] += 2.5 + UPPER - _weight(MODEL, NEAR)
    assert learn_from_labels(MODEL, (levels, truth, scored), centre=UPPER) is MODEL


def test_labels_can_weaken_the_name_frequency_adjustment_and_the_model_keeps_it() -> None:
    # "Same name within 200 m": half share a common word (-3 bits), half a rare one (+2.5);
    # the labels say both halves are the same shop alike: the adjustment is worth less here.
    rows = [NEAR] * 60 + [SAME_ADDRESS] * 10 + [{"name": "different", "distance": "farther"}] * 10
    truth = np.array([1.0] * 60 + [1.0] * 10 + [0.0] * 10)
    frequency = np.r_[np.tile([-3.0, 2.5], 30), np.zeros(20)]
    scored = np.array([_weight(MODEL, row) for row in rows]) + frequency
    learnt = learn_from_labels(MODEL, (_pairs(rows), truth, scored), centre=UPPER)
    assert learnt.source.endswith("corrected by 80 labels")
    assert 0.0 <= learnt.frequency_scale < 1.0
    # Saved and read back with the weights.
    assert MatchModel.from_dict(learnt.to_dict()).frequency_scale == learnt.frequency_scale
    # Without a frequency term in the scores there is nothing to scale.
    plain = learn_from_labels(MODEL, (_pairs(rows), truth), centre=UPPER)
    assert plain.frequency_scale == 1.0


def test_a_scaled_frequency_adjustment_scores_and_prunes_exactly() -> None:
    from dataclasses import replace

    from aggregator.models import ShopRecord
    from dedupe.prepare.columns_of import prepare
    from dedupe.score.frequency import MIN_NAMES, UNSEEN, NameFrequencies, bits_of

    frequencies = NameFrequencies.of_names([f"other {i}" for i in range(MIN_NAMES)])
    records = [ShopRecord(platform="osm", source_id=str(i), name="Ange") for i in (1, 2)]
    prepared = prepare(records)
    plain = MatchModel().score_one(prepared, 0, 1)[0]
    for scale in (0.5, 2.0):
        model = replace(MatchModel(name_frequencies=frequencies), frequency_scale=scale)
        weight = model.score_one(prepared, 0, 1)[0]
        assert abs(weight - (plain + scale * bits_of(UNSEEN))) < 1e-9
        # The pruning bound counts the scaled term: a pair that reaches the bound is kept.
        assert len(model.score(prepared, [0], [1], prune_below=weight - 1e-6)) == 1
        assert len(model.score(prepared, [0], [1], prune_below=weight + 1e-6)) == 0
        assert abs(model.explain(prepared, 0, 1)["match_weight"] - weight) < 0.002


# "Same name within 50 m": the a priori weights merge it, just above the threshold.
CLOSE = {"name": "exact", "distance": "<=50m"}
OTHERS = [SAME_ADDRESS] * 8 + [{"name": "different", "distance": "farther"}] * 8
OTHERS_TRUTH = [1.0] * 8 + [0.0] * 8


def test_labels_near_the_threshold_move_it_to_where_they_are_decided_right() -> None:
    # Kept apart at 1.2 bits, but three in four of these pairs are one shop: merged now.
    truth = np.array(([1.0, 1.0, 1.0, 0.0] * 6) + OTHERS_TRUTH)
    learnt = learn_from_labels(MODEL, (_pairs([NEAR] * 24 + OTHERS), truth), centre=UPPER)
    assert "threshold moved +" in learnt.source and learnt.source.endswith("by 40 labels")
    assert _weight(learnt, NEAR) >= UPPER > _weight(MODEL, NEAR)
    assert _weight(learnt, SAME_ADDRESS) >= UPPER
    assert _weight(learnt, {"name": "different", "distance": "farther"}) < 0
    # Merged at 3.9 bits, but three in four are two shops: kept apart now.
    assert _weight(MODEL, CLOSE) >= UPPER
    truth = np.array(([0.0, 0.0, 0.0, 1.0] * 6) + OTHERS_TRUTH)
    learnt = learn_from_labels(MODEL, (_pairs([CLOSE] * 24 + OTHERS), truth), centre=UPPER)
    # (Here the labels contradict the weights enough for the correction of the levels.)
    assert learnt.source.endswith("by 40 labels")
    assert _weight(learnt, CLOSE) < UPPER
    assert _weight(learnt, SAME_ADDRESS) >= UPPER
    # Saved and read back with the weights: the shift is the prior's.
    assert MatchModel.from_dict(learnt.to_dict()).prior == learnt.prior < MODEL.prior


def test_a_threshold_the_labels_hardly_support_is_not_moved() -> None:
    # Three pairs in four of one kind match: moving the threshold decides two more right,
    # fewer than MIN_RIGHT.
    truth = np.array([1.0, 1.0, 1.0, 0.0] + OTHERS_TRUTH + [1.0] * 2 + [0.0] * 2)
    rows = [NEAR] * 4 + OTHERS + [SAME_ADDRESS] * 2 + [{"name": "different"}] * 2
    assert learn_from_labels(MODEL, (_pairs(rows), truth), centre=UPPER) is MODEL
    # Labels split evenly on the kind under the threshold: no side is better.
    truth = np.array([1.0, 0.0] * 12 + OTHERS_TRUTH)
    assert learn_from_labels(MODEL, (_pairs([NEAR] * 24 + OTHERS), truth), centre=UPPER) is MODEL
