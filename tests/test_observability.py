"""Metrics, the operators' status page and JSON logs, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aggregator.jobs import run_and_match
from aggregator.models import ConnectorRegistration
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.test_worker import shops, worker_env
from tests.webserver import serve_app

MAPPING = {"source_id": "id", "name": "nom", "city": "ville"}


def runtime_with_a_run(tmp_path: Path, database_url: str) -> tuple[Runtime, str]:
    runtime = Runtime(
        Settings(
            data_dir=tmp_path / "var", config_dir=tmp_path / "config", database_url=database_url
        )
    )
    feed = tmp_path / "shops.csv"
    feed.write_text(shops("a", 3) + "9;;Toulouse\n", encoding="utf-8")  # one refused
    cid = runtime.store.save_connector(
        ConnectorRegistration(
            platform="toutoulouse", kind="csv", url=str(feed), mapping=MAPPING, schedule="every 6h"
        ),
        origin="cli",
    )
    assert run_and_match(runtime, cid, "test-worker") is not None
    return runtime, cid


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_in_prometheus_format(tmp_path: Path, database_url: str) -> None:
    runtime, _ = runtime_with_a_run(tmp_path, database_url)
    with serve_app(runtime) as base_url:
        assert httpx.get(f"{base_url}/api/search", params={"q": "boutique"}).status_code == 200
        response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("aggregator_runs_total", (("status", "ok"),))] == 1
    assert found[("aggregator_records_total", (("outcome", "new"),))] == 3
    assert found[("aggregator_records_total", (("outcome", "rejected"),))] == 1
    assert found[("aggregator_index_documents", ())] == 3
    assert found[("aggregator_run_requests_queued", ())] == 0
    assert 0 <= found[("aggregator_freshness_seconds", ())] < 600
    assert found[("aggregator_search_latency_seconds_count", (("route", "api"),))] >= 1
    assert found[("aggregator_stage_duration_seconds_count", (("stage", "matching"),))] >= 1
    assert found[("aggregator_run_duration_seconds_count", (("status", "ok"),))] >= 1
    runtime.close()


def test_status_page_behind_the_operator_key(tmp_path: Path, database_url: str) -> None:
    runtime, cid = runtime_with_a_run(tmp_path, database_url)
    _, key = runtime.store.create_api_key("toutoulouse")
    _, other = runtime.store.create_api_key("clickn_co")

    def basic(secret: str) -> dict[str, str]:
        token = base64.b64encode(f"operator:{secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    with serve_app(runtime) as base_url:
        refused = httpx.get(f"{base_url}/operator/status")
        wrong = httpx.get(f"{base_url}/operator/status", headers=basic("blop_nope"))
        page = httpx.get(f"{base_url}/operator/status", headers=basic(key))
        bearer = httpx.get(
            f"{base_url}/operator/status", headers={"Authorization": f"Bearer {key}"}
        )
        outsider = httpx.get(f"{base_url}/operator/status", headers=basic(other))
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert wrong.status_code == 401
    assert page.status_code == 200 and bearer.status_code == 200
    assert "set-cookie" not in page.headers and page.headers["cache-control"] == "no-store"
    html = page.text
    assert f'id="{cid}"' in html and "planification « every 6h »" in html
    assert "prochaine exécution : 20" in html  # a date: the schedule's next turn
    assert "quarantaine du dernier passage : 1" in html
    assert "<td>ok</td>" in html and "3 commerces" in html
    assert cid not in outsider.text  # a key sees its own platform's connectors only
    runtime.close()


def test_json_logs_carry_ids_and_never_a_query_with_an_address(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'var' / 'aggregator.sqlite3'}"
    runtime, cid = runtime_with_a_run(tmp_path, database_url)
    runtime.store.request_run(cid, "cli")
    done = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "worker", "--once", "--log-json"],
        env=worker_env(tmp_path, database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    run_lines = [line for line in lines if line.get("run_id") is not None]
    assert run_lines and all(line["connector_id"] == cid for line in run_lines)
    runtime.close()

    from tests.test_serve_workers import serving

    with serving(tmp_path, "--log-json") as (port, _):
        answer = httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": "moutardesecrete"})
        assert answer.status_code == 200
    log = (tmp_path / "serve.log").read_text()
    access = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any("/api/search" in line["message"] for line in access)
    assert "moutardesecrete" not in log and "127.0.0.1:" not in log.replace(f":{port}", "")
