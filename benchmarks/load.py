"""200 clients on the search API and the search page for 60 s while `aggregator run` ingests
100,000 records, everything on loopback; prints one JSON line (zero errors expected).

    python benchmarks/load.py --clients 200 --seconds 60 --records 100000

The service is ``aggregator serve --no-schedule --workers 2`` (readers only) over an index first
built from a small feed; the feed then grows to ``--records`` and a separate ``aggregator run``
ingests, matches and indexes it while the clients ask. Each client has its own loopback address
(127.0.1.x), as distinct users would, so the per-address rate limit applies to each, and
waits about ``--think`` seconds between requests, as a person reading the answer does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks")]

import httpx  # noqa: E402

from tests.killing import Feed, configure, environment, run_to_completion  # noqa: E402
from tests.loopback import serve_routes  # noqa: E402
from tests.webserver import free_port  # noqa: E402

WORDS = ["boulangerie", "fromagerie", "librairie", "epicerie", "fleuriste", "toulouse", "albi",
         "boulangrie", "quincaillerie rodez", "fleur", "castres", "livres"]  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)


async def client(
    n: int,
    http: httpx.AsyncClient,
    until: float,
    think_s: float,
    results: dict[str, list[float]],
    errors: list[str],
) -> None:
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, think_s))  # arrivals spread, not all at once
    while time.monotonic() < until:
        word = rng.choice(WORDS)
        path = f"/api/search?q={word}" if rng.random() < 0.5 else f"/?q={word}"
        name = path.split("?")[0]
        started = time.perf_counter()
        try:
            answer = await http.get(path)
            if answer.status_code != 200:
                errors.append(f"{name} {answer.status_code}")
        except httpx.HTTPError as error:
            errors.append(f"{name} {type(error).__name__}")
            continue
        results.setdefault(name, []).append(time.perf_counter() - started)
        # A person reads the answer before asking again (locust's ``between(a, b)``).
        await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))


async def load(
    base: str, clients: int, seconds: float, think_s: float
) -> tuple[dict[str, list[float]], list[str]]:
    results: dict[str, list[float]] = {}
    errors: list[str] = []
    # Built before the clock starts, with one TLS context for all: making one per client costs
    # tens of milliseconds each, which would be counted as the server's latency.
    tls = ssl.create_default_context()
    https = [
        httpx.AsyncClient(
            base_url=base,
            timeout=30,
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.1.{n % 250 + 1}", verify=tls),
        )
        for n in range(clients)
    ]
    until = time.monotonic() + seconds
    try:
        await asyncio.gather(
            *(client(n, http, until, think_s, results, errors) for n, http in enumerate(https))
        )
    finally:
        for http in https:
            await http.aclose()
    return results, errors


def wait_ready(base: str, process: subprocess.Popen[Any], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("aggregator serve exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("aggregator serve did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed-records", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-ingest", action="store_true", help="the same load with no run going (a baseline)"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a client waits between requests"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-") as folder:
        root = Path(folder)
        feed = Feed(args.seed_records)
        with serve_routes({"/shops.csv": feed.route}) as url:
            configure(root, f"{url}/shops.csv")
            run_to_completion(root)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "aggregator.cli", "serve", "--no-schedule"]
            command += ["--port", str(port), "--workers", str(args.workers)]
            env = environment(root)
            server_log = (root / "serve.log").open("w")
            server = subprocess.Popen(command, env=env, stderr=server_log)
            try:
                wait_ready(base, server)
                feed.records, feed.version = args.records, feed.version + 1
                feed.body()  # built before the clock starts
                started = time.monotonic()
                run = subprocess.Popen(
                    [sys.executable, "-m", "aggregator.cli", "run"]
                    + (["--help"] if args.no_ingest else []),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                results, errors = asyncio.run(load(base, args.clients, args.seconds, args.think))
                during = run.poll() is None
                _, stderr = run.communicate(timeout=1800)
                run_s = time.monotonic() - started
                ready = httpx.get(f"{base}/readyz", timeout=10).json()
            finally:
                server.terminate()
                server.wait(timeout=30)
                server_log.close()
                problems = [
                    line
                    for line in (root / "serve.log").read_text().splitlines()
                    # Errors, and uvicorn's supervisor restarting a worker it found hung.
                    if any(w in line for w in ("Error", "error", "Traceback", "Child process"))
                ]
    figures: dict[str, Any] = {
        "clients": args.clients,
        "seconds": args.seconds,
        "records": 0 if args.no_ingest else args.records,
        "workers": args.workers,
        "think_s": args.think,
        "cpus": os.cpu_count(),
        "requests": sum(len(v) for v in results.values()),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "run_exit": run.returncode,
        "run_s": round(run_s, 1),
        "run_still_going_at_end_of_load": during,
        "index_after": ready.get("index"),
    }
    for name, values in sorted(results.items()):
        figures[name] = {
            "requests": len(values),
            "per_s": round(len(values) / args.seconds, 1),
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
        }
    if run.returncode != 0:
        figures["run_stderr"] = stderr[-500:]
    if problems:
        figures["server_problems"] = problems[:20]
    print(json.dumps(figures))
    sys.exit(1 if errors or run.returncode else 0)


if __name__ == "__main__":
    main()
