"""Progress at the terminal: records read with their rate and time left, stages with elapsed
and expected time; and `aggregator run` showing them on a real run."""

from __future__ import annotations

import io
import time
from pathlib import Path

from aggregator.pipeline import BATCH_SIZE
from aggregator.progress import Progress, duration
from tests.test_cli import aggregator


def test_counts_show_rate_and_time_left() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, every_s=0)
    progress.count("reading x", 0, total=10_000)
    time.sleep(0.05)
    progress.count("reading x", 5_000, total=10_000)
    progress.done("reading x", "ok, 10,000 read")
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("reading x: 5,000 records, ") and "/s, about " in lines[1]
    assert lines[1].endswith(" left") and lines[2].startswith("reading x: ok, 10,000 read in ")


def test_a_terminal_line_is_redrawn_and_logs_are_rate_limited() -> None:
    tty, log = io.StringIO(), io.StringIO()
    Progress(tty, tty=True).count("reading y", 10)
    assert tty.getvalue().startswith("\r\033[K") and "\n" not in tty.getvalue()
    slow = Progress(log, tty=False, every_s=60)
    for n in range(100):
        slow.count("reading y", n)
    assert len(log.getvalue().splitlines()) == 1  # one line a minute in a log, not a hundred


def test_a_stage_shows_elapsed_and_expected_time() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, every_s=0.05)
    with progress.stage("matching", expected_s=600):
        time.sleep(0.2)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("matching: 0 s, about 10 min") for line in lines), lines
    assert lines[-1].startswith("matching: done in ")
    assert duration(3725) == "1 h 02 min" and duration(75) == "1 min 15 s"


def test_aggregator_run_shows_progress(tmp_path: Path) -> None:
    total = 2 * BATCH_SIZE + 500  # progress is shown after each stored batch
    rows = "\n".join(f"{i};Boutique {i};Toulouse" for i in range(total))
    (tmp_path / "shops.csv").write_text("id;nom;ville\n" + rows + "\n", encoding="utf-8")
    config = tmp_path / "config" / "connectors"
    config.mkdir(parents=True)
    (config / "shops.yaml").write_text(
        f"platform: toutoulouse\nkind: csv\nurl: {tmp_path / 'shops.csv'}\n"
        "mapping: {source_id: id, name: nom, city: ville}\n",
        encoding="utf-8",
    )
    first = aggregator(tmp_path, "run")
    assert first.returncode == 0, first.stderr
    assert f"reading toutoulouse-csv: {BATCH_SIZE:,} records, " in first.stderr
    assert f"reading toutoulouse-csv: ok, {total:,} read in " in first.stderr
    assert "matching: done in " in first.stderr and "indexing: done in " in first.stderr
    assert "matching: " in first.stdout and "INFO alembic" not in first.stderr
    second = aggregator(tmp_path, "run")  # now the last run says how many to expect
    assert second.returncode == 0, second.stderr
    assert (
        "left"
        in second.stderr.split(f"reading toutoulouse-csv: {BATCH_SIZE:,} records")[1].splitlines()[
            0
        ]
    )
