"""Matching benchmark: N synthetic French shop records with known duplicates, matched in full.

    python benchmarks/dedupe.py --records 1000000 --vs splink --incremental 1000

Generates the records (``dedupe_data.py``: ~23% duplicates over 2-5 platforms, seeded), saves
them, then runs each matcher in its own child process so that each peak memory is its own
(loading the records included). Prints wall time, peak RSS, candidate pairs, blocking recall
(share of true pairs blocking kept) and pairwise precision/recall/F1; with ``--vs splink`` the
same for Splink 5 on DuckDB; with ``--incremental K``, the time to match K changed records into
the existing result. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# This file is named like the package it measures: the project root goes first, the
# benchmarks folder (for dedupe_data) last.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
sys.path.append(str(HERE))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """User and system CPU seconds of this process and its finished children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def save(n: int, seed: int, path: Path) -> dict[str, Any]:
    """Generate and save the records packed (a child loads them without Python overhead)."""
    from dedupe_data import generate

    from dedupe.prepare.columns import TextColumn

    started = time.perf_counter()
    data = generate(n, seed)
    columns = {
        name: values if name in ("lat", "lon") else TextColumn.from_values(values)
        for name, values in data.columns.items()
    }
    with path.open("wb") as handle:
        pickle.dump((columns, data.truth), handle, protocol=5)
    return {"generate_s": round(time.perf_counter() - started, 1), "true_pairs": data.true_pairs()}


def load(path: Path) -> tuple[dict[str, Any], list[int]]:
    import numpy as np

    with path.open("rb") as handle:
        columns, truth = pickle.load(handle)
    for name in ("lat", "lon"):
        columns[name] = np.array([np.nan if v is None else v for v in columns[name]])
    return columns, truth


def pair_figures(labels: list[Any], truth: list[int], candidates: Any = None) -> dict[str, Any]:
    """Pairwise precision/recall/F1 and B-cubed F1 of ``labels`` (cluster per record) against
    ``truth`` and, given candidate pair codes (``a << 32 | b``), the share of true pairs
    blocking kept. Counted with numpy: a million records in a few seconds."""
    import numpy as np

    ids: dict[Any, int] = {}
    predicted = np.array([ids.setdefault(label, len(ids)) for label in labels], np.int64)
    true = np.asarray(truth, np.int64)

    def sizes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        return inverse.ravel(), counts.astype(float)

    both_of, both = sizes(predicted * (true.max() + 1) + true)
    pred_of, pred = sizes(predicted)
    true_of, tsize = sizes(true)
    found = (both * (both - 1) / 2).sum()
    precision = found / max((pred * (pred - 1) / 2).sum(), 1)
    recall = found / max((tsize * (tsize - 1) / 2).sum(), 1)
    b3p = float(np.mean(both[both_of] / pred[pred_of]))
    b3r = float(np.mean(both[both_of] / tsize[true_of]))
    out = {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / max(precision + recall, 1e-12), 4),
        "bcubed_f1": round(2 * b3p * b3r / max(b3p + b3r, 1e-12), 4),
    }
    if candidates is not None:
        order = np.argsort(true, kind="stable")
        t = true[order]
        starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
        lengths = np.diff(np.r_[starts, len(t)])
        codes = []
        for size in range(2, int(lengths.max()) + 1 if len(lengths) else 0):
            first = starts[lengths == size]
            i, j = np.triu_indices(size, 1)
            a, b = order[first[:, None] + i].ravel(), order[first[:, None] + j].ravel()
            codes.append((np.minimum(a, b).astype(np.int64) << 32) | np.maximum(a, b))
        pairs = np.concatenate(codes) if codes else np.zeros(0, np.int64)
        out["blocking_recall"] = round(float(np.isin(pairs, candidates).mean()), 4)
    return out


def child_ours(path: Path, incremental: int, processes: int, weights: str) -> dict[str, Any]:
    from dedupe import MatchConfig, ShopTable, match_table

    columns, truth = load(path)
    table = ShopTable(dict(columns))
    estimate: Any = {"auto": "auto", "apriori": False, "estimated": True}[weights]
    config = MatchConfig(estimate=estimate, processes=processes, keep_pairs=True)
    loadavg = os.getloadavg()[0]
    cpu = cpu_s()
    started = time.perf_counter()
    result = match_table(table, config=config)
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu
    peak = peak_rss_mb()  # the matching's peak, before the scoring below adds its own
    state = result.state
    out: dict[str, Any] = {
        "wall_s": round(wall, 2),
        # CPU seconds of the matching and its workers: what the wall time is when nothing else
        # runs on the machine's cores (divided between them); the load says what else did.
        "cpu_s": round(cpu, 2),
        "load_before": round(loadavg, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(peak, 0),
        "workers_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 0
        ),
        "candidate_pairs": result.stats["candidate_pairs"],
        "entities": result.stats["entities"],
        "review_pairs": result.stats["review_pairs"],
        "weights": state.model.source if state.model else "",
    }
    labels = state.entity_of.codes[: len(truth)].tolist()
    out.update(pair_figures(labels, truth, state.last_pairs))
    if incremental:
        out.update(run_incremental(result, columns, incremental))
    return out


