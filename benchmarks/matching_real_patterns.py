"""Where the matcher errs on a labelled set, by pattern of comparison levels.

A Fellegi–Sunter model adds one weight per comparison level: every pair with the same levels
(name "similar", address "exact", phone "different"...) gets the same score, whatever the
truth. Counting the judged pairs of each pattern, how many truly match, what the model gives
them and how many the exported entities got wrong shows which patterns no per-level weight can
separate (true and false pairs mixed in one pattern) and which are only weighted wrong (a
pattern that is nearly always one answer, scored the other way): the first need other evidence
or a level that combines two fields, the second better weights. ``matching_real.py`` prints
the patterns with the most errors per set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matching_real_sets import LabelledSet, Pair

from dedupe.score.comparisons import MISSING
from dedupe.score.model import probability


@dataclass
class Pattern:
    """The judged pairs sharing one combination of comparison levels."""

    levels: str
    true: int = 0
    false: int = 0
    probability_sum: float = 0.0
    missed: int = 0  # true pairs the entities keep apart
    merged_wrong: int = 0  # false pairs the entities put together

    @property
    def errors(self) -> int:
        return self.missed + self.merged_wrong

    def as_dict(self) -> dict[str, Any]:
        pairs = self.true + self.false
        return {
            "levels": self.levels,
            "true": self.true,
            "false": self.false,
            "mean_probability": round(self.probability_sum / pairs, 3) if pairs else None,
            "missed": self.missed,
            "merged_wrong": self.merged_wrong,
        }


def level_patterns(
    labelled: LabelledSet, state: Any, pairs: list[Pair], entity_of: dict[str, str]
) -> list[Pattern]:
    """The patterns of the judged ``pairs`` (both records in ``state``), scored by the state's
    model, most errors first; ``entity_of`` (record key -> entity) says which were merged."""
    model = state.model
    pairs = [p for p in pairs if p[0] in state.row_of and p[1] in state.row_of]
    rows_a = [state.row_of[p[0]] for p in pairs]
    rows_b = [state.row_of[p[1]] for p in pairs]
    scored = model.score(state.prepared, rows_a, rows_b)
    out: dict[str, Pattern] = {}
    for k, (a, b) in enumerate(pairs):
        truth = labelled.truth(a, b)
        if truth is None:
            continue
        label = " ".join(
            f"{c.name}={c.levels[index].label}"
            for c, index in zip(model.comparisons, scored.levels[:, k].tolist(), strict=True)
            if index != MISSING
        )
        pattern = out.setdefault(label, Pattern(label or "(nothing compared)"))
        merged = entity_of.get(a) is not None and entity_of.get(a) == entity_of.get(b)
        pattern.probability_sum += probability(float(scored.weights[k]))
        if truth:
            pattern.true += 1
            pattern.missed += not merged
        else:
            pattern.false += 1
            pattern.merged_wrong += merged
    return sorted(out.values(), key=lambda p: (-p.errors, -(p.true + p.false), p.levels))


def best_by_pattern(patterns: list[Pattern], min_precision: float) -> dict[str, float]:
    """The highest recall any decision made per pattern reaches at ``min_precision`` or more,
    and the best F1 of such decisions.

    Any weighting of these levels, combined levels (name × address, phone × address...)
    included, gives every pair of a pattern the same score, so it calls patterns the same in
    order of their share of true pairs at best: this bounds what weights alone can reach (the
    name-frequency adjustment and clustering aside). Where the bound is short of a target, the
    comparisons need finer levels or other evidence, not other weights."""
    total = sum(p.true for p in patterns)
    tp = fp = 0
    recall_at = best_f1 = 0.0
    for p in sorted(patterns, key=lambda p: (-p.true / (p.true + p.false), -p.true)):
        tp, fp = tp + p.true, fp + p.false
        precision, recall = tp / (tp + fp), tp / total if total else 1.0
        if precision >= min_precision:
            recall_at = max(recall_at, recall)
        if precision + recall:
            best_f1 = max(best_f1, 2 * precision * recall / (precision + recall))
    return {"recall_at_precision": round(recall_at, 4), "f1": round(best_f1, 4)}


def print_patterns(patterns: list[Pattern], top: int) -> None:
    """The ``top`` patterns with errors, one a line."""
    print("   patterns with most errors: true, false, mean probability, missed, merged wrong")
    for p in patterns[:top]:
        if not p.errors:
            break
        row = p.as_dict()
        print(
            f"     {p.true:>5} {p.false:>5}  {row['mean_probability']:.3f}"
            f"  {p.missed:>4} {p.merged_wrong:>4}  {p.levels}"
        )
