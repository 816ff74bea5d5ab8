"""SIGKILL a real `aggregator run` on 100,000+ records at each point of ``tests/killing.py``
(ingest, matching, entity writes, index build), then check what a complete run leaves.

    python benchmarks/kill.py --records 100000
    python benchmarks/kill.py --records 100000 --complete-each   # a complete run after each kill

By default the kills follow one another (each killed run starts from what the last kill left,
the feed changing before each) and one complete run ends the series; ``--complete-each``
completes and checks after every kill, as ``tests/test_kill.py`` does on a small feed. Prints
one JSON line: where each kill landed, how long each run took, and the checks' outcome.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks")]

from tests.killing import (  # noqa: E402
    KILL_POINTS,
    Feed,
    configure,
    run_and_kill,
    run_to_completion,
    verify,
)
from tests.loopback import serve_routes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--complete-each", action="store_true")
    args = parser.parse_args()
    kills: list[dict[str, Any]] = []
    checks: list[dict[str, int]] = []
    with tempfile.TemporaryDirectory(prefix="kill-") as folder:
        root = Path(folder)
        feed = Feed(args.records)
        with serve_routes({"/shops.csv": feed.route}) as url:
            configure(root, f"{url}/shops.csv")
            started = time.monotonic()
            run_to_completion(root, timeout_s=3600)
            first_s = time.monotonic() - started
            for marker, delay in KILL_POINTS:
                feed.version += 1
                started = time.monotonic()
                kill = run_and_kill(root, marker, delay, timeout_s=3600)
                entry: dict[str, Any] = {
                    "after": marker,
                    "delay_s": delay,
                    "phase": kill.phase,
                    "killed_after_s": round(time.monotonic() - started, 1),
                }
                if args.complete_each:
                    started = time.monotonic()
                    run_to_completion(root, timeout_s=3600)
                    entry["next_run_s"] = round(time.monotonic() - started, 1)
                    checks.append(verify(root, feed))
                kills.append(entry)
                print(json.dumps(entry), file=sys.stderr)
            started = time.monotonic()
            final = run_to_completion(root, timeout_s=3600)
            final_s = time.monotonic() - started
            checks.append(verify(root, feed))
    indexing = [line for line in final.stderr.splitlines() if "rebuilding" in line]
    print(
        json.dumps(
            {
                "records": args.records,
                "kills": len([k for k in kills if k["phase"] != "finished"]),
                "phases": sorted({k["phase"] for k in kills}),
                "first_run_s": round(first_s, 1),
                "final_run_s": round(final_s, 1),
                "final_run_rebuilt": bool(indexing),
                "checks_passed": len(checks),
                "last_check": checks[-1],
                "points": kills,
            }
        )
    )


if __name__ == "__main__":
    main()
