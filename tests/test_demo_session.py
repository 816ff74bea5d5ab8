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
