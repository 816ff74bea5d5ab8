"""Shared fixtures: both stores (SQLite always, PostgreSQL when a server is named), settings."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from connectors.http import FeedClient
from tests.loopback import only_loopback_connections

POSTGRES_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")
SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def _postgres_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("AGGREGATOR_TEST_POSTGRES_URL is not set: no PostgreSQL server to test on")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable: {error.orig}")
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url)
    yield store
    store.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    config = tmp_path / "config"
    (config / "connectors").mkdir(parents=True)
    return Settings(
        data_dir=tmp_path / "var",
        config_dir=config,
        database_url=database_url,
        allow_hosts="127.0.0.1:*",
    )


@pytest.fixture
def shared_real() -> Path:
    if not SHARED_REAL.is_dir():
        pytest.skip(f"{SHARED_REAL} is absent: the real-data samples live beside the repository")
    return SHARED_REAL


@pytest.fixture
def loopback_only() -> Iterator[None]:
    """No connection leaves the machine: connector tests talk to loopback servers only."""
    with only_loopback_connections():
        yield


@pytest.fixture
def context(loopback_only: None) -> Iterator[ReadContext]:
    """What a connector reads with in tests: loopback servers (no retry waits), local files."""
    with FeedClient(allowed_hosts={"127.0.0.1:*"}, sleep=lambda _: None) as http:
        yield ReadContext(http=http, allow_local_files=True)


#: Debian's Chromium, driven by Playwright from PyPI (never a downloaded browser).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Without the background-networking flags Chromium reaches for other hosts at start.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
