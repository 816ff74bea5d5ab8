"""Freshness: seconds from the end of a connector run to its change being searchable.

    .venv/bin/python benchmarks/freshness.py --shops 600 --rounds 5
    .venv/bin/python benchmarks/freshness.py --database-url postgresql://postgres@127.0.0.1/test

The demo platforms on loopback, registered and ingested once; then ``aggregator worker`` and
``aggregator serve`` as separate processes, as in production. Each round renames one shop on the
clickn_co platform (a CSV export with an ETag), queues a "run now" for its connector, and polls
the web's ``/api/search`` every 20 ms for the new name. N = the first answer that finds it less
the run's ``finished_at``: the worker's matching and indexing, then the web seeing the index's
commit. The first round's matching is the worker process's first (every record); the later ones
are incremental. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from aggregator.demo.generator import generate_catalogue  # noqa: E402
from aggregator.demo.platforms import DemoPlatforms  # noqa: E402
from aggregator.models import utcnow  # noqa: E402
from aggregator.runtime import Runtime  # noqa: E402
from aggregator.settings import Settings  # noqa: E402

WORDS = ["zorglub", "quipuxa", "vindrak", "mortelle", "tabarnik", "oulipox", "kwamzu", "pruvest"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Any, timeout: float, step: float = 0.02) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    database_url, drop_schema = own_schema(args.database_url)
    try:
        run(args, database_url)
    finally:
        drop_schema()


def own_schema(url: str | None) -> tuple[str | None, Any]:
    """A PostgreSQL URL's own fresh schema (dropped afterwards): a shared server stays clean."""
    if not url or not url.startswith("postgresql"):
        return url, lambda: None
    import sqlalchemy as sa

    schema = f"bench_freshness_{os.getpid()}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def run(args: argparse.Namespace, database_url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="freshness-"))
    env = dict(
        os.environ,
        AGGREGATOR_DATA_DIR=str(tmp / "var"),
        AGGREGATOR_CONFIG_DIR=str(tmp / "config"),
        AGGREGATOR_ALLOW_HOSTS="127.0.0.1:*",
    )
    if database_url:
        env["AGGREGATOR_DATABASE_URL"] = database_url
    settings = Settings(
        data_dir=tmp / "var",
        config_dir=tmp / "config",
        database_url=database_url,
        allow_hosts="127.0.0.1:*",
    )
    runtime = Runtime(settings)
    catalogue = generate_catalogue(n_shops=args.shops)
    platforms = DemoPlatforms(catalogue).start()
    for registration in platforms.registrations():
        runtime.store.save_connector(registration, origin="cli")
    cid = next(r.effective_id() for r in platforms.registrations() if r.platform == "clickn_co")
    runtime.run_all()
    port = _free_port()
    bin_ = [sys.executable, "-m", "aggregator.cli"]
    worker = subprocess.Popen(
        [*bin_, "worker", "--no-schedule", "--poll", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web = subprocess.Popen(
        [*bin_, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    rounds: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=base, timeout=10) as client:

            def up() -> bool:
                try:
                    return client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    return False

            _wait(up, 60, 0.2)
            for n in range(args.rounds):
                word = f"{WORDS[n % len(WORDS)]}{n}"
                records = [dict(r) for r in platforms.listings["clickn_co"]]
                records[n]["enseigne"] = f"Épicerie {word.capitalize()}"
                platforms.update("clickn_co", records)
                request, _ = runtime.store.request_run(cid, "benchmark")

                def found(word: str = word) -> bool:
                    answer = client.get("/api/search", params={"q": word}).json()
                    return answer["total"] > 0

                seen = _wait(found, 300)

                def finished(request_id: int = request.id) -> bool:
                    request = runtime.store.get_request(request_id)
                    return request is not None and request.status != "running"

                _wait(finished, 60)  # the request is closed just after the index commit
                done = runtime.store.get_request(request.id)
                run = runtime.store.get_run(done.run_id) if done and done.run_id else None
                assert run is not None and run.finished_at is not None
                ended = run.finished_at.timestamp()
                matching = runtime.store.last_matching(status="ok")
                rounds.append(
                    {
                        "round": n + 1,
                        "searchable_after_run_s": round(seen - ended, 3),
                        "run_s": round(run.duration_s or 0.0, 3),
                        "matching_mode": matching.mode if matching else None,
                        "matching_s": matching.matching_s if matching else None,
                        "indexing_s": matching.indexing_s if matching else None,
                    }
                )
                print(json.dumps(rounds[-1]), flush=True)
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(timeout=60)
        platforms.stop()
        runtime.close()
    later = [r["searchable_after_run_s"] for r in rounds[1:]] or [0.0]
    print(
        json.dumps(
            {
                "benchmark": "freshness",
                "store": runtime.store.engine.dialect.name,
                "shops": args.shops,
                "rounds": rounds,
                "first_s": rounds[0]["searchable_after_run_s"],
                "incremental_median_s": round(statistics.median(later), 3),
                "incremental_max_s": round(max(later), 3),
                "poll_step_s": 0.02,
                "worker_poll_s": 0.1,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "measured_at": utcnow().isoformat(timespec="seconds"),
            }
        )
    )


if __name__ == "__main__":
    main()
