"""The index records the store state it reflects: lag on /healthz, /readyz, `aggregator doctor`,
one run per data dir, and runs a crash left "running"."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from aggregator import schema as t
from aggregator.consistency import differences, index_state
from aggregator.runlock import RunInProgress, run_lock
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from aggregator.store import Store
from search.embedded import EmbeddedBackend
from tests.killing import Feed, configure, environment, run_to_completion
from tests.loopback import serve_routes
from tests.webserver import serve_app


def aggregator(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=300,
    )


def open_store(root: Path) -> Store:
    return Store.open(f"sqlite:///{(root / 'var' / 'aggregator.sqlite3').resolve()}")


def test_a_second_run_is_refused_clearly_and_writes_nothing(tmp_path: Path) -> None:
    feed = Feed(50)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        (tmp_path / "var").mkdir()
        with run_lock(tmp_path / "var"):
            second = aggregator(tmp_path, "run")
    assert second.returncode == 1
    assert "a run is in progress since" in second.stderr and "pid" in second.stderr
    assert "Traceback" not in second.stderr
    store = open_store(tmp_path)
    try:
        assert store.list_connectors() == [] and store.count_raw() == 0  # nothing written
    finally:
        store.dispose()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config"))
    try:
        with runtime.exclusive(), runtime.exclusive():  # nested: one hold
            try:
                with run_lock(tmp_path / "var"):
                    raise AssertionError("a second hold was granted")
            except RunInProgress as error:
                assert "a run is in progress since" in str(error)
    finally:
        runtime.close()


def test_runs_left_running_by_a_crash_are_closed_by_the_next_run(tmp_path: Path) -> None:
    feed = Feed(50)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        run_to_completion(tmp_path)
        store = open_store(tmp_path)
        crashed = store.start_run("killfeed")  # as a killed process leaves it: its owner,
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )  # a pid now free
        with store.engine.begin() as conn:
            conn.execute(
                t.runs.update()
                .where(t.runs.c.id == crashed.id)
                .values(owner=f"{socket.gethostname()[:180]}:{dead.stdout.strip()}")
            )
        run_to_completion(tmp_path)
        statuses = {run.id: run.status for run in store.list_runs()}
        store.dispose()
    assert statuses[crashed.id] == "failed"
    assert "running" not in statuses.values()


def test_lag_readyz_and_doctor_repair(tmp_path: Path) -> None:
    feed = Feed(200)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        run_to_completion(tmp_path)
        settings = Settings(
            data_dir=tmp_path / "var",
            config_dir=tmp_path / "config",
            allow_hosts="127.0.0.1:*",
            ready_max_lag_s=0,
        )
        runtime = Runtime(settings)
        try:
            assert index_state(runtime.store, runtime.backend, settings).lag_entities == 0
            # The store moves on (a run whose index write never happened): rename and match.
            feed.version += 1
            assert runtime.run_connector("killfeed-csv").status == "ok"
            outcome = runtime.matching.run()
            assert outcome.changed
            state = index_state(runtime.store, runtime.backend, settings)
            assert state.lag_entities == len(outcome.changed)
            with serve_app(runtime) as base:
                health = httpx.get(f"{base}/healthz").json()
                ready = httpx.get(f"{base}/readyz")
            assert health["index"]["lag_entities"] == len(outcome.changed)
            assert ready.status_code == 503 and "lags the store" in ready.json()["problems"][0]
            stale = differences(runtime.store, runtime.backend)
            assert len(stale) == len(outcome.changed)
            assert all("name" in fields for fields in stale.values()), stale
        finally:
            runtime.close()
        check = aggregator(tmp_path, "doctor", "--check", "--json")
        assert check.returncode == 1
        assert json.loads(check.stdout)["before"]["lag_entities"] == len(outcome.changed)
        repaired = aggregator(tmp_path, "doctor", "--json")
        assert repaired.returncode == 0, repaired.stderr
        report = json.loads(repaired.stdout)
        assert report["repair"]["upserted"] == len(outcome.changed)
        assert report["after"]["lag_entities"] == 0
    store, backend = open_store(tmp_path), EmbeddedBackend(tmp_path / "var" / "search")
    try:
        assert differences(store, backend) == {}
    finally:
        backend.close()
        store.dispose()


def test_doctor_deep_finds_and_repairs_a_document_changed_behind_the_numbers(
    tmp_path: Path,
) -> None:
    feed = Feed(100)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        run_to_completion(tmp_path)
    store, backend = open_store(tmp_path), EmbeddedBackend(tmp_path / "var" / "search")
    entity = next(store.iter_entities())
    backend.delete([entity.entity_id])  # lost from the index; the numbers do not know
    backend.close()
    store.dispose()
    deep = aggregator(tmp_path, "doctor", "--deep", "--json")
    assert deep.returncode == 0, deep.stderr
    report = json.loads(deep.stdout)
    assert report["examples"][entity.entity_id] == ["missing"]
    store, backend = open_store(tmp_path), EmbeddedBackend(tmp_path / "var" / "search")
    try:
        assert differences(store, backend) == {}
    finally:
        backend.close()
        store.dispose()


def test_an_index_from_before_the_numbers_is_rebuilt_once(tmp_path: Path) -> None:
    feed = Feed(60)
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        run_to_completion(tmp_path)
        for applied in (tmp_path / "var" / "search").glob("gen-*/APPLIED"):
            applied.unlink()  # as an index written before it recorded anything
        out = run_to_completion(tmp_path)
    assert "rebuilding the search index (the index records no store state)" in out.stderr


def test_catching_up_on_both_stores(tmp_path: Path, database_url: str) -> None:
    """Matching writes reach the store but not the index; the next sync applies exactly them."""
    feed = Feed(120)
    settings = Settings(
        data_dir=tmp_path / "var",
        config_dir=tmp_path / "config",
        database_url=database_url,
        allow_hosts="127.0.0.1:*",
    )
    with serve_routes({"/shops.csv": feed.route}) as url:
        configure(tmp_path, f"{url}/shops.csv")
        runtime = Runtime(settings)
        try:
            runtime.run_all()
            assert differences(runtime.store, runtime.backend) == {}
            for _ in range(2):  # two writes the index misses
                feed.version += 1
                runtime.run_connector("killfeed-csv")
                runtime.matching.run()
            behind = index_state(runtime.store, runtime.backend, settings)
            assert behind.store_seq == behind.applied + 2
            assert differences(runtime.store, runtime.backend)
            done = runtime.sync_index()
            assert done["rebuilt"] == 0 and done["upserted"] == behind.lag_entities
            assert differences(runtime.store, runtime.backend) == {}
            assert index_state(runtime.store, runtime.backend, settings).lag_entities == 0
        finally:
            runtime.close()
