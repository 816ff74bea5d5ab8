"""The hostile suite's fixtures: an evil platform on loopback, read as an administrator's
connector (local files allowed for the registered URL), into both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.settings import Settings
from connectors.base import ReadContext
from connectors.http import FeedClient
from tests.hostile.evil_platform import EvilPlatform

#: Loopback on every port: the evil servers take any free port (see ``host_allowed``).
ALLOW = "127.0.0.1:*"


@pytest.fixture
def evil(loopback_only: None) -> Iterator[EvilPlatform]:
    with EvilPlatform() as platform:
        yield platform


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", allow_hosts=ALLOW)


@pytest.fixture
def waits() -> list[float]:
    """The waits the client asked for (Retry-After, backoff), instead of sleeping them."""
    return []


@pytest.fixture
def context(settings: Settings, waits: list[float], loopback_only: None) -> Iterator[ReadContext]:
    """An administrator's connector: the registered URL may be a local file."""
    with FeedClient.from_settings(settings, sleep=waits.append, timeout_s=2) as http:
        yield ReadContext(http=http, allow_local_files=True)
