"""The real-data harness end to end, on a small generated set in the layout of a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "benchmarks"))  # last: benchmarks/dedupe.py must not hide dedupe

from matching_real import broken_labels, entity_scores, pair_scores  # noqa: E402
from matching_real_patterns import Pattern, best_by_pattern  # noqa: E402
from matching_real_sets import LabelledSet, Platform, pair  # noqa: E402

# (name, street, phone, postcode) of venues listed by both sources; the second source writes
# them otherwise, as the real ones do.
BOTH = [
    ("Rosa Mexicano", "61 Columbus Ave.", "2129773302", "10023"),
    ("Chipotle Mexican Grill", "125 East 23rd St.", "2126736904", "10010"),
    ("Honey Salon", "174 Saint Nicholas Ave.", "2126630100", "10026"),
    ("Joe's Pizza", "7 Carmine St.", "2123661182", "10014"),
    ("Katz's Delicatessen", "205 East Houston St.", "2122542246", "10002"),
]
ONLY_A = [
    ("Blue Ribbon Bakery", "35 Downing St.", "2123370404", "10014"),
    ("Grey Dog", "49 Carmine St.", "2129652030", "10014"),
]
ONLY_B = [
    ("Corner Bistro", "331 West 4th St.", "2122429502", "10014"),
    ("Mamoun's Falafel", "119 Macdougal St.", "2126748685", "10012"),
]


def _record(prefix: str, i: int, venue: tuple[str, str, str, str], styled: bool) -> dict:
    name, street, phone, postcode = venue
    if styled:  # the second source: "(212) 977-3302", "Street", a branch suffix
        phone = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
        street = street.replace("St.", "Street").replace("Ave.", "Avenue")
        name = f"{name} - Manhattan" if i % 2 else name
    return {
        "id": f"{prefix}{i}", "name": name, "street_address": street, "phone": phone,
        "postal_code": postcode, "locality": "New York", "country": "United States",
        "latitude": 40.7 + i / 1000, "longitude": -73.99 + i / 1000, "website": "",
    }  # fmt: skip


def write_set(folder: Path) -> None:
    target = folder / "locu_foursquare_nyc"
    target.mkdir(parents=True)
    locu = [_record("l", i, v, False) for i, v in enumerate(BOTH + ONLY_A)]
    square = [_record("f", i, v, True) for i, v in enumerate(BOTH + ONLY_B)]
    (target / "locu_train.json").write_text(json.dumps(locu))
    (target / "foursquare_train.json").write_text(json.dumps(square))
    matches = "".join(f"l{i},f{i}\n" for i in range(len(BOTH)))
    (target / "matches_train.csv").write_text("locu_id,foursquare_id\n" + matches)


def test_harness_prints_every_figure_for_a_set_run_through_the_cli(tmp_path: Path) -> None:
    write_set(tmp_path)
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "benchmarks" / "matching_real.py"), "--data",
            str(tmp_path), "--sets", "locu_foursquare_nyc,overture_places_3k_pairs",
            "--labels", "1,2",
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    last = json.loads(lines[-1])
    figures = last["sets"]["locu_foursquare_nyc"]
    assert set(figures) >= {
        "precision", "recall", "f1", "bcubed_f1", "blocking_recall", "splink_f1", "rule_f1",
        "f1_labels_1", "f1_labels_2",
    }  # fmt: skip
    for name in ("precision", "recall", "f1", "bcubed_f1", "blocking_recall", "rule_f1"):
        assert 0.0 <= figures[name] <= 1.0, (name, figures)
    # Five true pairs, written otherwise but with the same phone digits: found and proposed.
    assert figures["blocking_recall"] == 1.0
    assert figures["recall"] >= 0.8 and figures["precision"] == 1.0, figures
    assert "overture_places_3k_pairs" in last["skipped"]  # absent from this folder
    details = next(json.loads(x) for x in lines if '"details"' in x)["details"]
    assert details["replica_agrees_with_export"] is True
    assert details["records"] == 14 and details["true_pairs"] == 5
    # The labels given are constraints: the exported entities obey every one of them.
    assert details["labels_2"]["given"] >= 1 and details["labels_2"]["labels_broken"] == 0
    assert sum(band["pairs"] for band in details["reliability"]) >= 5
    # Patterns of levels: only those with errors are listed, and the bound is a recall.
    assert all(p["missed"] + p["merged_wrong"] > 0 for p in details["patterns"])
    assert "best decision per pattern" in done.stdout
    assert 0.0 <= details["best_by_pattern"]["recall_at_precision"] <= 1.0
    # Calibration: the reliability tables are printed, and their weighted gap is the error.
    assert "reliability, no labels" in done.stdout and "reliability, 2 labels" in done.stdout
    for table, error in (
        (details["reliability"], figures["calibration_error"]),
        (details["labels_2"]["reliability"], figures["calibration_error_labels_2"]),
    ):
        pairs = sum(band["pairs"] for band in table)
        gaps = sum(
            band["pairs"] * abs(band["mean_probability"] - band["observed"]) for band in table
        )
        assert 0.0 <= error <= 1.0 and abs(error - gaps / pairs) < 0.002, (error, table)


def _pair_set() -> LabelledSet:
    a, b = Platform("a", "FR"), Platform("b", "FR")
    for i in range(3):
        a.rows[str(i)] = {"source_id": str(i)}
        b.rows[str(i)] = {"source_id": str(i)}
    same = {pair("a:0", "b:0"), pair("a:1", "b:1")}
    return LabelledSet("pairs", [a, b], same, {pair("a:2", "b:2")}, complete=False)


def test_pairs_nobody_labelled_count_neither_way() -> None:
    labelled = _pair_set()
    assert labelled.truth("b:0", "a:0") is True and labelled.truth("a:0", "b:1") is None
    # a:0-b:1 is unknown: not a false positive; a:2-b:2 labelled different is one.
    scores = pair_scores(labelled, {pair("a:0", "b:0"), pair("a:0", "b:1"), pair("a:2", "b:2")})
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5
    entities = {"a:0": "x", "b:0": "x", "a:1": "y", "b:1": "z", "a:2": "w", "b:2": "v"}
    assert entity_scores(labelled, entities) == {
        "precision": 1.0, "recall": 0.5, "f1": 2 / 3, "bcubed_f1": None,
    }  # fmt: skip


def test_labels_the_entities_contradict_are_counted() -> None:
    entities = {"a:0": "x", "b:0": "x", "a:1": "y", "b:1": "z", "a:2": "w", "b:2": "w"}
    labels = [("a:0", "b:0", True), ("a:1", "b:1", False), ("a:2", "b:2", True)]
    assert broken_labels(labels, entities) == 0
    # "same" split into two entities, "different" merged into one: both broken.
    labels = [("a:1", "b:1", True), ("a:2", "b:2", False), ("a:0", "b:0", True)]
    assert broken_labels(labels, entities) == 2
    # A record the export does not hold cannot be with anything.
    assert broken_labels([("a:9", "b:9", True), ("a:9", "b:8", False)], entities) == 1


def test_the_per_pattern_bound_calls_patterns_in_order_of_their_share_of_true_pairs() -> None:
    patterns = [
        Pattern("name=exact phone=exact", true=90, false=0),
        Pattern("name=similar address=exact", true=6, false=4),
        Pattern("name=different", true=4, false=96),
    ]
    bound = best_by_pattern(patterns, min_precision=0.95)
    # The pure pattern alone: recall 0.9 at precision 1; adding the mixed one costs precision
    # (96 / 100 = 0.96, still enough): recall 0.96.
    assert bound["recall_at_precision"] == 0.96
    assert bound["f1"] == round(2 * 0.96 * 0.96 / 1.92, 4)
    assert best_by_pattern(patterns, min_precision=0.99)["recall_at_precision"] == 0.9
