"""The command line as a user runs it: registrations, errors that name the problem, exports."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import serve_routes

SHOPS_CSV = (
    "id;nom;adresse;cp;ville;tel;type\n"
    "1;Boulangerie Saint-Cyprien;12 av. Étienne Billières;31300;Toulouse;05 61 42 10 11;"
    "boulangerie\n"
    "2;Fromagerie des Carmes;3 place des Carmes;31000;Toulouse;0561223344;fromagerie\n"
    "3;Boucherie Durand;8 rue du Taur;31000;Toulouse;+33 5 61 21 00 00;boucherie\n"
)

GOOD = """\
platform: fodors
kind: csv
url: {url}
country: FR
mapping:
  source_id: id
  name: nom
  address: adresse
  city: ville
  postcode: cp
  phone: tel
  category: type
"""


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an `aggregator` command whose data and config live under tmp_path."""
    env = dict(
        os.environ,
        AGGREGATOR_DATA_DIR=str(tmp_path / "var"),
        AGGREGATOR_CONFIG_DIR=str(tmp_path / "config"),
        AGGREGATOR_ALLOW_HOSTS="127.0.0.1:*",
    )
    env.pop("AGGREGATOR_DATABASE_URL", None)
    return env


def aggregator(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        timeout=120,
    )


@pytest.fixture
def shops_csv(tmp_path: Path) -> Path:
    path = tmp_path / "shops.csv"
    path.write_text(SHOPS_CSV, encoding="utf-8")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def listed(tmp_path: Path) -> str:
    return aggregator(tmp_path, "connectors", "list").stdout


def test_add_run_export_and_search(tmp_path: Path, shops_csv: Path) -> None:
    added = aggregator(
        tmp_path, "connectors", "add", str(write(tmp_path, "ok.yaml", GOOD.format(url=shops_csv)))
    )
    assert added.returncode == 0, added.stderr
    assert "registered fodors-csv" in added.stdout
    ran = aggregator(tmp_path, "connectors", "run", "fodors-csv")
    assert ran.returncode == 0, ran.stderr
    assert "fetched=3 new=3" in ran.stdout

    exported = aggregator(tmp_path, "export", "entities", "--format", "csv")
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert rows[0] == ["entity_id", "platform", "source_id"]
    assert sorted(r[2] for r in rows[1:]) == ["1", "2", "3"]

    as_json = json.loads(aggregator(tmp_path, "export", "entities", "--format", "json").stdout)
    assert len(as_json) == 3 and all(e["golden"]["name"]["platform"] == "fodors" for e in as_json)

    found = aggregator(tmp_path, "search", "fromagrie", "--json")
    answer = json.loads(found.stdout)
    assert answer["hits"][0]["name"] == "Fromagerie des Carmes"
    assert answer["hits"][0]["entity_id"] in {r[0] for r in rows[1:]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("mapping:", "mapingg:"), "mapingg: unknown field"),
        (GOOD.replace("  city: ville", "  ville: ville"), "unknown mapping field(s) ville"),
        (GOOD.replace("kind: csv", "kind: cvs"), "cvs"),
        (GOOD.replace("  phone: tel", "  phone: telephone"), "telephone"),
    ],
)
def test_bad_registration_names_the_problem_and_changes_nothing(
    tmp_path: Path, shops_csv: Path, text: str, expected: str
) -> None:
    aggregator(
        tmp_path, "connectors", "add", str(write(tmp_path, "ok.yaml", GOOD.format(url=shops_csv)))
    )
    before = listed(tmp_path)
    bad = write(tmp_path, "bad.yaml", text.format(url=shops_csv).replace("fodors", "fodors2"))
    result = aggregator(tmp_path, "connectors", "add", str(bad))
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert listed(tmp_path) == before


def test_unreachable_url_is_refused_with_its_reason(tmp_path: Path) -> None:
    with serve_routes({}) as base_url:
        port = base_url.rsplit(":", 1)[1]
    dead = f"http://127.0.0.1:{port}/shops.csv"  # the server is gone: nothing listens there
    result = aggregator(
        tmp_path, "connectors", "add", str(write(tmp_path, "dead.yaml", GOOD.format(url=dead)))
    )
    assert result.returncode == 1
    assert dead in result.stderr
    assert "fodors" not in listed(tmp_path)


def test_failing_feed_keeps_the_stored_shops(tmp_path: Path, shops_csv: Path) -> None:
    reg = write(tmp_path, "ok.yaml", GOOD.format(url=shops_csv))
    assert aggregator(tmp_path, "connectors", "add", str(reg)).returncode == 0
    assert aggregator(tmp_path, "connectors", "run", "fodors-csv").returncode == 0
    shops_csv.write_text("garbage without the header\n\x00\x01", encoding="utf-8")
    failed = aggregator(tmp_path, "connectors", "run", "fodors-csv")
    assert failed.returncode == 1
    assert "nom" in failed.stdout  # the missing mapped column is named
    found = json.loads(aggregator(tmp_path, "search", "boulangerie", "--json").stdout)
    assert found["total"] == 1


def test_checks_from_the_command_line_are_recorded(tmp_path: Path, shops_csv: Path) -> None:
    from aggregator.settings import Settings
    from aggregator.store import Store

    reg = write(tmp_path, "ok.yaml", GOOD.format(url=shops_csv))
    assert aggregator(tmp_path, "connectors", "add", str(reg)).returncode == 0
    settings = Settings(data_dir=tmp_path / "var")
    store = Store.open(settings.resolved_database_url)
    assert store.check_status("fodors-csv").passed  # the check `add` ran counts
    shops_csv.write_text("garbage without the header\n", encoding="utf-8")
    assert aggregator(tmp_path, "connectors", "check", "fodors-csv").returncode == 1
    status = store.check_status("fodors-csv")
    assert status.ok is False and status.checked_at is not None
    store.dispose()
