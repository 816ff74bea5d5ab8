"""Kill `aggregator run` with SIGKILL at chosen points and check what the next run leaves.

A CSV feed of ``records`` shops is served on loopback; each ``version`` renames a seventh of
the shops, so every run after a change has records, entities and index documents to write.
Used by ``tests/test_kill.py`` (small) and ``benchmarks/kill.py`` (100,000 records and more).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aggregator.consistency import differences
from aggregator.models import RecordType
from aggregator.store import Store
from search.embedded import EmbeddedBackend
from tests.test_cli import cli_env

#: Log lines that start each phase of a run (``aggregator.runtime`` and ``matching``).
PHASES = {
    "phase: ingest": "ingest",
    "phase: matching": "matching",
    "phase: writing entities": "entity writes",
    "phase: indexing": "index build",
    "rebuilding the search index": "index build",
}
#: (the line after which to kill, seconds to wait after it): spread over the four phases.
KILL_POINTS: list[tuple[str, float]] = [
    ("phase: ingest", 0.0),
    ("phase: ingest", 0.1),
    ("phase: ingest", 0.3),
    ("phase: matching", 0.0),
    ("phase: matching", 0.1),
    ("phase: matching", 0.3),
    ("phase: writing entities", 0.0),
    ("phase: writing entities", 0.02),
    ("phase: indexing", 0.0),
    ("phase: indexing", 0.05),
    ("rebuilding the search index", 0.0),
    ("phase: indexing", 0.2),
]
CITIES = ["Toulouse", "Albi", "Montauban", "Castres", "Rodez", "Auch", "Tarbes", "Foix"]
TRADES = ["Boulangerie", "Fromagerie", "Librairie", "Épicerie", "Fleuriste", "Quincaillerie"]


class Feed:
    """The CSV a platform serves; ``version`` changes a seventh of the names."""

    def __init__(self, records: int) -> None:
        self.records, self.version = records, 0
        self._cache: tuple[int, bytes] | None = None
        self._lock = threading.Lock()

    def name(self, i: int) -> str:
        base = f"{TRADES[i % len(TRADES)]} {i:06d} {CITIES[(i // 7) % len(CITIES)]}"
        return f"{base} v{self.version}" if i % 7 == self.version % 7 else base

    def body(self) -> bytes:
        with self._lock:
            if self._cache is None or self._cache[0] != self.version:
                lines = ["id;nom;ville;cp;type"]
                for i in range(self.records):
                    city = CITIES[(i // 7) % len(CITIES)]
                    postcode = f"{31000 + (i % 900):05d}"
                    trade = TRADES[i % len(TRADES)].lower()
                    lines.append(f"s{i};{self.name(i)};{city};{postcode};{trade}")
                self._cache = (self.version, ("\n".join(lines) + "\n").encode("utf-8"))
            return self._cache[1]

    def route(self, _target: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/csv; charset=utf-8"}, self.body()


REGISTRATION = """\
platform: killfeed
kind: csv
url: {url}
country: FR
mapping:
  source_id: id
  name: nom
  city: ville
  postcode: cp
  category: type
"""


def environment(root: Path) -> dict[str, str]:
    """The environment of an `aggregator` command whose data and config live under ``root``."""
    return cli_env(root)


def configure(root: Path, url: str) -> None:
    (root / "config" / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "config" / "connectors" / "feed.yaml").write_text(REGISTRATION.format(url=url))


@dataclass
class Kill:
    marker: str
    delay_s: float
    #: The phase the process was in when it died (the last phase line it wrote), or
    #: "finished" when it ended before the signal.
    phase: str = ""
    lines: list[str] = field(default_factory=list)


def run_and_kill(root: Path, marker: str, delay_s: float, timeout_s: float = 600) -> Kill:
    """Start `aggregator run`, SIGKILL it ``delay_s`` after it logs ``marker``."""
    kill = Kill(marker, delay_s)
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "run"],
        env=environment(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + timeout_s
    for line in process.stderr:
        kill.lines.append(line.rstrip())
        if marker in line:
            if delay_s:
                time.sleep(delay_s)
            process.send_signal(signal.SIGKILL)
            break
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{marker!r} never came: {kill.lines[-5:]}")
    kill.lines += [line.rstrip() for line in process.stderr]
    code = process.wait(timeout=60)
    phase = "finished" if code == 0 else "?"
    if code != 0:
        for line in kill.lines:
            for text, name in PHASES.items():
                if text in line:
                    phase = name
    kill.phase = phase
    return kill


def run_to_completion(root: Path, timeout_s: float = 1800) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "run"],
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode != 0:
        raise AssertionError(f"the run after a kill failed: {done.stderr[-2000:]}")
    return done


def verify(root: Path, feed: Feed) -> dict[str, int]:
    """What every run after a kill must leave: each record once and current, no run left
    running, and every shop's indexed document equal to the store's, field by field."""
    store = Store.open(f"sqlite:///{(root / 'var' / 'aggregator.sqlite3').resolve()}")
    backend = EmbeddedBackend(root / "var" / "search")
    try:
        records = list(store.iter_raw(RecordType.shop, include_gone=True))
        keys = [(r.platform, r.source_id) for r in records]
        assert len(keys) == len(set(keys)) == feed.records, (len(keys), len(set(keys)))
        stale = [
            r.source_id for r in records if r.record["name"] != feed.name(int(r.source_id[1:]))
        ]
        assert not stale, f"{len(stale)} records not as the feed says, e.g. {stale[:5]}"
        running = [run.id for run in store.list_runs(limit=1000) if run.status == "running"]
        assert not running, f"runs left running: {running}"
        wrong = differences(store, backend)
        assert not wrong, f"{len(wrong)} shops differ in the index, e.g. {list(wrong.items())[:5]}"
        return {
            "records": len(keys),
            "entities": store.count_entities(),
            "indexed": backend.count(),
        }
    finally:
        backend.close()
        store.dispose()
