"""`aggregator worker` as real processes on SQLite and PostgreSQL: queued "run now" requests
carried out, one run per connector and one matching at a time across workers, and runs that
end together sharing a matching."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from aggregator.models import ConnectorRegistration
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.loopback import RequestTarget, serve_routes

MAPPING = {"source_id": "id", "name": "nom", "city": "ville"}


def shops(prefix: str, n: int) -> str:
    rows = [f"{prefix}{i};{prefix.upper()} Boutique {i};Toulouse" for i in range(n)]
    return "id;nom;ville\n" + "\n".join(rows) + "\n"


def slow_feed(body: str, seconds: float):  # type: ignore[no-untyped-def]
    """A feed that takes ``seconds`` to answer: long enough for a second worker to try too."""

    def route(_: RequestTarget) -> tuple[int, dict[str, str], str]:
        time.sleep(seconds)
        return 200, {"Content-Type": "text/csv"}, body

    return route


def worker_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        AGGREGATOR_DATA_DIR=str(tmp_path / "var"),
        AGGREGATOR_CONFIG_DIR=str(tmp_path / "config"),
        AGGREGATOR_DATABASE_URL=database_url,
        AGGREGATOR_ALLOW_HOSTS="127.0.0.1:*",
    )


@contextmanager
def worker_process(tmp_path: Path, database_url: str, name: str) -> Iterator[Path]:
    """`aggregator worker` polling the queue every 0.2 s; stopped with SIGTERM at the end."""
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "worker", "--no-schedule", "--poll", "0.2"],
            env=worker_env(tmp_path, database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=60) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()


def runtime_for(tmp_path: Path, database_url: str) -> Runtime:
    return Runtime(
        Settings(
            data_dir=tmp_path / "var",
            config_dir=tmp_path / "config",
            database_url=database_url,
            allow_hosts="127.0.0.1:*",
        )
    )


def register(runtime: Runtime, platform: str, url: str) -> str:
    registration = ConnectorRegistration(platform=platform, kind="csv", url=url, mapping=MAPPING)
    return runtime.store.save_connector(registration, origin="cli")


def wait_for(condition, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_worker_once_carries_out_the_queue(tmp_path: Path, database_url: str) -> None:
    runtime = runtime_for(tmp_path, database_url)
    feed_file = tmp_path / "shops.csv"
    feed_file.write_text(shops("a", 3), encoding="utf-8")
    cid = register(runtime, "toutoulouse", str(feed_file))
    request, queued = runtime.store.request_run(cid, "cli")
    assert queued
    done = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "worker", "--once"],
        env=worker_env(tmp_path, database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 request(s) carried out" in done.stdout
    assert "alembic" not in done.stderr.lower()  # no migration chatter on every command
    after = runtime.store.get_request(request.id)
    assert after is not None and after.status == "done" and after.run_id is not None
    (run,) = runtime.store.list_runs(cid)
    assert run.id == after.run_id and run.counts.new == 3
    matching = runtime.store.last_matching(status="ok")
    assert matching is not None and matching.entities == 3
    assert runtime.backend.count() == 3
    runtime.close()


def test_two_workers_share_the_work_without_doubling_it(tmp_path: Path, database_url: str) -> None:
    runtime = runtime_for(tmp_path, database_url)
    with ExitStack() as stack:
        feed_a = stack.enter_context(serve_routes({"/a.csv": slow_feed(shops("a", 4), 2.0)}))
        feed_b = stack.enter_context(serve_routes({"/b.csv": slow_feed(shops("b", 5), 2.0)}))
        a = register(runtime, "toutoulouse", f"{feed_a}/a.csv")
        b = register(runtime, "clickn_co", f"{feed_b}/b.csv")
        # Both workers are up before anything is queued: each must race for every request.
        stack.enter_context(worker_process(tmp_path, database_url, "w1"))
        stack.enter_context(worker_process(tmp_path, database_url, "w2"))
        time.sleep(3)
        first_a, _ = runtime.store.request_run(a, "cli")
        first_b, _ = runtime.store.request_run(b, "cli")
        # A second request for a while it runs: the other worker claims it and must not run a.
        wait_for(lambda: runtime.store.get_request(first_a.id).status != "queued")  # type: ignore[union-attr]
        second_a, queued = runtime.store.request_run(a, "cli")
        assert queued
        ids = (first_a.id, first_b.id, second_a.id)
        finished = ("done", "skipped", "failed")
        wait_for(
            lambda: all(runtime.store.get_request(i).status in finished for i in ids)  # type: ignore[union-attr]
        )
    requests = {i: runtime.store.get_request(i) for i in ids}
    assert requests[first_a.id].status == "done"  # type: ignore[union-attr]
    assert requests[first_b.id].status == "done"  # type: ignore[union-attr]
    assert requests[second_a.id].status in ("done", "skipped")  # type: ignore[union-attr]
    workers = {r.worker for r in requests.values() if r is not None}
    assert len(workers) == 2, workers  # both workers took requests

    for cid in (a, b):  # no two runs of one connector overlap
        runs = sorted(runtime.store.list_runs(cid), key=lambda r: r.started_at)
        for before, after in zip(runs, runs[1:], strict=False):
            assert before.finished_at is not None and before.finished_at <= after.started_at
    with runtime.store.engine.connect() as conn:
        from aggregator import schema as t

        matchings = conn.execute(t.matchings.select().order_by(t.matchings.c.started_at)).all()
    assert matchings and all(m.status == "ok" for m in matchings)
    for before, after in zip(matchings, matchings[1:], strict=False):
        assert before.finished_at <= after.started_at  # never two matchings at once
    runs_total = len(runtime.store.list_runs(a)) + len(runtime.store.list_runs(b))
    assert len(matchings) <= runs_total
    assert runtime.backend.count() == 9
    runtime.close()


def test_serve_carries_out_requests_only_with_schedule(tmp_path: Path) -> None:
    from tests.test_serve_workers import serving

    feed_file = tmp_path / "shops.csv"
    feed_file.write_text(shops("a", 2), encoding="utf-8")
    runtime = runtime_for(tmp_path, f"sqlite:///{(tmp_path / 'var' / 'aggregator.sqlite3')}")
    cid = register(runtime, "toutoulouse", str(feed_file))
    request, _ = runtime.store.request_run(cid, "cli")
    with serving(tmp_path):
        time.sleep(3)  # a web process alone leaves the queue to the workers
        assert runtime.store.get_request(request.id).status == "queued"  # type: ignore[union-attr]
    with serving(tmp_path, "--schedule"):  # one machine: serve is its own worker
        wait_for(lambda: runtime.store.get_request(request.id).status == "done")  # type: ignore[union-attr]
    assert runtime.store.list_runs(cid)[0].counts.new == 2
    runtime.close()


@pytest.mark.parametrize("claimers", [4])
def test_a_request_is_claimed_once(tmp_path: Path, database_url: str, claimers: int) -> None:
    """Workers racing for one request: exactly one gets it."""
    from concurrent.futures import ThreadPoolExecutor

    runtime = runtime_for(tmp_path, database_url)
    runtime.store.request_run("x", "cli")
    with ThreadPoolExecutor(claimers) as pool:
        got = list(pool.map(lambda n: runtime.store.claim_request(f"w{n}"), range(claimers)))
    assert sum(1 for g in got if g is not None) == 1
    runtime.close()


def test_a_fetching_worker_leaves_matching_to_a_matching_one(
    tmp_path: Path, database_url: str
) -> None:
    from aggregator.jobs import catch_up, drain_queue

    runtime = runtime_for(tmp_path, database_url)
    feed_file = tmp_path / "shops.csv"
    feed_file.write_text(shops("a", 4), encoding="utf-8")
    cid = register(runtime, "toutoulouse", str(feed_file))
    request, _ = runtime.store.request_run(cid, "cli")
    assert drain_queue(runtime, "fetcher", match=False) == 1  # `worker --no-match`
    assert runtime.store.get_request(request.id).status == "done"  # type: ignore[union-attr]
    assert runtime.store.last_matching() is None and runtime.backend.count() == 0
    assert catch_up(runtime, "matcher") is True  # any matching worker's next poll
    assert runtime.backend.count() == 4
    assert catch_up(runtime, "matcher") is False  # nothing new since
    runtime.close()
