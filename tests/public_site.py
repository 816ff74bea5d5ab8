"""The demo catalogue served by ``aggregator serve`` in a child process, its output kept.

The server listens on 127.0.0.2 so that a client connecting from 127.0.0.1 (what Linux picks
for loopback) has an address the logs can be searched for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from tests.webserver import free_port

HOST = "127.0.0.2"
CLIENT = "127.0.0.1"
#: A Tuesday at 10:00 in Paris, not a public holiday: most demo shops are open.
CLOCK = "2026-12-08T10:00:00+01:00"


@dataclass
class Site:
    base_url: str
    platforms_url: str
    log: Path
    runtime: Runtime

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def served_demo(root: Path, n_shops: int = 150) -> Iterator[Site]:
    """Ingest and match the demo catalogue from its five platforms, as ``make demo`` does, then
    serve it with ``aggregator serve``."""
    env = {
        **os.environ,
        "AGGREGATOR_DATA_DIR": str(root / "var"),
        "AGGREGATOR_CONFIG_DIR": str(root / "config"),
        "AGGREGATOR_ALLOW_HOSTS": "127.0.0.1:*",
        "AGGREGATOR_CLOCK": CLOCK,
    }
    settings = Settings(
        data_dir=root / "var", config_dir=root / "config", allow_hosts="127.0.0.1:*", clock=CLOCK
    )
    runtime = Runtime(settings)
    with DemoPlatforms(generate_catalogue(n_shops=n_shops), port=0) as platforms:
        for registration in platforms.registrations():
            runtime.store.save_connector(registration, origin="cli")
        runtime.run_all()
        port = free_port()
        log = root / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "aggregator.cli", "serve", "--no-schedule"]
                + ["--host", HOST, "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://{HOST}:{port}"
        try:
            _wait_for(base_url, server)
            yield Site(base_url, platforms.base_url, log, runtime)
        finally:
            server.terminate()
            server.wait(timeout=20)
            runtime.close()


def _wait_for(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("aggregator serve stopped at start")
        try:
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("aggregator serve did not answer")