def run_incremental(result: Any, columns: dict[str, Any], k: int) -> dict[str, Any]:
    """K existing records change (a new phone format, a typo, a moved point, a new name)."""
    from dedupe import ShopTable, update

    rng = random.Random(7)
    n = len(result.state.table)
    rows = rng.sample(range(n), k)
    changed: dict[str, list[Any]] = {name: [] for name in columns}
    for row in rows:
        for name in columns:
            value = columns[name][row]
            changed[name].append(None if isinstance(value, float) and value != value else value)
    for i in range(k):
        roll = rng.random()
        if roll < 0.3 and changed["phone"][i]:
            changed["phone"][i] = changed["phone"][i].replace(" ", ".")
        elif roll < 0.6:
            changed["name"][i] = changed["name"][i] + " Bio"
        elif roll < 0.8 and changed["lat"][i] is not None:
            changed["lat"][i] += 0.0003
        else:
            changed["address"][i] = None
    started = time.perf_counter()
    updated = update(result, ShopTable(changed))
    return {
        "incremental_records": k,
        "incremental_s": round(time.perf_counter() - started, 3),
        "incremental_changed_entities": len(updated.changed),
        "peak_rss_after_incremental_mb": round(peak_rss_mb(), 0),
    }


def child_splink(path: Path) -> dict[str, Any]:
    from dedupe_splink import run_splink

    columns, truth = load(path)
    plain = {
        name: (columns[name].slice(0, len(truth)) if hasattr(columns[name], "slice")
               else [None if v != v else float(v) for v in columns[name]])
        for name in ("name", "address", "postcode", "phone", "lat", "lon")
    }  # fmt: skip
    loadavg, cpu = os.getloadavg()[0], cpu_s()
    started = time.perf_counter()
    labels = run_splink(plain)
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu
    peak = peak_rss_mb()
    figures = pair_figures(labels, truth)
    return {
        "splink_wall_s": round(wall, 2),
        "splink_cpu_s": round(cpu, 2),
        "splink_load_before": round(loadavg, 2),
        "splink_peak_rss_mb": round(peak, 0),
        **{f"splink_{k}": v for k, v in figures.items()},
    }


def in_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--vs", choices=["splink"], default=None)
    parser.add_argument("--incremental", type=int, default=0, metavar="K")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--processes", type=int, default=2, help="normalisation workers")
    parser.add_argument("--weights", choices=["auto", "apriori", "estimated"], default="auto")
    parser.add_argument("--child", choices=["ours", "splink"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(child_ours(args.data, args.incremental, args.processes, args.weights)))
        return
    if args.child == "splink":
        print(json.dumps(child_splink(args.data)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.pkl"
        figures: dict[str, Any] = {"records": args.records, "seed": args.seed}
        figures.update(save(args.records, args.seed, path))
        print(f"generated {args.records} records in {figures['generate_s']} s", flush=True)
        ours = in_child("--child", "ours", "--data", str(path), "--incremental",
                        str(args.incremental), "--processes", str(args.processes),
                        "--weights", args.weights)  # fmt: skip
        figures.update(ours)
        print(
            f"dedupe: {ours['wall_s']} s, {ours['peak_rss_mb']:.0f} MB peak, "
            f"{ours['candidate_pairs']} candidate pairs, blocking recall "
            f"{ours['blocking_recall']}, precision {ours['precision']} recall "
            f"{ours['recall']} F1 {ours['f1']} ({ours['weights'][:60]})",
            flush=True,
        )
        if args.incremental:
            print(f"incremental: {args.incremental} changed records in "
                  f"{ours['incremental_s']} s", flush=True)  # fmt: skip
        if args.vs == "splink":
            theirs = in_child("--child", "splink", "--data", str(path))
            figures.update(theirs)
            print(
                f"splink: {theirs['splink_wall_s']} s, {theirs['splink_peak_rss_mb']:.0f} MB "
                f"peak, precision {theirs['splink_precision']} recall "
                f"{theirs['splink_recall']} F1 {theirs['splink_f1']}",
                flush=True,
            )
    figures["machine"] = (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
