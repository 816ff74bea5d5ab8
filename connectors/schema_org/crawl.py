"""Kind ``schema_org``'s crawler: a Scrapy spider run in a child process, so every crawl gets a
fresh Twisted reactor and the scheduler or the CLI can crawl again and again in one process.

The parent (``run_crawl``) writes one ``CrawlJob`` as JSON on the child's stdin; the child
(``python -m connectors.schema_org.crawl``) answers one JSON object per line on stdout:

- ``page``: a fetched page, its sitemap ``lastmod`` and the shops and offers it holds;
- ``skipped``: a sitemap entry whose ``lastmod`` did not change since the last run;
- ``failed``: one URL that could not be fetched (HTTP error, timeout, guard, robots.txt);
- ``fatal``: the crawl cannot go on (the sitemap failed or is not a sitemap);
- ``done``: the crawl ended (``reason``, and ``limited`` when ``max_pages`` cut it short).

Every request (pages, sitemaps, robots.txt, redirects) passes the SSRF guard of
``connectors.http`` twice: ``AddressGuard`` vets the host before anything is sent, and
``GuardedResolver`` vets the address the connection really uses (DNS rebinding).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import default_settings as scrapy_defaults
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet.error import DNSLookupError

from connectors.base import ConnectorError
from connectors.http import AddressRefused, GuardedNetwork, address_problem, allowed_names
from connectors.schema_org.extract import PageExtraction, extract_page

MODULE = "connectors.schema_org.crawl"  # not __name__: run with -m, this module is __main__
ALLOWED_HOSTS_SETTING = "SCHEMA_ORG_ALLOWED_HOSTS"
STDERR_TAIL_CHARS = 2000
#: Scrapy 2.19 renamed DNS_RESOLVER; an unknown name would silently drop the resolver's check.
RESOLVER_SETTING = next(
    name for name in ("TWISTED_DNS_RESOLVER", "DNS_RESOLVER") if hasattr(scrapy_defaults, name)
)
#: Twisted's own reactor: nothing here needs asyncio, and measured on loopback the asyncio
#: reactor (Scrapy's default) spent ~60 ms per request where this one spends ~2.
REACTOR = (
    "twisted.internet.epollreactor.EPollReactor"
    if sys.platform.startswith("linux")
    else "twisted.internet.selectreactor.SelectReactor"
)


class CrawlJob(BaseModel):
    """What the child crawls and how politely; built by the ``schema_org`` kind."""

    urls: list[str]
    sitemap: bool
    follow_links: bool = False
    max_pages: int = 10_000
    #: Sitemap URL -> ``lastmod`` of the last run; entries unchanged are skipped unless ``full``.
    known: dict[str, str] = {}
    full: bool = True
    syntaxes: list[str] = ["json-ld", "microdata", "rdfa"]
    allowed_hosts: list[str] = []
    user_agent: str
    timeout_s: float = 20.0
    max_body_bytes: int = 200 * 1024 * 1024
    delay_s: float = 0.5
    concurrency_per_host: int = 2
    max_duration_s: float = 3600.0


def run_crawl(job: CrawlJob) -> Generator[dict[str, Any], None, None]:
    """The child's events as they arrive; closing the iterator early stops the child."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(job.model_dump_json().encode("utf-8"))
            child.stdin.close()
            for line in child.stdout:
                event = json.loads(line)
                yield event
                if event.get("event") == "done":
                    return  # the child's shutdown (~0.5 s) holds nothing we need
            child.wait()
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL_CHARS:].strip()
            raise ConnectorError(f"the crawler stopped (exit {child.returncode}): {tail}")
        finally:
            if child.poll() is None:  # done, or the reader stopped early: nothing more is needed
                child.kill()
                child.wait()
            child.stdout.close()


def crawl_settings(job: CrawlJob) -> dict[str, Any]:
    """Scrapy settings of a crawl: the deployment's limits, the guard, and no surprises."""
    polite = job.delay_s > 0
    return {
        "ROBOTSTXT_OBEY": True,
        "USER_AGENT": job.user_agent,
        "DOWNLOAD_MAXSIZE": job.max_body_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": job.timeout_s,
        "DOWNLOAD_DELAY": job.delay_s,
        "AUTOTHROTTLE_ENABLED": polite,  # slows down further when the site answers slowly
        "AUTOTHROTTLE_START_DELAY": job.delay_s if polite else 1.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": job.concurrency_per_host,
        "CONCURRENT_REQUESTS": max(16, job.concurrency_per_host),
        "CONCURRENT_ITEMS": 4,  # callbacks return a few requests, no items: 100 workers cost
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_TIMES": 2,
        "COOKIES_ENABLED": False,
        "HTTPPROXY_ENABLED": False,  # like the shared client: no proxy from the environment
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "STATS_DUMP": False,
        "CLOSESPIDER_TIMEOUT": job.max_duration_s,
        "DEPTH_PRIORITY": 1,  # breadth first: max_pages keeps the pages nearest the start
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        "DOWNLOADER_MIDDLEWARES": {f"{MODULE}.AddressGuard": 40},
        RESOLVER_SETTING: f"{MODULE}.GuardedResolver",
        "TWISTED_REACTOR": REACTOR,
        ALLOWED_HOSTS_SETTING: job.allowed_hosts,
    }


