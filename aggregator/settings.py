"""Deployment settings, read from the environment (prefix ``AGGREGATOR_``)."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is documented in ``docs/configuration.md`` (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_", extra="ignore")

    data_dir: Path = Path("./var")
    config_dir: Path = Path("./config")
    #: SQLAlchemy URL; defaults to a SQLite file under ``data_dir``.
    database_url: str | None = None
    search_backend: Literal["embedded", "meilisearch"] = "embedded"
    meili_url: str | None = Field(default=None, validation_alias=AliasChoices("MEILI_URL"))
    #: What indexes (the worker): the master key, or an admin key allowed to manage the indexes.
    meili_master_key: str | None = Field(
        default=None, validation_alias=AliasChoices("MEILI_MASTER_KEY")
    )
    #: What searches (the web): a key whose only action is ``search``, or a tenant token signed
    #: with one. A process given only this key can search and never write.
    meili_search_key: str | None = Field(
        default=None, validation_alias=AliasChoices("MEILI_SEARCH_KEY")
    )
    #: Hosts (names or IPs) feeds may be fetched from even though they resolve to private or
    #: loopback addresses; comma-separated. Empty in production; the demo and tests set it.
    allow_hosts: str = ""
    #: Identifies our crawler to the platforms; the contact URL says who to call.
    user_agent: str = "buy-local-aggregator/0.1 (+https://github.com/buy-local/aggregator)"
    http_timeout_s: float = 20.0
    max_body_bytes: int = 200 * 1024 * 1024
    #: A whole download (redirects and retries included) must end within this many seconds,
    #: however steadily the bytes arrive; a connector's ``limits`` may lower or raise it.
    max_download_s: float = 600.0
    #: A connector's whole run must end within this many seconds (``limits.max_run_s``).
    max_run_s: float = 4 * 3600.0
    #: Refused records are kept for this many of a connector's latest runs (``limits``).
    quarantine_keep_runs: int = 10
    #: At most this many refused records are kept per run; the run still counts them all.
    quarantine_max_per_run: int = 1000
    #: A full refresh returning fewer than this share of the live records marks nothing gone.
    truncation_ratio: float = 0.5
    #: A long-running service matches only what changed between runs; every this many hours
    #: (and at each start) it re-matches everything, re-estimating the weights. 0: always.
    match_full_every_h: float = 24.0
    #: Log JSON lines (time, level, logger, message, connector and run ids) instead of text.
    log_json: bool = False
    #: How a full matching gets its weights: ``auto`` fits them to the records at hand (the
    #: a priori weights only when the fit fails), ``off`` always uses the a priori weights.
    match_estimate: Literal["auto", "off"] = "auto"
    #: Worker processes that normalise the records of a full matching in ``aggregator worker``
    #: and ``aggregator run`` (forked at their start, before any thread); 1: none. The web
    #: process (``aggregator serve``) always normalises in its own process.
    match_processes: int = Field(default=2, ge=1, le=64)
    #: A fixed "now" for the public pages' opening hours (demos, tests); unset: the real clock.
    clock: datetime | None = None
    #: ``/readyz`` fails while the oldest store change the index lacks is older than this.
    ready_max_lag_s: float = 900.0
    #: Total time a web request may take before it is answered 504 (operator checks and runs
    #: have their own, longer deadline; the work they started still finishes in the background).
    request_deadline_s: float = 30.0
    operator_deadline_s: float = 300.0
    #: Checks and runs asked through the operator API at once: per key, and in all.
    operator_max_per_key: int = 2
    operator_max_total: int = 4
    #: Token buckets (requests per second, burst): public pages and API per client address,
    #: operator API per key. 0 per second turns a limit off.
    rate_public_per_s: float = 20.0
    rate_public_burst: int = 60
    rate_operator_per_s: float = 2.0
    rate_operator_burst: int = 30

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aggregator.sqlite3').resolve()}"

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.allow_hosts.split(",") if h.strip())

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
