"""Operator keys: random, shown once, stored hashed, one platform each, revocable; the schema
migration that brings them; and the CLI that hands them out and puts connectors live."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from aggregator import schema as t
from aggregator.jobs import drain_queue
from aggregator.models import utcnow
from aggregator.store import Store, StoreError, create_engine
from aggregator.store.base import _alembic_config
from aggregator.store.operators import CheckStatus
from tests.loopback import serve_routes
from tests.test_operator_api import client_for, csv_registration, operator_api, shop_feed


def test_keys_are_random_shown_once_and_stored_hashed(store: Store) -> None:
    first_id, first = store.create_api_key("toutoulouse", label="ops")
    _, second = store.create_api_key("toutoulouse")
    assert first != second and re.fullmatch(r"blop_[A-Za-z0-9_-]{43}", first)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.api_keys)).mappings().all()
    assert rows[0]["key_hash"] == hashlib.sha256(first.encode()).hexdigest()
    assert not any(first in str(value) for row in rows for value in row.values())
    (listed, _) = store.list_api_keys("toutoulouse")
    assert (listed.id, listed.platform, listed.label, listed.revoked_at) == (
        first_id,
        "toutoulouse",
        "ops",
        None,
    )
    assert store.platform_for_key(first) == "toutoulouse"
    assert store.platform_for_key(first + "x") is None
    revoked = store.revoke_api_key(first_id)
    assert revoked.revoked_at is not None and store.platform_for_key(first) is None
    assert store.revoke_api_key(first_id).revoked_at == revoked.revoked_at
    assert store.platform_for_key(second) == "toutoulouse"
    with pytest.raises(StoreError, match="no API key with id 999"):
        store.revoke_api_key(999)


def test_every_operator_route_needs_a_live_key(tmp_path: Path, database_url: str) -> None:
    with operator_api(tmp_path, database_url) as (runtime, base_url):
        key_id, key = runtime.store.create_api_key("toutoulouse")
        runtime.store.revoke_api_key(key_id)
        paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
        routes = [
            (method.upper(), path.replace("{cid}", "toutoulouse-csv").replace("{run_id}", "1"))
            for path, operations in paths.items()
            if path.startswith("/api/operator")
            for method in operations
        ]
        assert len(routes) == 12
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {key}"}):
            for method, path in routes:
                response = httpx.request(method, base_url + path, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers)
                assert response.headers["www-authenticate"] == "Bearer"
        revoked = httpx.get(
            f"{base_url}/api/operator/connectors", headers={"Authorization": f"Bearer {key}"}
        )
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_an_operator_can_neither_see_nor_change_another_platforms_connectors(
    tmp_path: Path, database_url: str
) -> None:
    with (
        serve_routes(shop_feed()) as feed,
        operator_api(tmp_path, database_url) as (runtime, base_url),
        client_for(runtime, base_url, "toutoulouse") as owner,
        client_for(runtime, base_url, "clickn_co") as other,
    ):
        body = csv_registration(f"{feed}/shops.csv", id="tt-shops")
        owner.post("/api/operator/connectors", json=body)
        owner.post("/api/operator/connectors/tt-shops/check")
        owner.post("/api/operator/connectors/tt-shops/enable")
        request_id = owner.post("/api/operator/connectors/tt-shops/run").json()["id"]
        drain_queue(runtime, "test-worker")
        (run,) = runtime.store.list_runs("tt-shops")
        run_id = run.id

        assert other.get("/api/operator/connectors").json() == []
        for cid in ("tt-shops", "no-such-connector"):
            for method, path in [
                ("GET", ""),
                ("POST", "/check"),
                ("POST", "/enable"),
                ("POST", "/disable"),
                ("POST", "/run"),
                ("GET", "/runs"),
                ("GET", f"/runs/{run_id}/quarantine"),
                ("GET", f"/requests/{request_id}"),
                ("DELETE", ""),
            ]:
                response = other.request(method, f"/api/operator/connectors/{cid}{path}")
                assert response.status_code == 404, (method, path)
                assert response.json() == {"detail": f"no connector with id {cid!r}"}

        as_owner = other.post("/api/operator/connectors", json={**body, "platform": "toutoulouse"})
        assert as_owner.status_code == 403
        hijack = other.post("/api/operator/connectors", json={**body, "url": "https://x.example/"})
        assert hijack.status_code == 409 and "already taken" in hijack.json()["detail"]
        assert runtime.store.get_connector("tt-shops").url == f"{feed}/shops.csv"

        own = other.post("/api/operator/connectors", json={**body, "id": "cnc-shops"}).json()
        stolen = other.get(f"/api/operator/connectors/{own['id']}/runs/{run_id}/quarantine")
        assert stolen.status_code == 404  # a run of another connector, through one's own
        assert owner.get("/api/operator/connectors/tt-shops").json()["enabled"] is True


def test_upgrade_from_0001_keeps_data_and_downgrades_cleanly(database_url: str) -> None:
    engine, cfg = create_engine(database_url), _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(t.platforms.insert().values(slug="toutoulouse", name="T", created_at=now))
        conn.execute(
            t.connectors.insert().values(
                id="toutoulouse-csv",
                platform="toutoulouse",
                kind="csv",
                url="https://x/s.csv",
                country="FR",
                mapping={"source_id": "id", "name": "nom"},
                options={},
                enabled=True,
                origin="config",
                state={"etag": '"v1"'},
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()

    store = Store.open(database_url)
    assert store.schema_revision() == Store.head_revision()
    assert store.get_connector("toutoulouse-csv").enabled is True
    assert store.get_state("toutoulouse-csv") == {"etag": '"v1"'}
    assert store.check_status("toutoulouse-csv") == CheckStatus(None, None, current=False)
    store.create_api_key("toutoulouse")

    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    inspector = sa.inspect(store.engine)
    assert not inspector.has_table("api_keys")
    assert "check_hash" not in {c["name"] for c in inspector.get_columns("connectors")}
    store.migrate()
    assert store.get_state("toutoulouse-csv") == {"etag": '"v1"'}
    store.dispose()


def aggregator(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        AGGREGATOR_DATA_DIR=str(tmp_path / "var"),
        AGGREGATOR_CONFIG_DIR=str(tmp_path / "config"),
        AGGREGATOR_DATABASE_URL=database_url,
        AGGREGATOR_ALLOW_HOSTS="127.0.0.1:*",
    )
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_hands_out_keys_and_puts_connectors_live(tmp_path: Path, database_url: str) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return aggregator(tmp_path, database_url, *args)

    added = cli("operators", "add-key", "toutoulouse", "--label", "ops team")
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("blop_") and "shown once" in added.stderr
    assert cli("operators", "add-key", "Not A Slug").returncode == 1
    listed = cli("operators", "list-keys").stdout
    assert listed.startswith("1\ttoutoulouse\tops team\t") and "active" in listed
    assert key not in listed

    with (
        serve_routes(shop_feed()) as feed,
        serve_routes(shop_feed("identifiant;enseigne\n1;Fournil\n")) as bad_feed,
        operator_api(tmp_path, database_url) as (_, base_url),
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as api,
    ):
        for cid, url in (("good", f"{feed}/shops.csv"), ("bad", f"{bad_feed}/shops.csv")):
            created = api.post("/api/operator/connectors", json=csv_registration(url, id=cid))
            assert created.status_code == 201
        refused = cli("connectors", "enable", "bad")
        assert refused.returncode == 1 and "column 'nom' mapped to name" in refused.stderr
        assert api.get("/api/operator/connectors/bad").json()["check"]["ok"] is False
        enabled = cli("connectors", "enable", "good")  # checks first: never checked so far
        assert enabled.returncode == 0 and "enabled good" in enabled.stdout, enabled.stderr
        assert api.get("/api/operator/connectors/good").json()["enabled"] is True
        assert cli("connectors", "run", "good").returncode == 0

        runs = cli("connectors", "runs", "good").stdout
        assert runs.startswith("run 1 started ") and "fetched=4 new=3" in runs
        refusals = cli("connectors", "runs", "good", "--quarantine", "1").stdout
        assert "1 refused records" in refusals and "line 3: name (from 'nom')" in refusals
        assert "disabled good" in cli("connectors", "disable", "good").stdout
        assert api.get("/api/operator/connectors/good").json()["enabled"] is False

        assert "revoked key 1 of platform toutoulouse" in cli("operators", "revoke-key", "1").stdout
        assert api.get("/api/operator/connectors").status_code == 401

    deleted = cli("connectors", "delete", "good")
    assert "deleted good; 3 records marked gone" in deleted.stdout
