"""`aggregator demo` on its default settings: a review queue to show, and the quality it prints."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from aggregator.cli import app


def test_the_demo_leaves_pairs_to_review_and_merges_nothing_wrongly(tmp_path: Path) -> None:
    config = Path(__file__).resolve().parents[1] / "config"  # the taxonomy `make demo` reads
    env = {"AGGREGATOR_DATA_DIR": str(tmp_path / "var"), "AGGREGATOR_CONFIG_DIR": str(config)}
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--shops", "300"], env=env)
    assert result.exit_code == 0, result.output
    quality = re.search(r"truth: precision=([\d.]+), recall=([\d.]+)", result.output)
    assert quality is not None and float(quality.group(1)) == 1.0, result.output
    queue = re.search(r"review desk: (\d+) pairs await a chamber \((\d+) the same", result.output)
    assert queue is not None and int(queue.group(1)) > 0, result.output
    if float(quality.group(2)) < 1.0:  # what it left apart waits in the queue, ruled right
        assert "once ruled as the truth says: precision=1.000, recall=1.000" in result.output


def test_a_second_demo_counts_the_records_kept_not_only_those_fetched_again(
    tmp_path: Path,
) -> None:
    config = Path(__file__).resolve().parents[1] / "config"
    env = {"AGGREGATOR_DATA_DIR": str(tmp_path / "var"), "AGGREGATOR_CONFIG_DIR": str(config)}
    counts = []
    for _ in range(2):  # the second run: feeds answer "not modified", nothing is fetched again
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--shops", "120"], env=env)
        assert result.exit_code == 0, result.output
        found = re.search(r"matching: (\d+) shops from (\d+) records", result.output)
        assert found is not None, result.output
        counts.append((int(found.group(1)), int(found.group(2))))
    assert "0 fetched" in result.output  # some feed was not fetched again
    assert counts[0] == counts[1] and counts[0][1] > counts[0][0] > 0
