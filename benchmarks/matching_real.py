"""Matching quality on real labelled sets, through the path a user takes, beside two peers.

    python benchmarks/matching_real.py [--data DIR] [--sets a,b] [--labels 10,25,50]

Each set of ``../shared/data/real/labelled/`` (see ``matching_real_sets.py``) is written as one
CSV file per source in a temporary directory, registered as ``csv`` connectors in the
deployment's ``config/connectors/`` (the documented YAML: ``source_id``, ``name``, ``address``,
``city``, ``postcode``, ``phone``, ``website``, ``lat``/``lon``, ``country``), then the
``aggregator`` command runs in a subprocess with its own ``AGGREGATOR_DATA_DIR``: ``run``, then
``export entities --format csv``. Pairs are scored against the labels: pair precision, recall
and F1, B-cubed F1 where the labels cover the whole set, blocking recall (the share of true pairs
the matcher's blocking proposes, from the same records matched in this process with
``keep_pairs``) and a reliability table (per band of match probability, the share of true
matches) and the patterns of comparison levels with the most errors (``matching_real_patterns``:
true and false pairs per pattern, what the model gives them, how many the entities got wrong).
In the same run: Splink 5 and a simple rapidfuzz rule (``matching_real_peers.py``).
Then labels in active-learning order (:func:`dedupe.labels.informative_pairs`): the pairs the
current model is least sure of are answered from the truth, imported with ``aggregator match
import-labels``, and the run repeated, for 10, 25 and 50 labels in all. The last line is one
JSON object: ``{"sets": {NAME: {"precision", "recall", "f1", "bcubed_f1", "blocking_recall",
"splink_f1", "rule_f1", "f1_labels_10", "f1_labels_25", "f1_labels_50"}}}``, with besides
``calibration_error`` and ``calibration_error_labels_50`` (expected calibration error: the gap
between each band's mean probability and its share of true matches, weighted by its pairs,
without labels and after the last round; the reliability tables are printed above it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Run as a script, this folder would come first on sys.path and its dedupe.py would hide the
# package: the project root goes first, this folder (for the helper modules) last.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
sys.path.append(str(HERE))

from matching_real_deploy import Deployment  # noqa: E402
from matching_real_patterns import best_by_pattern, level_patterns, print_patterns  # noqa: E402
from matching_real_peers import has_coordinates, rule_pairs, splink_pairs  # noqa: E402
from matching_real_sets import LABELLED, SETS, LabelledSet, Pair, pair  # noqa: E402

from dedupe import evaluate  # noqa: E402
from dedupe.labels import informative_pairs  # noqa: E402
from dedupe.score.model import probability  # noqa: E402
from dedupe.state.pairstore import decode  # noqa: E402
from dedupe.state.result import MatchResult  # noqa: E402

#: Bands of match probability for the reliability table.
BANDS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.99, 1.0000001)
#: Patterns of comparison levels printed per set (:mod:`matching_real_patterns`), most errors
#: first.
PATTERNS = 12
#: Precision at which the per-pattern bound on recall is printed (the target of the real sets).
BOUND_PRECISION = 0.95


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def pair_scores(labelled: LabelledSet, predicted: set[Pair]) -> dict[str, float]:
    """Pairwise figures of a set of pairs called the same, over the pairs the labels judge
    (:meth:`LabelledSet.truth`): the others are unknown and count neither way."""
    tp = len(predicted & labelled.same)
    wrong = sum(1 for p in predicted - labelled.same if labelled.truth(*p) is False)
    return _f1(tp, wrong, len(labelled.same) - tp)


def entity_scores(labelled: LabelledSet, entity_of: dict[str, str]) -> dict[str, Any]:
    """Pairwise figures of the exported entities, and B-cubed on complete sets (where two
    records of one platform merged count against it: the labels' clusters keep them apart)."""
    if labelled.complete:
        members: dict[str, list[str]] = {}
        for key, entity in entity_of.items():
            members.setdefault(entity, []).append(key)
        together = {pair(a, b) for keys in members.values() for a in keys for b in keys if a < b}
        bcubed = evaluate(entity_of, labelled.clusters())["bcubed_f1"]
        return {**pair_scores(labelled, together), "bcubed_f1": bcubed}

    def same_entity(p: Pair) -> bool:
        a, b = entity_of.get(p[0]), entity_of.get(p[1])
        return a is not None and a == b

    judged = labelled.same | labelled.different
    return {**pair_scores(labelled, {p for p in judged if same_entity(p)}), "bcubed_f1": None}


def blocking_recall(labelled: LabelledSet, result: MatchResult) -> float:
    """Share of the true pairs among the pairs the matcher's blocking proposed."""
    state = result.state
    assert state.last_pairs is not None, "match with keep_pairs=True"
    keys = state.table.keys
    a, b = decode(state.last_pairs)
    proposed = {pair(keys[x], keys[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    return len(labelled.same & proposed) / len(labelled.same) if labelled.same else 1.0


def judged_pairs(labelled: LabelledSet, result: MatchResult) -> list[Pair]:
    """The pairs figures are judged on: the labelled ones, or on complete sets every proposed
    pair and every true pair, whether or not blocking proposed it (both records matched)."""
    state = result.state
    keys = state.table.keys
    judged = labelled.same | labelled.different
    if labelled.complete:
        a, b = decode(state.last_pairs)
        judged |= {pair(keys[x], keys[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    return [p for p in sorted(judged) if p[0] in state.row_of and p[1] in state.row_of]


def _bands(labelled: LabelledSet, result: MatchResult) -> list[tuple[str, int, float, int]]:
    """Per band of match probability: its name, the judged pairs in it (:func:`judged_pairs`),
    each scored by the run's model, the sum of their probabilities and how many truly match."""
    state = result.state
    pairs = judged_pairs(labelled, result)
    rows_a = [state.row_of[p[0]] for p in pairs]
    rows_b = [state.row_of[p[1]] for p in pairs]
    scored = state.model.score(state.prepared, rows_a, rows_b)  # type: ignore[union-attr]
    scored_pairs = [
        (probability(w), truth)
        for p, w in zip(pairs, scored.weights.tolist(), strict=True)
        if (truth := labelled.truth(*p)) is not None
    ]
    out = []
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        inside = [(p, t) for p, t in scored_pairs if low <= p < high]
        if inside:
            name = f"{low:.2f}-{min(high, 1.0):.2f}"
            out.append((name, len(inside), sum(p for p, _ in inside), sum(t for _, t in inside)))
    return out


def reliability(labelled: LabelledSet, result: MatchResult) -> list[dict[str, Any]]:
    """Per band of match probability: pairs, mean probability, observed share of true matches."""
    return [
        {
            "band": band,
            "pairs": n,
            "mean_probability": round(total / n, 3),
            "observed": round(true / n, 3),
        }
        for band, n, total, true in _bands(labelled, result)
    ]


def calibration_error(labelled: LabelledSet, result: MatchResult) -> float:
    """Expected calibration error: over the bands, |mean probability - share truly matching|,
    weighted by the pairs in each band (0: every band's probability is its match rate)."""
    bands = _bands(labelled, result)
    pairs = sum(n for _, n, _, _ in bands)
    return sum(abs(total - true) for _, _, total, true in bands) / pairs if pairs else 0.0


def print_reliability(title: str, table: list[dict[str, Any]]) -> None:
    """The reliability table, one band a line."""
    print(f"   {title}: band, pairs, mean probability, share truly matching")
    for row in table:
        print(
            f"     {row['band']}  {row['pairs']:>6,}  {row['mean_probability']:.3f}"
            f"  {row['observed']:.3f}"
        )


def next_labels(
    labelled: LabelledSet, result: MatchResult, asked: set[Pair], budget: int
) -> list[tuple[str, str, bool]]:
    """The next ``budget`` pairs in active-learning order, answered from the truth; pairs
    nobody labelled are passed over as a person would answer "unsure"."""
    out: list[tuple[str, str, bool]] = []
    for question in informative_pairs(result, limit=None):
        if len(out) >= budget:
            break
        a, b = str(question.a), str(question.b)
        if (a, b) in asked:
            continue
        asked.add((a, b))
        verdict = labelled.truth(a, b)
        if verdict is not None:
            out.append((a, b, verdict))
    return out


def broken_labels(labels: list[tuple[str, str, bool]], entity_of: dict[str, str]) -> int:
    """Labels the entities contradict: a "same" pair in two entities, a "different" one in
    one."""
    return sum(
        1
        for a, b, same in labels
        if (entity_of.get(a) is not None and entity_of.get(a) == entity_of.get(b)) != same
    )


def _peer(name: str, run: Any, labelled: LabelledSet) -> tuple[float | None, dict[str, Any]]:
    started = time.perf_counter()
    try:
        figures = pair_scores(labelled, run(labelled))
    except ImportError as error:
        return None, {f"{name}_error": f"{error} (pip install -e '.[bench]')"}
    except Exception as error:  # a peer that fails is reported, not fatal
        return None, {f"{name}_error": repr(error)[:300]}
    seconds = round(time.perf_counter() - started, 1)
    rounded = {k: round(v, 4) for k, v in figures.items()}
    return rounded["f1"], {name: rounded, f"{name}_s": seconds}


def run_set(labelled: LabelledSet, workdir: Path, budgets: tuple[int, ...]) -> dict[str, Any]:
    """Every figure of one set; prints a readable summary and a details line on the way."""
    started = time.perf_counter()
    deployment = Deployment(labelled, workdir)
    deployment.run()
    entity_of = deployment.entities()
    ours = entity_scores(labelled, entity_of)
    result = deployment.replica()
    patterns = level_patterns(labelled, result.state, judged_pairs(labelled, result), entity_of)
    details: dict[str, Any] = {
        "records": sum(len(p.rows) for p in labelled.platforms),
        "true_pairs": len(labelled.same),
        "labelled_different": len(labelled.different),
        "replica_agrees_with_export": deployment.replica_agrees(result),
        "weights": result.state.model.source if result.state.model else None,
        "reliability": reliability(labelled, result),
        "patterns": [p.as_dict() for p in patterns[:PATTERNS] if p.errors],
        "best_by_pattern": best_by_pattern(patterns, BOUND_PRECISION),
    }
    figures: dict[str, Any] = {k: round(v, 4) if v is not None else None for k, v in ours.items()}
    figures["calibration_error"] = round(calibration_error(labelled, result), 4)
    figures["blocking_recall"] = round(blocking_recall(labelled, result), 4)
    figures["splink_f1"], extra = _peer("splink", splink_pairs, labelled)
    details.update(extra)
    if has_coordinates(labelled):
        f1, extra = _peer("splink_distance", partial(splink_pairs, distance=True), labelled)
        details.update(extra)
        # The better of Splink's two models is the one to beat.
        if f1 is not None and (figures["splink_f1"] is None or f1 > figures["splink_f1"]):
            figures["splink_f1"] = f1
    figures["rule_f1"], extra = _peer("rule", rule_pairs, labelled)
    details.update(extra)
    asked: set[Pair] = set()
    given = same = 0
    answered: list[tuple[str, str, bool]] = []
    for budget in budgets:
        labels = next_labels(labelled, result, asked, budget - given)
        given += len(labels)
        same += sum(1 for *_, verdict in labels if verdict)
        answered += labels
        deployment.import_labels(labels)
        deployment.run()
        entity_of = deployment.entities()
        scores = entity_scores(labelled, entity_of)
        figures[f"f1_labels_{budget}"] = round(scores["f1"], 4)
        details[f"labels_{budget}"] = {
            "given": given,
            "same": same,
            # Labels are constraints too: "same" pairs must end in one entity, "different"
            # pairs in two. Any label the exported entities contradict is counted here.
            "labels_broken": broken_labels(answered, entity_of),
            **{k: round(v, 4) for k, v in scores.items() if v is not None},
        }
        result = deployment.replica()
        details[f"labels_{budget}"]["weights"] = (
            result.state.model.source if result.state.model else None
        )
    if budgets:
        last = budgets[-1]
        figures[f"calibration_error_labels_{last}"] = round(calibration_error(labelled, result), 4)
        details[f"labels_{last}"]["reliability"] = reliability(labelled, result)
    details["seconds"] = round(time.perf_counter() - started, 1)
    print(f"== {labelled.name}: {details['records']} records, {details['true_pairs']} true pairs")
    print_reliability("reliability, no labels", details["reliability"])
    if budgets:
        print_reliability(f"reliability, {last} labels", details[f"labels_{last}"]["reliability"])
    print_patterns(patterns, PATTERNS)
    bound = details["best_by_pattern"]
    print(
        f"   best decision per pattern: recall {bound['recall_at_precision']:.3f} at precision"
        f" >= {BOUND_PRECISION}, F1 {bound['f1']:.3f}"
    )
    print(json.dumps({"set": labelled.name, **figures}))
    print(json.dumps({"set": labelled.name, "details": details}))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=LABELLED, help="the labelled/ folder")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--labels", default="10,25,50", help="label budgets, increasing")
    args = parser.parse_args(argv)
    budgets = tuple(int(n) for n in args.labels.split(",") if n)
    out: dict[str, Any] = {"sets": {}}
    skipped: dict[str, str] = {}
    started = time.perf_counter()
    for name in (n.strip() for n in args.sets.split(",") if n.strip()):
        if name not in SETS:
            parser.error(f"unknown set {name!r}; known: {', '.join(SETS)}")
        try:
            labelled = SETS[name](args.data)
        except FileNotFoundError as error:
            skipped[name] = f"data absent: {error.filename}"
            print(f"skipping {name}: {skipped[name]}", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="matching-real-") as workdir:
            out["sets"][name] = run_set(labelled, Path(workdir), budgets)
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if skipped:
        out["skipped"] = skipped
    print(json.dumps(out))


if __name__ == "__main__":
    main()
