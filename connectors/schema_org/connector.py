"""Kind ``schema_org``: a site's pages with schema.org markup (JSON-LD, microdata, RDFa), crawled
with Scrapy from its sitemap or from start pages; LocalBusiness types become shops, Product and
Offer become offers.

The crawl runs in a child process (``connectors.schema_org.crawl``): Scrapy's reactor cannot be
restarted, a fresh process per run can. Locators and source ids are page URLs (the canonical
URL, ``#1``, ``#2``... when a page holds several shops or several offers).

Incremental with sitemap ``lastmod``: the state keeps each page's ``lastmod``; a page whose
``lastmod`` did not change is not fetched again. Such a run ends with an incomplete checkpoint,
so nothing is marked gone; every ``full_refresh_every`` runs every page is fetched and a
complete crawl marks the shops and offers that disappeared as gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from aggregator.settings import Settings
from connectors.base import Checkpoint, CheckReport, ConnectorError, Emitted, Item, ReadContext
from connectors.http import AddressRefused, GuardedNetwork, local_path
from connectors.mapping import DuplicateGuard, refusal
from connectors.registry import check_by_reading, parse_options, register
from connectors.schema_org.crawl import CrawlJob, run_crawl

#: A run fails (keeping the last good data) when more than this share of its pages failed.
MAX_FAILED_SHARE = 0.5
_SITEMAP_SUFFIXES = (".xml", ".xml.gz", "/robots.txt")
Syntax = Literal["json-ld", "microdata", "rdfa"]
SYNTAXES: tuple[Syntax, ...] = ("json-ld", "microdata", "rdfa")


class Config(BaseModel):
    """Options of the ``schema_org`` kind."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["auto", "sitemap", "pages"] = Field(
        default="auto",
        description="`sitemap`: the URL is a sitemap, a sitemap index or a robots.txt; `pages`: "
        "start pages; `auto`: a sitemap when the URL ends in .xml, .xml.gz or /robots.txt.",
    )
    start_urls: list[str] = Field(default_factory=list, description="More sitemaps or pages.")
    follow_links: bool = Field(
        default=True, description="From start pages, follow same-site links."
    )
    max_pages: int = Field(default=10_000, ge=1, description="Pages fetched per run at most.")
    politeness_delay_s: float = Field(default=0.5, ge=0, description="Delay between requests.")
    concurrency_per_host: int = Field(default=2, ge=1, le=16)
    full_refresh_every: int = Field(
        default=7, ge=1, description="Every this many runs, fetch every page (1: always)."
    )
    shop: str | None = Field(
        default=None,
        description="source_id of the shop that products on their own pages belong to.",
    )
    syntaxes: list[Syntax] = Field(default_factory=lambda: list(SYNTAXES))
    max_duration_s: float = Field(default=3600.0, gt=0, description="A crawl stops after this.")


class SchemaOrgKind:
    """Streams the child's pages as items; offers whose shop is known only at the end (the
    site's single business) are emitted last."""

    name: ClassVar[str] = "schema_org"
    Config: ClassVar[type[BaseModel]] = Config
    #: Fields come from the schema.org vocabulary: a registration needs no mapping.
    fixed_mapping: ClassVar[bool] = True
    #: ...and a registration giving one is refused (it would be silently ignored otherwise).
    refuses_mapping: ClassVar[bool] = True

    def read(
        self, registration: ConnectorRegistration, state: dict[str, Any], context: ReadContext
    ) -> Iterator[Emitted]:
        config = parse_options(Config, registration)
        events = run_crawl(crawl_job(registration, config, state, context))
        try:
            yield from _Run(registration, config, state).emit(events)
        finally:
            events.close()  # a reader that stops early (check) stops the child at once

    def check(
        self, registration: ConnectorRegistration, context: ReadContext, limit: int = 20
    ) -> CheckReport:
        """A dry run over at most ``limit`` pages (never the whole site)."""
        options, pages = dict(registration.options), registration.options.get("max_pages")
        if pages is None or (isinstance(pages, int) and pages >= 1):  # else read() says why
            options["max_pages"] = min(pages or limit, limit)
        sample = registration.model_copy(update={"options": options})
        return check_by_reading(self, sample, context, limit)


def crawl_job(
    registration: ConnectorRegistration,
    config: Config,
    state: dict[str, Any],
    context: ReadContext,
) -> CrawlJob:
    """The child's instructions: what to crawl, what changed, and the deployment's limits."""
    if registration.mapping:
        raise ConnectorError(
            "kind schema_org reads schema.org properties, not a mapping: remove the mapping"
        )
    urls = [registration.url, *config.start_urls]
    http = context.http
    allowed = sorted(getattr(getattr(http, "network", None), "allowed_hosts", ()))
    for url in urls:
        _vet(url, allowed)
    sitemap = config.source == "sitemap" or (
        config.source == "auto" and urlsplit(registration.url).path.endswith(_SITEMAP_SUFFIXES)
    )
    known = {str(k): str(v) for k, v in (state.get("pages") or {}).items()}
    runs = int(state.get("runs_since_full") or 0)
    headers = getattr(getattr(http, "_client", None), "headers", None) or {}
    defaults = Settings.model_fields
    return CrawlJob(
        urls=urls,
        sitemap=sitemap,
        follow_links=config.follow_links and not sitemap,
        max_pages=config.max_pages,
        known=known,
        full=not known or runs + 1 >= config.full_refresh_every,
        syntaxes=list(config.syntaxes),
        allowed_hosts=allowed,
        user_agent=context.extra.get("user_agent")
        or headers.get("User-Agent")
        or defaults["user_agent"].default,
        timeout_s=getattr(http, "timeout_s", defaults["http_timeout_s"].default),
        max_body_bytes=getattr(http, "max_body_bytes", defaults["max_body_bytes"].default),
        delay_s=config.politeness_delay_s,
        concurrency_per_host=config.concurrency_per_host,
        max_duration_s=_within_run(config.max_duration_s, context),
    )


