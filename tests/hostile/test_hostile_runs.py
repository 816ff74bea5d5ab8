"""Hostile volume and bad luck: a feed of duplicates flooding the quarantine, runs left
"running" by a killed process, and the schema_org kind registered the documented way (YAML,
command line, operator API) and crawled over a sitemap pointing at files and other ports."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.registrations import load_registration_file, parse_registration
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Item, ReadContext, Rejection
from connectors.http import FeedClient
from connectors.registry import get_kind
from tests.hostile.evil_platform import EvilPlatform, good_shop, good_shops, snapshot

pytestmark = pytest.mark.usefixtures("loopback_only")
BAKERY_PAGE = (
    '<html><head><script type="application/ld+json">'
    '{"@type": "Bakery", "name": "Fournil de la Daurade", "telephone": "05 61 00 00 09"}'
    "</script></head></html>"
)


def test_a_feed_of_duplicates_keeps_a_capped_quarantine(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops([good_shop(1)] * 3000)
    runner = evil.runner(store, context, settings, limits={"quarantine_max_per_run": 100})
    run = runner()
    assert (run.status, run.counts.new, run.counts.rejected) == ("ok", 1, 2999)
    reasons = runner.quarantined(run)
    assert len(reasons) == 101
    assert reasons[-1] == (
        "2899 more refused records not kept: at most 100 are kept per run (quarantine_max_per_run)"
    )


def test_the_quarantine_keeps_only_the_latest_runs(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops([good_shop(1), good_shop(1), {"id": "x"}])
    runner = evil.runner(store, context, settings, limits={"quarantine_keep_runs": 2})
    runs = [runner() for _ in range(4)]
    kept = [len(runner.quarantined(run)) for run in runs]
    assert kept == [0, 0, 2, 2]
    with store.engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(t.quarantine))
    assert total == 4


def test_the_quarantine_settings_apply_when_a_connector_sets_none(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops([good_shop(1)] * 50)
    runner = evil.runner(store, context, settings)
    run = runner(quarantine_max_per_run=10, quarantine_keep_runs=1)
    assert len(runner.quarantined(run)) == 11


def _kill_mid_run(database_url: str, connector_id: str) -> None:
    """A real process that starts a run and is killed (SIGKILL) before it finishes."""
    script = (
        "import os, signal, sys\n"
        "from aggregator.store import Store\n"
        "store = Store.open(sys.argv[1])\n"
        "store.start_run(sys.argv[2])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, database_url, connector_id], check=False)
    assert done.returncode == -signal.SIGKILL


def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings, database_url: str
) -> None:
    evil.json_shops(good_shops(3))
    runner = evil.runner(store, context, settings)
    assert runner().status == "ok"
    before = snapshot(store)
    _kill_mid_run(database_url, runner.cid)
    (killed,) = [r for r in store.list_runs(runner.cid) if r.status == "running"]
    run = runner()
    assert run.status == "ok"
    (after,) = [r for r in store.list_runs(runner.cid) if r.id == killed.id]
    assert after.status == "failed"
    assert after.errors == ["interrupted: the process running it stopped before the run finished"]
    assert after.finished_at is not None
    assert snapshot(store) == before
    assert [r.status for r in store.list_runs(runner.cid)].count("running") == 0


def test_a_run_of_a_live_process_is_left_alone(store: Store) -> None:
    """Only a run whose process is gone is interrupted: another worker's run goes on."""
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as worker:
        try:
            live = store.start_run("evil-json-api")
            legacy = store.start_run("evil-json-api")  # written before runs had an owner
            with store.engine.begin() as conn:
                owner = f"{socket.gethostname()[:180]}:{worker.pid}"
                conn.execute(t.runs.update().where(t.runs.c.id == live.id).values(owner=owner))
                conn.execute(t.runs.update().where(t.runs.c.id == legacy.id).values(owner=None))
            assert store.mark_interrupted_runs("evil-json-api") == 1
            status = {r.id: r.status for r in store.list_runs("evil-json-api")}
            assert (status[live.id], status[legacy.id]) == ("running", "failed")
        finally:
            worker.kill()
    assert store.mark_interrupted_runs("evil-json-api") == 1  # its worker is gone now


# -- schema_org, the documented way ---------------------------------------------------------
def _site(evil: EvilPlatform, *extra_entries: str, shops: int = 1) -> str:
    good = [f"{evil.url}/boutique-{n}.html" for n in range(2, shops + 1)]
    entries = [f"{evil.url}/boutique.html", *good, *extra_entries]
    for n in range(2, shops + 1):
        evil.serve(f"/boutique-{n}.html", (200, {"Content-Type": "text/html"}, BAKERY_PAGE))
    urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in entries)
    xmlns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    sitemap = f'<urlset xmlns="{xmlns}">{urls}</urlset>'
    evil.serve("/robots.txt", (200, {"Content-Type": "text/plain"}, ""))
    evil.serve("/boutique.html", (200, {"Content-Type": "text/html; charset=utf-8"}, BAKERY_PAGE))
    return evil.serve("/sitemap.xml", (200, {"Content-Type": "application/xml"}, sitemap))