class Refused(IgnoreRequest):
    """A request the SSRF guard refused before it was sent."""


class AddressGuard:
    """Downloader middleware: refuses any URL that is not http(s) or whose host resolves to a
    loopback, private, link-local, multicast or reserved address, unless the host is allowed."""

    def __init__(self, allowed_hosts: Iterable[str]):
        self.network = GuardedNetwork(allowed_hosts)
        self.verdicts: dict[tuple[str, int], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuard:
        return cls(crawler.settings.getlist(ALLOWED_HOSTS_SETTING))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"refused {request.url}: only http(s) URLs are fetched")
        key = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        if key not in self.verdicts:
            try:
                self.network.addresses(*key)
                self.verdicts[key] = None
            except AddressRefused as exc:
                self.verdicts[key] = str(exc)
            except Exception:  # cannot resolve: the download fails with its own DNS error
                return None
        if self.verdicts[key]:
            raise Refused(f"refused {request.url}: {self.verdicts[key]}")
        return None


class GuardedResolver(CachingThreadedResolver):
    """The reactor's resolver: the address a connection is made to is vetted too."""

    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        hosts = crawler.settings.getlist(ALLOWED_HOSTS_SETTING)
        # The port was vetted by AddressGuard; here only whether the name may be non-public.
        resolver.allowed_hosts = allowed_names(hosts)
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802 (Twisted's name)
        return super().getHostByName(name, timeout).addCallback(self._vet, name)

    def _vet(self, address: str, name: str) -> str:
        problem = None if name.lower() in self.allowed_hosts else address_problem(address)
        if problem:
            raise DNSLookupError(f"refused {name}: {problem}")
        return address


class PageSpider(Spider):
    """Crawls sitemaps (indexes, ``robots.txt``, gzip) or start pages and their same-site links.

    Output is deterministic though pages download concurrently: sitemaps are read one after
    another, so pages are numbered in sitemap order; a page's event waits until every page
    numbered before it is settled, and its links are followed only then (breadth first)."""

    name = "schema_org"

    def __init__(self, job: CrawlJob, channel: IO[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.job, self.channel = job, channel
        self.scheduled: set[str] = set()
        self.sitemaps, self.sitemaps_seen = list(job.urls), set[str]()
        self.settled: dict[int, tuple[dict[str, Any] | None, list[str]]] = {}
        self.released = 0  # pages numbered below this were emitted
        self.limited = False
        self.hosts = {urlsplit(url).netloc.lower() for url in job.urls}
        self.links = LinkExtractor(unique=True)

    def emit(self, event: dict[str, Any]) -> None:
        self.channel.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self.channel.flush()

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:  # also Scrapy < 2.13
        if self.job.sitemap:
            yield from self.next_sitemap()
        for url in [] if self.job.sitemap else self.job.urls:
            yield from self.page_request(url, None, listed=True)

    def next_sitemap(self) -> Iterator[Request]:
        while self.sitemaps:
            url = self.sitemaps.pop(0)
            if url not in self.sitemaps_seen:  # an index listing itself must not loop
                self.sitemaps_seen.add(url)
                yield Request(
                    url,
                    self.parse_sitemap,
                    errback=self.sitemap_failed,
                    priority=10,
                    dont_filter=True,
                )
                return

    def page_request(self, url: str, lastmod: str | None, listed: bool) -> Iterator[Request]:
        url = urldefrag(url.strip())[0]
        if url in self.scheduled:
            return
        if len(self.scheduled) >= self.job.max_pages:
            self.limited = True
            return
        meta = {"page_url": url, "lastmod": lastmod, "listed": listed, "n": len(self.scheduled)}
        self.scheduled.add(url)
        yield Request(url, self.parse_page, errback=self.page_failed, meta=meta, dont_filter=True)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if urlsplit(response.url).path.endswith("/robots.txt"):
            self.sitemaps[:0] = sitemap_urls_from_robots(response.body, base_url=response.url)
            if not self.sitemaps:
                self.fatal(f"{response.url} names no sitemap")
            yield from self.next_sitemap()
            return
        try:
            body = response.body
            if gzip_magic_number(response):
                body = gunzip(body, max_size=self.job.max_body_bytes)
            sitemap = Sitemap(body)
        except Exception as exc:
            self.fatal(f"{response.url} is not a readable sitemap: {exc or type(exc).__name__}")
        if sitemap.type == "sitemapindex":
            self.sitemaps[:0] = [entry["loc"] for entry in sitemap]
        elif sitemap.type == "urlset":
            for entry in sitemap:
                url, lastmod = entry["loc"], entry.get("lastmod") or None
                if not self.job.full and lastmod and self.job.known.get(url) == lastmod:
                    self.emit({"event": "skipped", "url": url, "lastmod": lastmod})
                else:
                    yield from self.page_request(url, lastmod, listed=True)
        else:
            self.fatal(f"{response.url} is not a sitemap (root element <{sitemap.type}>)")
        yield from self.next_sitemap()

    def parse_page(self, response: Response) -> list[Request]:
        meta, links = response.meta, []
        try:
            page = PageExtraction(url=urldefrag(response.url)[0])
            if isinstance(response, HtmlResponse):  # anything else holds no markup
                body, encoding = response.body, response.encoding
                page = extract_page(body, response.url, encoding, self.job.syntaxes)
            if self.job.follow_links and isinstance(response, TextResponse):
                same_site = [x for x in self.links.extract_links(response) if not x.nofollow]
                links = [x.url for x in same_site if urlsplit(x.url).netloc.lower() in self.hosts]
            event = {
                "event": "page",
                "url": meta["page_url"],
                "lastmod": meta["lastmod"],
                "canonical": page.url,
                "shops": [asdict(c) for c in page.shops],
                "offers": [asdict(c) for c in page.offers],
                "problems": page.problems,
            }
        except Exception as exc:  # a page we did not foresee must not vanish silently
            reason = f"cannot extract: {type(exc).__name__}: {exc}"
            event = {"event": "failed", "url": meta["page_url"], "reason": reason}
        return self.settle(meta["n"], event, links)

    def page_failed(self, failure: Any) -> list[Request]:
        meta, error = failure.request.meta, failure.value
        status = getattr(getattr(error, "response", None), "status", None)
        robots = isinstance(error, IgnoreRequest) and not isinstance(error, Refused)
        event = None
        if meta["listed"] or not (robots or status in (404, 410)):  # else: a link, not a page
            reason = describe(error, self.job)
            event = {"event": "failed", "url": meta["page_url"], "reason": reason}
        return self.settle(meta["n"], event, [])

    def settle(self, number: int, event: dict[str, Any] | None, links: list[str]) -> list[Request]:
        """Emit, in page order, every page settled so far; follow their links."""
        self.settled[number] = (event, links)
        requests: list[Request] = []
        while self.released in self.settled:
            event, links = self.settled.pop(self.released)
            self.released += 1
            if event is not None:
                self.emit(event)
            for url in links:
                requests.extend(self.page_request(url, None, listed=False))
        return requests

    def sitemap_failed(self, failure: Any) -> None:
        reason = describe(failure.value, self.job)
        self.fatal(f"cannot fetch sitemap {failure.request.url}: {reason}")

    def fatal(self, reason: str) -> NoReturn:
        self.emit({"event": "fatal", "reason": reason})
        raise CloseSpider("fatal")

    def closed(self, reason: str) -> None:
        for number in sorted(self.settled):  # pages after one that never settled (timeout)
            event = self.settled.pop(number)[0]
            if event is not None:
                self.emit(event)
        pages = len(self.scheduled)
        self.emit({"event": "done", "reason": reason, "limited": self.limited, "pages": pages})


def describe(error: BaseException, job: CrawlJob) -> str:
    """Why a URL could not be fetched, in words an operator understands."""
    status = getattr(getattr(error, "response", None), "status", None)
    name, text = type(error).__name__, str(error)
    if status is not None:
        return f"the server answered {status}"
    if isinstance(error, IgnoreRequest):
        return text or "refused by robots.txt"
    if "max size" in text or "maxsize" in text:
        return f"larger than the {job.max_body_bytes}-byte max_body_bytes"
    if "Timeout" in name or "TimedOut" in name:
        return f"no answer within {job.timeout_s:g} s"
    if "Refused" in name:
        return "connection refused"
    return f"{name}: {text}" if text else name


def main() -> int:
    """Child process entry point: a ``CrawlJob`` on stdin, JSON lines of events on stdout."""
    from scrapy.crawler import CrawlerProcess

    job = CrawlJob.model_validate_json(sys.stdin.buffer.read())
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout goes to stderr: the channel stays clean
    sys.stdout = sys.stderr
    process = CrawlerProcess(crawl_settings(job))
    process.crawl(PageSpider, job=job, channel=channel)
    process.start()
    channel.close()
    return 0


if __name__ == "__main__":  # one copy of the classes: the importable module's, not __main__'s
    from connectors.schema_org.crawl import main as run_child

    sys.exit(run_child())