def _within_run(seconds: float, context: ReadContext) -> float:
    """The crawl's duration, shortened to end before the run's deadline (``max_run_s``)."""
    if context.deadline is None:
        return seconds
    return max(0.001, min(seconds, context.deadline - time.monotonic()))


def _vet(url: str, allowed: list[str]) -> None:
    """Refuse at once what the crawler would refuse: local files, other schemes, guarded hosts."""
    parts = urlsplit(url)
    if local_path(url) is not None or not parts.hostname:
        raise ConnectorError(f"refused {url}: kind schema_org crawls http(s) sites only")
    try:
        port = parts.port or (80 if parts.scheme == "http" else 443)
        GuardedNetwork(allowed).addresses(parts.hostname, port)
    except AddressRefused as exc:
        raise ConnectorError(f"refused {url}: {exc}") from None
    except Exception:  # unresolvable: the crawl reports it with the URL
        pass


class _Run:
    """Turns the child's events into items, rejections and the final checkpoint."""

    def __init__(self, registration: ConnectorRegistration, config: Config, state: dict[str, Any]):
        self.registration, self.config = registration, config
        self.old_pages: dict[str, Any] = dict(state.get("pages") or {})
        self.old_shops: dict[str, Any] = dict(state.get("shops") or {})
        self.runs_since_full = int(state.get("runs_since_full") or 0)
        self.pages: dict[str, str] = {}  # sitemap URL -> lastmod, for the next run
        self.shops: dict[str, list[str]] = {}  # page URL -> source ids of the shops on it
        self.orphans: list[dict[str, Any]] = []  # offers waiting for the site's business
        self.canonicals: set[str] = set()
        self.guard = DuplicateGuard()
        self.fetched = self.skipped = 0
        self.failures: list[tuple[str, str]] = []

    def emit(self, events: Iterator[dict[str, Any]]) -> Iterator[Emitted]:
        done: dict[str, Any] | None = None
        for event in events:
            kind = event.get("event")
            if kind == "page":
                yield from self._page(event)
            elif kind == "skipped":
                self.skipped += 1
                self.pages[event["url"]] = event["lastmod"]
                if event["url"] in self.old_shops:
                    self.shops[event["url"]] = list(self.old_shops[event["url"]])
            elif kind == "failed":
                self.failures.append((event["url"], event["reason"]))
                yield Rejection(locator=event["url"], reason=f"page not read: {event['reason']}")
            elif kind == "fatal":
                raise ConnectorError(event["reason"])
            elif kind == "done":
                done = event
        if done is None:
            raise ConnectorError("the crawler ended without saying it finished")
        yield from self._finish(done)

    def _page(self, event: dict[str, Any]) -> Iterator[Emitted]:
        url = event["url"]
        self.fetched += 1
        if event.get("lastmod"):
            self.pages[url] = event["lastmod"]
        for problem in event.get("problems", []):
            yield Rejection(locator=url, reason=problem)
        if event["canonical"] in self.canonicals:
            return  # another URL of a page already read (its canonical URL says so)
        self.canonicals.add(event["canonical"])
        ids = []
        for candidate in event["shops"]:
            emitted = self._admit(ShopRecord, candidate)
            if isinstance(emitted, Item):
                ids.append(emitted.record.source_id)
            yield emitted
        if ids:
            self.shops[url] = ids
        for candidate in event["offers"]:
            fields = candidate["fields"]
            if "shop_source_id" not in fields and self.config.shop:
                fields["shop_source_id"] = self.config.shop
            if "shop_source_id" in fields:
                yield self._admit(OfferRecord, candidate)
            else:
                self.orphans.append(candidate)

    def _finish(self, done: dict[str, Any]) -> Iterator[Emitted]:
        attempted = self.fetched + len(self.failures)
        if self.failures and len(self.failures) > MAX_FAILED_SHARE * attempted:
            url, reason = self.failures[0]
            raise ConnectorError(
                f"{len(self.failures)} of {attempted} pages could not be read "
                f"(first: {url}: {reason}); the last good data is kept"
            )
        if not attempted and not self.skipped:
            raise ConnectorError(f"no page to read at {self.registration.url} (empty sitemap?)")
        site_shops = {sid for ids in self.shops.values() for sid in ids}
        owner = next(iter(site_shops)) if len(site_shops) == 1 else None
        for candidate in self.orphans:  # products on their own pages: the site's only business
            if owner is not None:
                candidate["fields"]["shop_source_id"] = owner
            yield self._admit(OfferRecord, candidate)
        complete = (
            done.get("reason") == "finished"
            and not done.get("limited")
            and not self.failures
            and not self.skipped
        )
        state = {
            "pages": dict(sorted(self.pages.items())),
            "shops": dict(sorted(self.shops.items())),
            "runs_since_full": 0 if complete else self.runs_since_full + 1,
        }
        yield Checkpoint(state=state, complete=complete)

    def _admit(self, model: type[ShopRecord | OfferRecord], candidate: dict[str, Any]) -> Emitted:
        fields, raw = candidate["fields"], candidate["raw"]
        locator = str(fields.get("source_id"))
        data = {"platform": self.registration.platform, **fields}
        if model is ShopRecord:
            data.setdefault("country", self.registration.country)
        try:
            record = model.model_validate(data)
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: "
                f"{'missing or empty' if e['type'] == 'missing' else e['msg']}"
                for e in exc.errors()
            )
            return refusal(model, data.get("source_id"), locator, reason, raw)
        return self.guard.admit(record, raw, locator)


register(SchemaOrgKind())
