"""Fair shares under load: operator checks in their own bounded pool, within a deadline and a
few per key; public pages answering meanwhile; rate limits answered 429 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.runtime import Runtime
from aggregator.settings import Settings
from aggregator.web.limits import Deadline, TokenBuckets
from tests.loopback import serve_routes
from tests.webserver import serve_app

SHOPS = "id;nom;ville\n1;Boulangerie Saint-Cyprien;Toulouse\n2;Fromagerie des Carmes;Toulouse\n"


def drip(seconds: float) -> Any:
    """A feed that sends its CSV one line at a time, slowly: each read is quick, the whole
    download is not."""

    def route(_target: Any) -> tuple[int, dict[str, str], Iterator[bytes]]:
        def body() -> Iterator[bytes]:
            yield b"id;nom;ville\n"
            end = time.monotonic() + seconds
            n = 0
            while time.monotonic() < end:
                time.sleep(0.2)
                n += 1
                yield f"{n};Boutique {n};Toulouse\n".encode()

        return 200, {"Content-Type": "text/csv"}, body()

    return route


@contextmanager
def service(tmp_path: Path, **overrides: Any) -> Iterator[tuple[Runtime, str]]:
    settings = Settings(
        data_dir=tmp_path / "var",
        config_dir=tmp_path / "config",
        allow_hosts="127.0.0.1:*",
        **overrides,
    )
    runtime = Runtime(settings)
    try:
        with serve_app(runtime) as base:
            yield runtime, base
    finally:
        runtime.close()


def register(
    runtime: Runtime, base: str, url: str, platform: str = "toutoulouse"
) -> tuple[str, dict[str, str]]:
    _, key = runtime.store.create_api_key(platform, label="tests")
    headers = {"Authorization": f"Bearer {key}"}
    mapping = {"source_id": "id", "name": "nom", "city": "ville"}
    body = {"kind": "csv", "url": url, "mapping": mapping}
    created = httpx.post(f"{base}/api/operator/connectors", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


def test_45_slow_checks_in_flight_leave_the_public_pages_answering(tmp_path: Path) -> None:
    with (
        serve_routes({"/slow.csv": drip(6.0)}) as feed,
        service(
            tmp_path, operator_max_per_key=45, operator_max_total=45, rate_operator_burst=100
        ) as (runtime, base),
    ):
        cid, headers = register(runtime, base, f"{feed}/slow.csv")

        def check() -> int:
            url = f"{base}/api/operator/connectors/{cid}/check"
            return httpx.post(url, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(45) as pool:
            checks = [pool.submit(check) for _ in range(45)]
            time.sleep(1.5)  # every check is now reading the slow feed
            assert not any(c.done() for c in checks)
            for path in ("/", "/?q=boulangerie", "/healthz", "/boutique/e0000", "/api/search"):
                answer = httpx.get(f"{base}{path}", timeout=5)
                assert answer.status_code in (200, 404), (path, answer.status_code)
            assert not all(c.done() for c in checks)  # the public pages did not wait for them
            assert [c.result() for c in checks] == [200] * 45


def test_checks_beyond_the_key_and_service_slots_are_429_with_retry_after(tmp_path: Path) -> None:
    with (
        serve_routes({"/slow.csv": drip(3.0)}) as feed,
        service(tmp_path, operator_max_per_key=2, operator_max_total=3) as (runtime, base),
    ):
        cid, headers = register(runtime, base, f"{feed}/slow.csv")
        other_cid, other = register(runtime, base, f"{feed}/slow.csv", "albigeois")

        def check(c: str, h: dict[str, str]) -> httpx.Response:
            return httpx.post(f"{base}/api/operator/connectors/{c}/check", headers=h, timeout=60)

        with ThreadPoolExecutor(8) as pool:
            mine = [pool.submit(check, cid, headers) for _ in range(5)]
            time.sleep(1.0)
            theirs = [pool.submit(check, other_cid, other) for _ in range(3)]
            statuses = sorted(r.result().status_code for r in mine)
            their_statuses = sorted(r.result().status_code for r in theirs)
        assert statuses == [200, 200, 429, 429, 429]
        assert their_statuses == [200, 429, 429]  # one slot of three was left in all
        refused = check(cid, headers)  # all slots free again: this one passes
        assert refused.status_code == 200


def test_a_check_past_its_deadline_is_504_and_the_slot_is_held_until_it_ends(
    tmp_path: Path,
) -> None:
    with (
        serve_routes({"/slow.csv": drip(3.0)}) as feed,
        service(tmp_path, operator_deadline_s=1.0, operator_max_per_key=1) as (runtime, base),
    ):
        cid, headers = register(runtime, base, f"{feed}/slow.csv")
        url = f"{base}/api/operator/connectors/{cid}/check"
        late = httpx.post(url, headers=headers, timeout=30)
        assert late.status_code == 504 and "background" in late.json()["detail"]
        busy = httpx.post(url, headers=headers, timeout=30)
        assert busy.status_code == 429 and busy.headers["Retry-After"]
        time.sleep(3.5)
        status = runtime.store.check_status(cid)
        assert status.checked_at is not None  # the check finished and was recorded


def test_public_rate_limit_per_address(tmp_path: Path) -> None:
    with service(tmp_path, rate_public_per_s=0.5, rate_public_burst=3) as (_, base):
        statuses = [httpx.get(f"{base}/api/search?q=pain").status_code for _ in range(4)]
        refused = httpx.get(f"{base}/")
        health = httpx.get(f"{base}/healthz")
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "127.0.0.1" not in refused.text
    assert health.status_code == 200  # probes are not limited


def test_operator_rate_limit_per_key(tmp_path: Path) -> None:
    with service(tmp_path, rate_operator_per_s=0.5, rate_operator_burst=2) as (runtime, base):
        _, key_a = runtime.store.create_api_key("toutoulouse")
        _, key_b = runtime.store.create_api_key("toutoulouse")
        a = {"Authorization": f"Bearer {key_a}"}
        b = {"Authorization": f"Bearer {key_b}"}
        first = [httpx.get(f"{base}/api/operator/connectors", headers=a) for _ in range(3)]
        other = httpx.get(f"{base}/api/operator/connectors", headers=b)
    assert [r.status_code for r in first] == [200, 200, 429]
    assert first[2].headers["Retry-After"] == "2"
    assert other.status_code == 200  # another key has its own bucket


def test_token_buckets_refill_and_forget_the_oldest() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=2, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] = 0.5
    assert buckets.take("a") == 0.0


def test_a_request_past_the_total_deadline_is_504() -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(5)

    app = Deadline(slow, Settings(request_deadline_s=0.2))

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/")

    answer = asyncio.run(ask())
    assert answer.status_code == 504


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_the_spec_documents_the_errors_the_api_returns(tmp_path: Path, path: str) -> None:
    with service(tmp_path) as (_, base):
        spec = httpx.get(f"{base}{path}").json()
    check = spec["paths"]["/api/operator/connectors/{cid}/check"]["post"]["responses"]
    assert {"401", "404", "409", "422", "429"} <= set(check)
    register_ = spec["paths"]["/api/operator/connectors"]["post"]["responses"]
    assert {"401", "403", "409", "422", "429"} <= set(register_)
    search = spec["paths"]["/api/search"]["get"]["responses"]
    assert {"422", "429"} <= set(search)


def test_an_operator_run_while_another_run_holds_the_data_dir_is_queued(tmp_path: Path) -> None:
    """The web never runs a connector: "run now" is queued (202) even while a command-line run
    holds the data dir, and nothing starts until a worker takes the request."""
    from aggregator.runlock import run_lock

    routes = {"/shops.csv": (200, {"Content-Type": "text/csv"}, SHOPS)}
    with serve_routes(routes) as feed, service(tmp_path) as (runtime, base):
        cid, headers = register(runtime, base, f"{feed}/shops.csv")
        operator = f"{base}/api/operator/connectors/{cid}"
        assert httpx.post(f"{operator}/check", headers=headers).json()["ok"]
        assert httpx.post(f"{operator}/enable", headers=headers).status_code == 200
        with run_lock(tmp_path / "var"):
            queued = httpx.post(f"{operator}/run", headers=headers, timeout=30)
        assert queued.status_code == 202
        assert queued.json()["status"] == "queued"
        assert runtime.store.list_runs(cid) == []  # nothing was started by the web
