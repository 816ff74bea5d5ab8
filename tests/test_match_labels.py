"""Labels from a file and from the terminal become decisions that the next run obeys."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.models import Verdict
from aggregator.store import Store
from tests.test_cli import cli_env

SHOPS_A = (
    "id,name,address,postcode,city,phone\n"
    "1,Boulangerie Ange,12 rue du Taur,31000,Toulouse,05 61 22 33 44\n"
    "2,Fromagerie des Carmes,3 place des Carmes,31000,Toulouse,\n"
    "3,Librairie Ombres Blanches,50 rue Gambetta,31000,Toulouse,0561445566\n"
    "4,Garage Martin,2 route de Blagnac,31200,Toulouse,0561000002\n"
)
SHOPS_B = (
    "id,name,address,postcode,city,phone\n"
    "x1,Boulangerie Ange,12 rue du Taur,31000,Toulouse,+33 5 61 22 33 44\n"
    "x2,Fromagerie Carmes,place des Carmes,31000,Toulouse,\n"
    "x3,Ombres Blanches,50 rue Gambetta,31000,Toulouse,\n"
    "x4,Martin Automobiles,route de Blagnac,31200,Toulouse,\n"
)
REGISTRATION = """\
platform: {platform}
kind: csv
url: {path}
country: FR
mapping:
  source_id: id
  name: name
  address: address
  postcode: postcode
  city: city
  phone: phone
"""


def aggregator(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=cli_env(tmp_path),
        timeout=180,
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """Two platforms registered in the config directory and run once."""
    connectors = tmp_path / "config" / "connectors"
    connectors.mkdir(parents=True)
    for platform, text in (("alpha", SHOPS_A), ("beta", SHOPS_B)):
        path = tmp_path / f"{platform}.csv"
        path.write_text(text, encoding="utf-8")
        (connectors / f"{platform}.yaml").write_text(
            REGISTRATION.format(platform=platform, path=path), encoding="utf-8"
        )
    ran = aggregator(tmp_path, "run")
    assert ran.returncode == 0, ran.stderr
    return tmp_path


def entities(tmp_path: Path) -> dict[str, str]:
    exported = aggregator(tmp_path, "export", "entities", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = csv.DictReader(io.StringIO(exported.stdout))
    return {f"{r['platform']}:{r['source_id']}": r["entity_id"] for r in rows}


def decisions(tmp_path: Path) -> list:
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'aggregator.sqlite3'}")
    try:
        return store.list_decisions()
    finally:
        store.dispose()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,verdict\nalpha:1,beta:x1,same\nalpha:2,beta:x2,maybe\n", "line 3: verdict 'maybe'"),
        ("a,b,verdict\nalpha:1,beta:x1,same\nalpha-2,beta:x2,same\n", "line 3: expected PLATFORM"),
        ("a,b\nalpha:1,beta:x1\n", "missing column(s) verdict"),
        ("a,b,verdict\nalpha:1,alpha:1,same\n", "line 2: a record cannot be labelled"),
        ("a,b,verdict\nalpha:1,beta:x1,same\nbeta:x1,alpha:1,different\n", "line 2"),
        ("a,b,verdict\nalpha:1,beta:x1,same\nalpha:9,beta:x2,same\n", "line 3: no live shop"),
    ],
)
def test_a_bad_labels_file_names_its_line_and_stores_nothing(
    deployment: Path, text: str, expected: str
) -> None:
    result = aggregator(deployment, "match", "import-labels", str(write(deployment, text)))
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert decisions(deployment) == []


def test_imported_labels_are_obeyed_by_the_next_run(deployment: Path) -> None:
    before = entities(deployment)
    assert before["alpha:1"] == before["beta:x1"]  # same phone, name, address
    assert before["alpha:4"] != before["beta:x4"]
    labels = (
        "a,b,verdict,reviewer,note\n"
        "alpha:1,beta:x1,different,cci-31,two bakeries of one family\n"
        "beta:x4,alpha:4,same,,renamed in 2021\n"
    )
    result = aggregator(deployment, "match", "import-labels", str(write(deployment, labels)))
    assert result.returncode == 0, result.stderr
    assert "stored 2 decisions (1 same, 1 different)" in result.stdout
    stored = {(str(d.a), str(d.b)): d for d in decisions(deployment)}
    assert stored[("alpha:1", "beta:x1")].verdict == Verdict.cannot_link
    assert stored[("alpha:1", "beta:x1")].reviewer == "cci-31"
    assert stored[("beta:x4", "alpha:4")].verdict == Verdict.must_link
    assert stored[("beta:x4", "alpha:4")].reviewer == "import"
    assert aggregator(deployment, "run").returncode == 0
    after = entities(deployment)
    assert after["alpha:1"] != after["beta:x1"]
    assert after["alpha:4"] == after["beta:x4"]


def test_label_loop_asks_takes_back_and_stores_answers(deployment: Path) -> None:
    # First pair: yes; the second is shown, back: the first again, no; the second again:
    # unsure; a third is shown: quit.
    answers = "y\nback\nn\nu\nq\n"
    result = aggregator(deployment, "match", "label", "--reviewer", "ana", stdin=answers)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    asked = [line.split("   probability")[0] for line in out.splitlines() if "  vs  " in line]
    assert len(asked) == 5, asked
    assert asked[0] == asked[2] and asked[1] == asked[3] and asked[0] != asked[1], asked
    assert asked[4] not in asked[:4], asked
    assert "field" in out and "match weight" in out  # the evidence of `match explain`
    assert "stored 1 decisions" in out
    [decision] = decisions(deployment)
    first_a, first_b = asked[0].split("  vs  ")
    assert (str(decision.a), str(decision.b)) == (first_a.strip(), first_b.strip())
    assert decision.verdict == Verdict.cannot_link and decision.reviewer == "ana"
    # The next loop does not ask the decided pair again; the next run obeys the answer.
    again = aggregator(deployment, "match", "label", stdin="q\n")
    assert asked[0] not in again.stdout
    assert aggregator(deployment, "run").returncode == 0
    after = entities(deployment)
    assert after[first_a.strip()] != after[first_b.strip()]


def test_label_loop_stops_when_nothing_is_left_to_ask(deployment: Path) -> None:
    answers = "n\n" * 12
    result = aggregator(deployment, "match", "label", stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "no more pairs to ask" in result.stdout
    assert len(decisions(deployment)) == result.stdout.count("same shop?") >= 2
