"""`aggregator match explain` and `aggregator evaluate` on a store filled by a real run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.test_cli import GOOD, aggregator, write

SHOPS = (
    "id;nom;adresse;cp;ville;tel;type\n"
    "1;SARL Boulangerie du Centre;12 bis av. Jean Jaurès;31000;TOULOUSE;05 61 22 33 44;"
    "boulangerie\n"
    "2;Boulangerie du centre;12B avenue Jean-Jaures;31000;Toulouse;+33 5 61 22 33 44;"
    "shop=bakery\n"
    "3;Fromagerie des Carmes;3 place des Carmes;31000;Toulouse;0561520001;fromagerie\n"
)


def test_match_explain_and_evaluate(tmp_path: Path) -> None:
    shops = write(tmp_path, "shops.csv", SHOPS)
    registration = write(tmp_path, "ok.yaml", GOOD.format(url=shops))
    assert aggregator(tmp_path, "connectors", "add", str(registration)).returncode == 0
    assert aggregator(tmp_path, "connectors", "run", "fodors-csv").returncode == 0

    shown = aggregator(tmp_path, "match", "explain", "fodors:1", "fodors:2")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "fodors:1  vs  fodors:2"
    phone = next(line for line in lines if line.startswith("phone"))
    assert "exact" in phone and "+33561223344" in phone
    assert "probability 1.0000" in lines[-1] or "probability 0.99" in lines[-1]

    as_json = json.loads(aggregator(tmp_path, "match", "explain", "fodors:1", "fodors:3",
                                    "--json").stdout)  # fmt: skip
    assert as_json["fields"]["name"]["level"] == "different"
    assert as_json["probability"] < 0.5

    missing = aggregator(tmp_path, "match", "explain", "fodors:1", "fodors:99")
    assert missing.returncode == 1 and "no shop record fodors:99" in missing.stderr
    malformed = aggregator(tmp_path, "match", "explain", "fodors1", "fodors:2")
    assert malformed.returncode == 1 and "PLATFORM:SOURCE_ID" in malformed.stderr

    truth = tmp_path / "truth.csv"
    with truth.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([("platform", "source_id", "true_id"), ("fodors", "1", "centre"),
                          ("fodors", "2", "centre"), ("fodors", "3", "carmes")])  # fmt: skip
    figures = json.loads(aggregator(tmp_path, "evaluate", "--truth", str(truth)).stdout)
    assert figures["f1"] == 1.0 and figures["bcubed_f1"] == 1.0 and figures["records"] == 3


def test_match_explain_uses_the_weights_a_run_saved(tmp_path: Path) -> None:
    from dedupe import MatchModel

    shops = write(tmp_path, "shops.csv", SHOPS)
    registration = write(tmp_path, "ok.yaml", GOOD.format(url=shops))
    assert aggregator(tmp_path, "connectors", "add", str(registration)).returncode == 0
    assert aggregator(tmp_path, "connectors", "run", "fodors-csv").returncode == 0
    model = MatchModel().with_estimates(
        {"phone": [(0.9, 1e-6), (0.05, 1e-4), (0.05, 1.0)]}, prior=1e-6
    )
    (tmp_path / "var" / "matching-model.json").write_text(json.dumps(model.to_dict()))
    shown = aggregator(tmp_path, "match", "explain", "fodors:1", "fodors:2", "--json")
    detail = json.loads(shown.stdout)
    assert detail["weights"] == "estimated"
    assert detail["fields"]["phone"]["weight"] == round(model.comparisons[3].levels[0].weight, 3)
