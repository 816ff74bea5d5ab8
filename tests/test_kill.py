"""SIGKILL of a real `aggregator run` at twelve points over ingest, matching, entity writes and
the index build: after each, the next run completes and leaves store and index consistent."""

from __future__ import annotations

from pathlib import Path

from tests.killing import KILL_POINTS, Feed, configure, run_and_kill, run_to_completion, verify
from tests.loopback import serve_routes

#: Enough records that each phase lasts long enough to be hit; benchmarks/kill.py runs 100,000.
RECORDS = 3000


def test_every_kill_point_leaves_a_consistent_store_and_index(tmp_path: Path) -> None:
    feed = Feed(RECORDS)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        phases = []
        for marker, delay in KILL_POINTS:
            feed.version += 1  # a seventh of the shops renamed: work for every phase
            kill = run_and_kill(tmp_path, marker, delay)
            phases.append(kill.phase)
            run_to_completion(tmp_path)
            verify(tmp_path, feed)
    killed = [p for p in phases if p != "finished"]
    assert len(killed) >= 10, phases
    assert {"ingest", "matching", "entity writes", "index build"} <= set(killed), phases


def test_a_kill_while_indexing_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    """The probe's case: renamed shops written to the store, the index write killed; the next
    run must not report "0 changed" and keep the stale names."""
    feed = Feed(1500)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        run_to_completion(tmp_path)
        feed.version += 1
        kill = run_and_kill(tmp_path, "phase: indexing", 0.0)
        assert kill.phase == "index build", kill.lines[-5:]
        run_to_completion(tmp_path)
        verify(tmp_path, feed)
