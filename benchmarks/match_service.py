"""Matching and indexing inside the service: a full run, then K changed records incrementally.

    .venv/bin/python benchmarks/match_service.py --records 100000 --changes 1000
    .venv/bin/python benchmarks/match_service.py --database-url postgresql://postgres@127.0.0.1/test
    .venv/bin/python benchmarks/match_service.py --records 200000 --no-full-again \
        --profile incremental.prof
    .venv/bin/python benchmarks/match_service.py --records 200000 --profile again.prof \
        --profile-stage full_again

Stores N generated shop records (``dedupe_data.py``) in a fresh store (SQLite by default; in a
process of its own, so that peak memory is the service's), then times what ``aggregator serve``
does after a connector run, through
:meth:`aggregator.runtime.Runtime.match_and_index` (matching, entity writes, search index):

- **full**: the process's first matching (every record, weights estimated, every entity written
  and indexed);
- **incremental**: K stored records change (a phone written otherwise, a name, a moved point, a
  lost address), then the next matching reads only those;
- **full again**: the same store matched in full, as every run did before incremental
  matching; it must find nothing to change (left out with ``--no-full-again``).

The records are dated an hour back once stored; on PostgreSQL the table is then vacuumed and
analysed, as autovacuum does to a store that has been running. ``--profile FILE`` writes the
cProfile statistics of one stage: the incremental run, or the one ``--profile-stage`` names.
A full run's index rebuild of many entities is indexed by a worker process
(``search.embedded_rebuild``): ``cpu_s`` and ``peak_rss_mb`` are this process's, ``index_worker``
the worker's own CPU and peak. ``combined_peak_mb`` (resident) and ``combined_peak_pss_mb``
(proportional: shared pages counted once) are the highest sums over this process and all its
descendants (matching and index workers) sampled every 50 ms during a stage
(``process_memory.py``), with each process's share at that moment; the last line's are the
highest of the stages'.

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import multiprocessing
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
sys.path.append(str(HERE))

from process_memory import MemorySampler  # noqa: E402

from aggregator import schema as t  # noqa: E402
from aggregator.models import RecordType, RunCounts, ShopRecord, utcnow  # noqa: E402
from aggregator.runtime import Runtime  # noqa: E402
from aggregator.settings import Settings  # noqa: E402
from aggregator.store import IngestBatch, Store  # noqa: E402

STAGES = ("full", "incremental", "full_again")
FIELDS = ("name", "address", "postcode", "city", "phone", "email", "website", "siret")


def records(n: int, seed: int) -> list[dict[str, Any]]:
    from dedupe_data import generate

    data = generate(n, seed)
    c = data.columns
    out = []
    for i in range(len(data)):
        record: dict[str, Any] = {"platform": c["platform"][i], "source_id": c["source_id"][i]}
        record.update({f: c[f][i] for f in FIELDS if c[f][i] is not None})
        record["category"] = c["category"][i]
        if c["lat"][i] is not None:
            record["lat"], record["lon"] = c["lat"][i], c["lon"][i]
        out.append(ShopRecord.model_validate(record).model_dump(mode="json"))
    return out


def store_records(store: Store, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        batch = IngestBatch(connector_id="bench")
        for r in rows[start : start + 5000]:
            batch.items.append((RecordType.shop, r["platform"], r["source_id"], {}, r))
        store.apply(batch, RunCounts(), set())


def change(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for row in rng.sample(rows, k):
        row = dict(row)
        roll = rng.random()
        if roll < 0.3 and row.get("phone"):
            row["phone"] = row["phone"].replace(" ", ".") + " "
        elif roll < 0.6:
            row["name"] += " Bio"
        elif roll < 0.8 and row.get("lat") is not None:
            row["lat"] += 0.0003
        else:
            row.pop("address", None)
            row["description"] = "adresse retirée"
        out.append(row)
    return out


class _IndexWorker(logging.Handler):
    """Keeps the figures a rebuild's worker process reports (``search.embedded_rebuild``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.figures: dict[str, Any] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if "worker process" in record.msg:
            _, documents, cpu_s, peak_mb, segments = record.args  # type: ignore[misc]
            self.figures = {
                "documents": documents,
                "cpu_s": cpu_s,
                "peak_rss_mb": peak_mb,
                "segments": segments,
            }


