"""Search speed and tolerance at scale: the embedded engine in-process and over HTTP, and SQLite
FTS5 as a peer on the same documents and queries.

    .venv/bin/python benchmarks/search.py --docs 1000000

Builds N realistic shop and offer documents (about one shop in five; entities go through the
real document path, ``EmbeddedBackend.rebuild``), then measures queries a customer types (1–3
words, 20% with a typo, half with a city filter, a quarter within a radius, facets on):
in-process latency, latency and requests per second through the FastAPI app under uvicorn
(several worker processes, 16 concurrent clients), and the same queries on FTS5. The last line
is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search_data import BenchQuery, generate_entities, make_queries  # noqa: E402
from search_fts5 import Fts5Peer  # noqa: E402
from search_http import path_for, sequential_latencies, serve, throughput  # noqa: E402

from search import EmbeddedBackend, Synonyms, entity_documents  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "config"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return at(0.50), at(0.95), at(0.99)


def directory_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def say(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="shop + offer documents")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--http-requests", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-fts5", action="store_true")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()

    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-search-"))
    data_dir = work / "var"
    shutil.rmtree(data_dir, ignore_errors=True)
    result: dict[str, Any] = {
        "docs": args.docs,
        "cores": os.cpu_count(),
        "load_start": round(os.getloadavg()[0], 2),
    }
    say(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}"
    )

    started = time.perf_counter()
    entities = list(generate_entities(args.docs, args.seed))
    say(f"generated {len(entities)} entities in {time.perf_counter() - started:.1f} s")
    # The generated catalogue stays in memory for the FTS5 peer; a server process would not hold
    # it. Freezing it keeps the collector from walking millions of objects during measurements.
    gc.collect()
    gc.freeze()

    backend = EmbeddedBackend(data_dir / "search", synonyms=Synonyms.load(CONFIG / "synonyms.yaml"))
    started, cpu = time.perf_counter(), time.process_time()
    backend.rebuild(entities)
    result["index_s"] = round(time.perf_counter() - started, 1)
    # CPU time of this process (Python and tantivy's threads): next to the wall time, it shows
    # how much other work on the machine slowed the run.
    result["index_cpu_s"] = round(time.process_time() - cpu, 1)
    result["load_after_index"] = round(os.getloadavg()[0], 2)
    live = data_dir / "search" / (data_dir / "search" / "current").read_text().strip()
    result["index_mb"] = directory_mb(live)
    say(f"embedded: indexed in {result['index_s']} s, {result['index_mb']} MB")

    rng = random.Random(args.seed)
    sample = [
        doc for e in rng.sample(entities, min(5000, len(entities))) for doc in entity_documents(e)
    ]
    queries = make_queries(sample, args.queries, args.seed)
    typos = sum(q.typo for q in queries)
    result["queries"], result["typo_queries"] = len(queries), typos

    for q in queries[:200]:  # warm the caches as a running server's would be
        backend.search(q.query)
    latencies, typo_zero, zero = [], 0, 0
    for q in queries:
        started = time.perf_counter()
        answer = backend.search(q.query)
        latencies.append((time.perf_counter() - started) * 1000)
        empty = answer.total == 0 and answer.offers_total == 0
        zero += empty
        typo_zero += empty and q.typo
    result["p50_ms"], result["p95_ms"], result["p99_ms"] = percentiles(latencies)
    result["load_after_queries"] = round(os.getloadavg()[0], 2)
    result["zero_hit_rate"] = round(zero / len(queries), 4)
    result["typo_zero_hit_rate"] = round(typo_zero / max(1, typos), 4)
    say(
        f"embedded in-process: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"p99 {result['p99_ms']} ms; typo queries with no hit {typo_zero}/{typos}"
    )
    backend.close()

    if not args.no_http:
        measure_http(result, data_dir, queries, args)
    if not args.no_fts5:
        measure_fts5(result, work, entities, queries)
    result["load_end"] = round(os.getloadavg()[0], 2)
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def measure_http(
    result: dict[str, Any], data_dir: Path, queries: list[BenchQuery], args: argparse.Namespace
) -> None:
    targets = [path_for(q.query) for q in queries]
    with serve(data_dir, CONFIG, args.workers) as (host, port):
        sequential_latencies(host, port, targets[:200])  # warm every worker
        latencies = sequential_latencies(host, port, targets[: min(len(targets), 1000)])
        result["http_p50_ms"], result["http_p95_ms"], result["http_p99_ms"] = percentiles(latencies)
        load = (targets * (args.http_requests // len(targets) + 1))[: args.http_requests]
        rps, failures = throughput(host, port, load, args.clients)
    result["rps"], result["http_failures"] = round(rps, 1), failures
    result["load_after_http"] = round(os.getloadavg()[0], 2)
    result["http_workers"], result["http_clients"] = args.workers, args.clients
    say(
        f"http ({args.workers} workers): p50 {result['http_p50_ms']} ms, "
        f"p95 {result['http_p95_ms']} ms, p99 {result['http_p99_ms']} ms; "
        f"{result['rps']} requests/s with {args.clients} clients, {failures} failures"
    )


def measure_fts5(
    result: dict[str, Any], work: Path, entities: list[Any], queries: list[BenchQuery]
) -> None:
    path = work / "fts5.sqlite3"
    path.unlink(missing_ok=True)
    peer = Fts5Peer(path)
    started = time.perf_counter()
    peer.load(doc for entity in entities for doc in entity_documents(entity))
    result["fts5_index_s"] = round(time.perf_counter() - started, 1)
    result["fts5_index_mb"] = round(peer.size_mb(), 1)
    for q in queries[:100]:
        peer.search(q.query)
    latencies, typo_zero = [], 0
    for q in queries:
        found, took = peer.search(q.query)
        latencies.append(took)
        typo_zero += q.typo and found == 0
    peer.close()
    result["fts5_p50_ms"], result["fts5_p95_ms"], result["fts5_p99_ms"] = percentiles(latencies)
    result["fts5_typo_zero_hit_rate"] = round(typo_zero / max(1, result["typo_queries"]), 4)
    say(
        f"fts5: indexed in {result['fts5_index_s']} s, {result['fts5_index_mb']} MB; "
        f"p50 {result['fts5_p50_ms']} ms, p95 {result['fts5_p95_ms']} ms, "
        f"p99 {result['fts5_p99_ms']} ms; typo queries with no hit "
        f"{typo_zero}/{result['typo_queries']}"
    )


if __name__ == "__main__":
    main()
