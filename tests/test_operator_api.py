"""The operator API over real HTTP (uvicorn), real loopback feeds, SQLite and PostgreSQL:
registration, dry run, going live, runs, quarantine, and the SSRF guard as an operator meets it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.jobs import drain_queue
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from connectors.http import FeedClient
from connectors.registry import kinds
from tests.loopback import only_loopback_connections, serve_routes
from tests.webserver import serve_app

SHOPS = (
    "id;nom;ville\n"
    "1;Boulangerie Saint-Cyprien;Toulouse\n"
    "2;;Toulouse\n"  # no name: refused at line 3
    "3;Fromagerie des Carmes;Toulouse\n"
    "4;Boucherie Durand;Blagnac\n"
)
MAPPING = {"source_id": "id", "name": "nom", "city": "ville"}
PRIVATE_NAME = "catalogue.intranet.example"


def fake_dns(host: str, port: int, **kwargs: Any) -> list[Any]:
    """``catalogue.intranet.example`` is 10.20.30.40; every other name resolves for real (only
    loopback names and literals are asked in these tests)."""
    if host == PRIVATE_NAME:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]
    return socket.getaddrinfo(host, port, **kwargs)


@contextmanager
def operator_api(
    tmp_path: Path, database_url: str, allow_hosts: str = "127.0.0.1:*"
) -> Iterator[tuple[Runtime, str]]:
    """The real app under uvicorn, its feed client resolving through ``fake_dns``."""
    settings = Settings(
        data_dir=tmp_path / "var",
        config_dir=tmp_path / "config",
        database_url=database_url,
        allow_hosts=allow_hosts,
    )
    runtime = Runtime(settings)
    runtime.__dict__["http"] = FeedClient.from_settings(settings, resolver=fake_dns)
    try:
        with serve_app(runtime) as base_url:
            yield runtime, base_url
    finally:
        runtime.close()


def client_for(runtime: Runtime, base_url: str, platform: str) -> httpx.Client:
    _, key = runtime.store.create_api_key(platform, label="tests")
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def shop_feed(body: str = SHOPS) -> dict[str, Any]:
    return {"/shops.csv": (200, {"Content-Type": "text/csv"}, body)}


def csv_registration(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "csv", "url": url, "mapping": dict(MAPPING), **extra}


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, httpx.Client]]:
    with (
        operator_api(tmp_path, database_url) as (runtime, base_url),
        client_for(runtime, base_url, "toutoulouse") as client,
    ):
        yield runtime, client


def test_register_check_enable_run_and_read_the_quarantine(
    api: tuple[Runtime, httpx.Client],
) -> None:
    runtime, client = api
    with serve_routes(shop_feed()) as feed:
        created = client.post(
            "/api/operator/connectors", json=csv_registration(f"{feed}/shops.csv")
        )
        assert created.status_code == 201, created.text
        connector = created.json()
        cid = connector["id"]
        assert (cid, connector["platform"], connector["origin"]) == (
            "toutoulouse-csv",
            "toutoulouse",
            "api",
        )
        assert connector["enabled"] is False and connector["check"]["ok"] is None
        refused = client.post(f"/api/operator/connectors/{cid}/enable")
        assert refused.status_code == 409 and "never been checked" in refused.json()["detail"]
        assert client.post(f"/api/operator/connectors/{cid}/run").status_code == 409

        check = client.post(f"/api/operator/connectors/{cid}/check", params={"limit": 3}).json()
        assert check["ok"] is True and check["problems"] == []
        assert [r["source_id"] for r in check["records"]] == ["1", "3"]
        assert check["records"][0] == {**check["records"][0], "platform": "toutoulouse"}
        (rejection,) = check["rejections"]
        assert rejection["locator"] == "line 3"
        assert "name (from 'nom')" in rejection["reason"] and '"id": "2"' in rejection["excerpt"]
        assert check["connector"]["check"]["ok"] is True
        assert runtime.store.count_raw(cid) == 0  # a dry run stores nothing

        enabled = client.post(f"/api/operator/connectors/{cid}/enable")
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True
        queued = client.post(f"/api/operator/connectors/{cid}/run")
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        again = client.post(f"/api/operator/connectors/{cid}/run")
        assert again.status_code == 200 and again.json()["id"] == queued.json()["id"]
        assert runtime.store.count_raw(cid) == 0  # queued for a worker, not run in the request
        request = carried_out(runtime, client, cid, queued.json()["id"])
    assert request["status"] == "done", request
    run = request["run"]
    assert run["status"] == "ok", run["errors"]
    assert runtime.backend.count() == 3  # matched and indexed by the worker
    assert (run["fetched"], run["new"], run["rejected"], run["gone"]) == (4, 3, 1, 0)
    assert run["duration_s"] >= 0 and run["finished_at"]

    (listed,) = client.get(f"/api/operator/connectors/{cid}/runs").json()
    assert listed["id"] == run["id"] and listed["new"] == 3
    assert listed["started_at"].endswith("+00:00")  # UTC, on SQLite too
    quarantine = client.get(f"/api/operator/connectors/{cid}/runs/{run['id']}/quarantine").json()
    assert quarantine["total"] == 1
    assert quarantine["items"][0]["locator"] == "line 3"
    assert "missing or empty" in quarantine["items"][0]["reason"]
    assert "Toulouse" in quarantine["items"][0]["excerpt"]
    missing = client.get(f"/api/operator/connectors/{cid}/runs/{run['id'] + 99}/quarantine")
    assert missing.status_code == 404


def test_a_changed_registration_needs_a_new_check_and_goes_offline(
    api: tuple[Runtime, httpx.Client],
) -> None:
    _, client = api
    with serve_routes(shop_feed()) as feed:
        body = csv_registration(f"{feed}/shops.csv", id="tt-shops", schedule="every 6h")
        cid = client.post("/api/operator/connectors", json=body).json()["id"]
        assert client.post(f"/api/operator/connectors/{cid}/check").json()["ok"]
        assert client.post(f"/api/operator/connectors/{cid}/enable").status_code == 200

        replaced = client.post("/api/operator/connectors", json={**body, "schedule": "every 1d"})
        assert replaced.status_code == 200  # an update, not a creation
        assert replaced.json()["enabled"] is False
        assert replaced.json()["check"] == {**replaced.json()["check"], "current": False}
        refused = client.post(f"/api/operator/connectors/{cid}/enable")
        assert refused.status_code == 409 and "changed since" in refused.json()["detail"]

        assert client.post(f"/api/operator/connectors/{cid}/check").json()["ok"]
        assert client.post(f"/api/operator/connectors/{cid}/enable").json()["enabled"] is True
        assert client.post(f"/api/operator/connectors/{cid}/disable").json()["enabled"] is False
        assert client.get("/api/operator/connectors").json()[0]["schedule"] == "every 1d"


def test_a_failing_check_keeps_the_connector_offline(api: tuple[Runtime, httpx.Client]) -> None:
    _, client = api
    with serve_routes(shop_feed("identifiant;enseigne\n1;Fournil\n")) as feed:
        body = csv_registration(f"{feed}/shops.csv")
        cid = client.post("/api/operator/connectors", json=body).json()["id"]
        check = client.post(f"/api/operator/connectors/{cid}/check").json()
    assert check["ok"] is False
    assert "column 'nom' mapped to name is not in the CSV header" in check["problems"][0]
    refused = client.post(f"/api/operator/connectors/{cid}/enable")
    assert refused.status_code == 409 and "last check failed" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kind": "cvs"}, "kind: unknown connector kind 'cvs'"),
        ({"mapping": {"source_id": "id", "nme": "nom"}}, "unknown mapping field(s) nme"),
        ({"mapping": {"source_id": "id"}}, "mapping: the mapping has no 'name' field"),
        ({"options": {"delimiter": ";;"}}, "options of kind 'csv': delimiter: Value error"),
        ({"url": None}, "url: Input should be a valid string"),
        ({"schedul": "every 6h"}, "schedul: unknown field"),
        ({"country": "FRA"}, "country: String should have at most 2 characters"),
        ({"url": "/etc/passwd"}, "refused /etc/passwd: local files are only accepted"),
        ({"url": "file:///etc/passwd"}, "refused file:///etc/passwd: local files are only"),
        ({"url": "ftp://example.org/x.csv"}, "url: refused ftp://example.org/x.csv"),
    ],
)
def test_invalid_registrations_are_422_naming_the_field(
    api: tuple[Runtime, httpx.Client], change: dict[str, Any], expected: str
) -> None:
    runtime, client = api
    body = csv_registration("https://feeds.example.org/shops.csv") | change
    response = client.post("/api/operator/connectors", json=body)
    assert response.status_code == 422, response.text
    assert expected in response.json()["detail"]
    assert runtime.store.list_connectors() == []


def test_credentials_stay_secret(api: tuple[Runtime, httpx.Client]) -> None:
    runtime, client = api
    body = {
        "kind": "json_api",
        "url": "https://api.example.org/shops",
        "mapping": {"source_id": "id", "name": "name"},
        "options": {"auth": {"type": "bearer", "token_env": "AGGREGATOR_DATABASE_URL"}},
    }
    refused = client.post("/api/operator/connectors", json=body)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "options.auth.token_env: environment variables belong to the deployment" in detail
    body["options"] = {"auth": {"type": "bearer", "token": "s3cr3t-t0ken"}}
    created = client.post("/api/operator/connectors", json=body)
    assert created.status_code == 201
    assert created.json()["options"]["auth"] == {"type": "bearer", "token": "***"}
    assert "s3cr3t" not in client.get("/api/operator/connectors").text
    assert runtime.store.get_connector("toutoulouse-json-api").options["auth"]["token"] == (
        "s3cr3t-t0ken"
    )


def test_kinds_publish_their_options_schema(api: tuple[Runtime, httpx.Client]) -> None:
    _, client = api
    published = client.get("/api/operator/kinds").json()
    assert set(published) == set(kinds()) >= {"csv", "json_api"}
    assert "delimiter" in published["csv"]["properties"]
    assert "pagination" in published["json_api"]["properties"]


def test_delete_removes_the_registration_and_retires_its_records(
    api: tuple[Runtime, httpx.Client],
) -> None:
    runtime, client = api
    with serve_routes(shop_feed()) as feed:
        cid = client.post(
            "/api/operator/connectors", json=csv_registration(f"{feed}/shops.csv")
        ).json()["id"]
        client.post(f"/api/operator/connectors/{cid}/check")
        client.post(f"/api/operator/connectors/{cid}/enable")
        queued = client.post(f"/api/operator/connectors/{cid}/run").json()
        assert carried_out(runtime, client, cid, queued["id"])["run"]["new"] == 3
    deleted = client.delete(f"/api/operator/connectors/{cid}").json()
    assert deleted == {"deleted": cid, "records_gone": 3}
    assert client.get(f"/api/operator/connectors/{cid}").status_code == 404
    assert runtime.store.list_runs(cid) == [] and runtime.store.count_raw(cid) == 0
    assert runtime.store.get_raw("toutoulouse", "1") is not None  # kept, marked gone


def carried_out(runtime: Runtime, client: httpx.Client, cid: str, request_id: int) -> Any:
    """What a worker does with the queue (the code ``aggregator worker`` runs), then the
    request as its operator reads it back."""
    assert drain_queue(runtime, "test-worker") >= 1
    request = client.get(f"/api/operator/connectors/{cid}/requests/{request_id}")
    assert request.status_code == 200, request.text
    return request.json()


def refused_check(client: httpx.Client, url: str) -> dict[str, Any]:
    """Register ``url`` and check it: the check must fail and the connector stay offline."""
    created = client.post("/api/operator/connectors", json=csv_registration(url, id="probe"))
    assert created.status_code in (200, 201), created.text
    check = client.post("/api/operator/connectors/probe/check").json()
    assert check["ok"] is False and check["records"] == []
    assert client.post("/api/operator/connectors/probe/enable").status_code == 409
    return check


#: (how to build the URL from the loopback feed's base URL, what the refusal says)
SSRF_TARGETS: list[tuple[Callable[[str], str], str]] = [
    (lambda _: "http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local"),
    (lambda feed: f"{feed}/shops.csv", "is loopback"),
    (lambda feed: feed.replace("127.0.0.1", "localhost") + "/x", "is loopback"),
    (lambda _: f"http://{PRIVATE_NAME}/shops.csv", "address 10.20.30.40 is private"),
]
SSRF_IDS = ["metadata", "127.0.0.1", "localhost", "private-name"]


@pytest.mark.parametrize(("target", "reason"), SSRF_TARGETS, ids=SSRF_IDS)
def test_ssrf_targets_are_refused_at_check_time_before_connecting(
    tmp_path: Path, database_url: str, target: Callable[[str], str], reason: str
) -> None:
    with (
        only_loopback_connections(),
        serve_routes(shop_feed()) as feed,
        operator_api(tmp_path, database_url, allow_hosts="") as (runtime, base_url),
        client_for(runtime, base_url, "toutoulouse") as client,
    ):
        url = target(feed)
        check = refused_check(client, url)
        problem = check["problems"][0]
        assert problem.startswith(f"refused {url}: ") and reason in problem
    assert feed.requests == []  # the guard refused before any connection


@pytest.mark.parametrize(("target", "reason"), SSRF_TARGETS, ids=SSRF_IDS)
def test_ssrf_targets_are_refused_through_a_redirect_from_an_allowed_server(
    tmp_path: Path, database_url: str, target: Callable[[str], str], reason: str
) -> None:
    with serve_routes(shop_feed()) as inner:
        location = target(inner).replace("127.0.0.1", "localhost")  # not on the allow-list
        routes = {"/feed.csv": (302, {"Location": location}, b"")}
        with (
            only_loopback_connections(),
            serve_routes(routes) as allowed,
            operator_api(tmp_path, database_url) as (runtime, base_url),
            client_for(runtime, base_url, "toutoulouse") as client,
        ):
            check = refused_check(client, f"{allowed}/feed.csv")
            problem = check["problems"][0]
            assert problem.startswith(f"refused {location} (redirected from {allowed}/feed.csv)")
            assert reason in problem
        assert [r.path for r in allowed.requests] == ["/feed.csv"]
    assert inner.requests == []