def timed(
    runtime: Runtime, full: bool = False, profile: str | None = None, timeline: Any = None
) -> dict[str, Any]:
    load = os.getloadavg()[0]
    profiler = cProfile.Profile() if profile else None
    worker = _IndexWorker()
    logger = logging.getLogger("search.embedded_rebuild")
    logger.setLevel(logging.INFO)
    logger.addHandler(worker)
    if timeline is not None:
        timeline.write(f"# a {'full' if full else 'new'} matching\n")
    sampler = MemorySampler(timeline=timeline)
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    try:
        with sampler:
            outcome, indexing = runtime.match_and_index(full=full)
    finally:
        logger.removeHandler(worker)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "mode": outcome.mode,
        "wall_s": round(time.perf_counter() - started, 3),
        # This process's CPU (tantivy's indexing threads included): the wall time on a machine
        # whose cores nothing else uses; the load says what else ran.
        "cpu_s": round(time.process_time() - cpu, 3),
        "matching_s": outcome.stats.get("seconds"),
        "entities_written": outcome.written,
        "entities_removed": len(outcome.removed),
        "entities": outcome.entities,
        "indexing": indexing,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # A rebuild of many entities is indexed by a worker process: its CPU and peak, apart.
        "index_worker": worker.figures,
        # This process and every one below it (matching and index workers) at one moment.
        **sampler.figures(),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def prepare(url: str, n: int, seed: int, changes: int, out: str) -> None:
    """Generate and store the records, and the changed ones (saved to ``out``): in a process
    of its own, so that the figures measure the service, not the generator."""
    store = Store.open(url)
    started = time.perf_counter()
    rows = records(n, seed)
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    store_records(store, rows)
    stored_s = time.perf_counter() - started
    print(f"{len(rows):,} records generated in {generated_s:.1f} s, stored in {stored_s:.1f} s")
    # As if stored an hour ago: a matching then reads only what changes afterwards, as in
    # a service that has been running (its first reads overlap the minutes before it).
    with store.engine.begin() as conn:
        conn.execute(t.raw_records.update().values(last_changed=utcnow() - timedelta(hours=1)))
    if store.engine.dialect.name == "postgresql":
        # What autovacuum does to a store that has been running. Without it the first "changed
        # since" query ran on statistics that date every record within the last minutes (a
        # scan of every record) and, analysed only, still visited the dead versions the
        # UPDATE left, dated so too (docs/benchmarks.md: 213 ms and 125 ms at 200,000
        # records, 0.5 ms once vacuumed).
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE raw_records")
    Path(out).write_text(json.dumps(change(rows, changes)))
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--match-processes",
        type=int,
        default=None,
        help="worker processes normalising a full matching, as `aggregator worker` and "
        "`aggregator run` start them (default: the match_processes setting; 1: none)",
    )
    parser.add_argument(
        "--profile", default=None, help="write cProfile statistics of one stage here"
    )
    parser.add_argument(
        "--profile-stage",
        choices=("full", "incremental", "full_again"),
        default="incremental",
        help="the stage --profile profiles (default: incremental)",
    )
    parser.add_argument(
        "--memory-timeline",
        default=None,
        help="write the service's processes' resident memory here, a line a second",
    )
    parser.add_argument(
        "--no-full-again", action="store_true", help="stop after the incremental run"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "var",
            config_dir=HERE.parent / "config",
            database_url=args.database_url,
        )
        settings.ensure_dirs()
        changes_file = str(Path(tmp) / "changes.json")
        child = multiprocessing.get_context("spawn").Process(
            target=prepare,
            args=(settings.resolved_database_url, args.records, args.seed, args.changes,
                  changes_file),
        )  # fmt: skip
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(f"storing the records failed ({child.exitcode})")
        runtime = Runtime(settings)
        runtime.start_match_pool(args.match_processes)  # as the batch commands: before threads
        figures: dict[str, Any] = {
            "records": args.records,
            "changes": args.changes,
            "match_processes": args.match_processes or settings.match_processes,
        }

        def profile(stage: str) -> str | None:
            return args.profile if args.profile_stage == stage else None

        timeline = open(args.memory_timeline, "w") if args.memory_timeline else None  # noqa: SIM115
        figures["full"] = timed(runtime, profile=profile("full"), timeline=timeline)
        print("full:", figures["full"])
        store_records(runtime.store, json.loads(Path(changes_file).read_text()))
        figures["incremental"] = timed(runtime, profile=profile("incremental"), timeline=timeline)
        print("incremental:", figures["incremental"])
        if not args.no_full_again:
            figures["full_again"] = timed(
                runtime, full=True, profile=profile("full_again"), timeline=timeline
            )
            print("full again:", figures["full_again"])
        if timeline is not None:
            timeline.close()
        runtime.close()
    figures.update(
        store=(args.database_url or "sqlite").split(":")[0],
        # The service's own peak: the records were generated and stored by another process.
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # The service's processes together, the highest of the stages' sums.
        combined_peak_mb=max(figures[s]["combined_peak_mb"] for s in STAGES if s in figures),
        combined_peak_pss_mb=max(
            figures[s]["combined_peak_pss_mb"] for s in STAGES if s in figures
        ),
        cores=os.cpu_count(),
        python=platform.python_version(),
        load=os.getloadavg()[0],
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