def test_schema_org_registers_from_yaml_without_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "tousoccitariens.yaml"
    path.write_text(
        "platform: tousoccitariens\nkind: schema_org\n"
        "url: https://tousoccitariens.example/sitemap.xml\n"
        "options:\n  politeness_delay_s: 1\n  full_refresh_every: 7\n",
        encoding="utf-8",
    )
    (registration,) = load_registration_file(path)
    assert (registration.kind, registration.mapping) == ("schema_org", {})


def test_schema_org_with_a_mapping_is_refused_with_the_reason() -> None:
    data = {"platform": "p", "kind": "schema_org", "url": "https://p.example/sitemap.xml"}
    parse_registration(data)  # no mapping: fine
    with pytest.raises(ValueError, match="schema_org .*not a mapping: remove the mapping"):
        parse_registration(data | {"mapping": {"source_id": "id", "name": "name"}})


def test_schema_org_registers_from_the_command_line(evil: EvilPlatform, tmp_path: Path) -> None:
    sitemap = _site(evil)
    path = tmp_path / "site.yaml"
    path.write_text(
        json.dumps({"platform": "evil", "kind": "schema_org", "url": sitemap,
                    "options": {"politeness_delay_s": 0}}),
        encoding="utf-8",
    )  # fmt: skip
    settings = Settings(data_dir=tmp_path / "var", allow_hosts="127.0.0.1:*")
    runtime = Runtime(settings)
    try:
        (cid,) = runtime.add_registration_file(path, origin="cli")
        run = runtime.run_connector(cid)
        assert (run.status, run.counts.new) == ("ok", 1), run.errors
    finally:
        runtime.close()


def test_schema_org_registers_through_the_operator_api(
    evil: EvilPlatform, tmp_path: Path, database_url: str
) -> None:
    from tests.test_operator_api import client_for, operator_api

    sitemap = _site(evil)
    body = {"kind": "schema_org", "url": sitemap, "options": {"politeness_delay_s": 0}}
    with (
        operator_api(tmp_path, database_url) as (runtime, base_url),
        client_for(runtime, base_url, "evil") as client,
    ):
        created = client.post("/api/operator/connectors", json=body)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        checked = client.post(f"/api/operator/connectors/{cid}/check")
        assert checked.status_code == 200 and checked.json()["ok"], checked.text
        refused = client.post(
            "/api/operator/connectors", json=body | {"mapping": {"source_id": "id"}}
        )
        assert refused.status_code == 422
        limited = client.post(
            "/api/operator/connectors", json=body | {"limits": {"max_run_s": 120}}
        )
        assert limited.status_code == 200, limited.text  # the same id: replaced
        assert runtime.store.get_connector(cid).limits.max_run_s == 120


def test_a_sitemap_pointing_at_files_and_other_ports_is_refused_entry_by_entry(
    evil: EvilPlatform, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text(BAKERY_PAGE.replace("Fournil", "SECRET"), encoding="utf-8")
    with EvilPlatform() as other:
        other.serve("/boutique.html", (200, {"Content-Type": "text/html"}, BAKERY_PAGE))
        sitemap = _site(evil, secret.as_uri(), f"{other.url}/boutique.html", shops=3)
        registration = parse_registration(
            {"platform": "evil", "kind": "schema_org", "url": sitemap,
             "options": {"politeness_delay_s": 0}}
        )  # fmt: skip
        with FeedClient(allowed_hosts={f"127.0.0.1:{evil.port}"}) as http:
            context = ReadContext(http=http, allow_local_files=True)
            emitted = list(get_kind("schema_org").read(registration, {}, context))
        assert other.base is not None and other.base.requests == []
    names = [e.record.name for e in emitted if isinstance(e, Item)]
    assert names == ["Fournil de la Daurade"] * 3  # never "SECRET"
    refused = {e.locator: e.reason for e in emitted if isinstance(e, Rejection)}
    assert "loopback" in refused[f"{other.url}/boutique.html"]
    assert "only http(s) URLs are fetched" in refused[secret.as_uri()]


def test_the_0006_upgrade_keeps_connectors_and_interrupts_runs_of_older_processes(
    database_url: str,
) -> None:
    """A store at 0003 with a run still "running" (written before runs had an owner) upgrades in
    place; that run is interrupted at the connector's next run; the downgrade works too."""
    from alembic import command

    from aggregator.store.base import _alembic_config, create_engine

    engine, cfg = create_engine(database_url), _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    old_runs = sa.table(
        "runs",
        *(sa.column(n) for n in ("connector_id", "started_at", "status")),
        sa.column("errors", sa.JSON),
    )
    with engine.begin() as conn:
        conn.execute(
            old_runs.insert().values(
                connector_id="evil-csv", started_at=utcnow(), status="running", errors=[]
            )
        )
    engine.dispose()
    store = Store.open(database_url)
    assert store.schema_revision() == Store.head_revision()
    assert store.mark_interrupted_runs("evil-csv") == 1
    ((status, errors),) = [(r.status, r.errors) for r in store.list_runs("evil-csv")]
    assert status == "failed" and errors[0].startswith("interrupted")
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006-1")  # this revision's own downgrade
    assert "owner" not in {c["name"] for c in sa.inspect(store.engine).get_columns("runs")}
    store.migrate()
    assert store.schema_revision() == Store.head_revision()
    store.dispose()
