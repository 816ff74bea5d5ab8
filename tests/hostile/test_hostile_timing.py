"""Hostile timing: a feed dripping bytes, pages that never end, 429 with Retry-After (even one
in the year 9999), bursts of 5xx. Each case: a clear error (or a read that succeeds after
honest retries), and every record stored before unchanged."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from aggregator.registrations import parse_registration
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from tests.hostile.evil_platform import (
    EvilPlatform,
    RequestTarget,
    Response,
    drip,
    good_shops,
    shops_csv,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("loopback_only")
DRIP_BYTES = 40
DRIP_BODY = json.dumps({"data": good_shops(3)}).encode()[:60]


def test_a_feed_dripping_one_byte_at_a_time_is_cut_off_by_the_download_deadline(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """Each byte arrives well within the read timeout (2 s): only a whole-download deadline
    stops it. The drip would last 6 s; the deadline is 1 s."""
    evil.serve("/shops.csv", (200, {}, shops_csv([("1", "Fournil", "Albi")])))
    runner = evil.runner(store, context, settings, "/shops.csv")
    assert runner().status == "ok"
    before = snapshot(store)
    evil.serve("/shops.csv", lambda _: (200, {}, drip(shops_csv([("1", "X", "Y")] * 5), 0.1)))
    run = runner(max_download_s=1.0)
    assert run.status == "failed"
    assert run.errors == [
        f"stopped reading {evil.url}/shops.csv: the download did not finish within max_download_s=1"
    ]
    assert snapshot(store) == before


def test_the_download_deadline_is_set_per_connector(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops(good_shops(3))
    runner = evil.runner(store, context, settings, limits={"max_download_s": 0.5})
    assert runner().status == "ok"
    before = snapshot(store)
    evil.serve("/shops.json", lambda _: (200, {}, drip(DRIP_BODY, 0.1)))
    run = runner()
    assert run.status == "failed" and "max_download_s=0.5" in run.errors[0], run.errors
    assert snapshot(store) == before


def test_a_run_of_endless_quick_pages_is_cut_off_by_the_run_deadline(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """Every page is quick, there are just always more: the run's own deadline stops it."""
    evil.json_shops(good_shops(3))
    runner = evil.runner(
        store,
        context,
        settings,
        options={"pagination": {"style": "page", "size": 1, "size_param": "n"}},
        limits={"max_run_s": 1},
    )

    def page(target: RequestTarget) -> Response:
        number = int(target.query.get("page", "1"))
        time.sleep(0.1)
        shop = {"id": f"p{number}", "name": f"Page {number}"}
        return 200, {}, json.dumps({"data": [shop]})

    evil.serve("/shops.json", page)
    run = runner()
    assert run.status == "failed"
    (error,) = run.errors  # cut between two pages, or during one
    assert error.startswith("stopped") and "did not finish within" in error, error
    assert "max_run_s" in error, error
    assert store.get_raw("evil", "p1") is None  # nothing of the cut run is stored


def test_limits_are_part_of_a_registration_and_validated() -> None:
    base = {"platform": "evil", "kind": "csv", "url": "https://evil.example/s.csv"}
    registration = parse_registration(
        base | {"mapping": {"source_id": "id", "name": "nom"}, "limits": {"max_run_s": 60}}
    )
    assert registration.limits.max_run_s == 60
    with pytest.raises(ValueError, match="limits.max_run_s"):
        parse_registration(
            base | {"mapping": {"source_id": "id", "name": "nom"}, "limits": {"max_run_s": -1}}
        )
    with pytest.raises(ValueError, match="limits.whatever"):
        parse_registration(
            base | {"mapping": {"source_id": "id", "name": "nom"}, "limits": {"whatever": 1}}
        )


def test_a_connector_can_shorten_its_deadlines_not_lengthen_them(settings: Settings) -> None:
    from aggregator.pipeline import effective_limits

    base = {"platform": "evil", "kind": "csv", "url": "https://evil.example/s.csv"}
    mapping = {"source_id": "id", "name": "nom"}
    greedy = parse_registration(base | {"mapping": mapping, "limits": {"max_run_s": 10**9}})
    modest = parse_registration(base | {"mapping": mapping, "limits": {"max_download_s": 5}})
    capped = settings.model_copy(update={"max_run_s": 60.0})
    assert effective_limits(greedy, capped).max_run_s == 60.0
    assert effective_limits(modest, capped).max_download_s == 5.0
    assert effective_limits(modest, capped).max_run_s == 60.0


def test_429_with_retry_after_is_honoured(
    evil: EvilPlatform,
    store: Store,
    context: ReadContext,
    settings: Settings,
    waits: list[float],
) -> None:
    answers = iter(
        [(429, {"Retry-After": "2"}, "slow down"), (429, {"Retry-After": "1"}, "slow down")]
    )
    body = json.dumps({"data": good_shops(3)})
    evil.serve("/shops.json", lambda _: next(answers, (200, {}, body)))
    run = evil.runner(store, context, settings)()
    assert (run.status, run.counts.new) == ("ok", 3), run.errors
    assert waits == [2.0, 1.0]


@pytest.mark.parametrize(
    "retry_after", ["Fri, 31 Dec 9999 23:59:59 GMT", "86400", "99999999999999999999"]
)
def test_a_retry_after_beyond_the_deadline_fails_at_once_and_loses_nothing(
    retry_after: str,
    evil: EvilPlatform,
    store: Store,
    context: ReadContext,
    settings: Settings,
    waits: list[float],
) -> None:
    evil.json_shops(good_shops(3))
    runner = evil.runner(store, context, settings)
    assert runner().status == "ok"
    before = snapshot(store)
    evil.serve("/shops.json", (429, {"Retry-After": retry_after}, "come back in the year 9999"))
    run = runner(max_download_s=10.0)
    assert run.status == "failed"
    assert "the server asked to retry in 30 s" in run.errors[0], run.errors
    assert waits == []  # nothing slept: the wait could not end before the deadline
    assert snapshot(store) == before


def test_a_burst_of_5xx_is_retried_and_a_lasting_one_loses_nothing(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    burst = iter([(502, {}, "bad gateway"), (503, {}, "unavailable")])
    body = json.dumps({"data": good_shops(4)})
    evil.serve("/shops.json", lambda _: next(burst, (200, {}, body)))
    runner = evil.runner(store, context, settings)
    first = runner()
    assert (first.status, first.counts.new) == ("ok", 4), first.errors
    before = snapshot(store)
    evil.serve("/shops.json", (503, {}, "down for good"))
    run = runner()
    assert run.status == "failed"
    assert run.errors == [
        f"cannot fetch {evil.url}/shops.json: the server answered 503 Service Unavailable "
        "after 3 tries"
    ]
    assert (run.counts.gone, store.count_raw(runner.cid)) == (0, 4)
    assert snapshot(store) == before


def test_last_modified_in_the_year_9999_is_only_a_validator(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """A far-future Last-Modified is sent back as is; the feed is still read in full when it
    answers 200, and a 304 keeps everything."""
    headers = {"Last-Modified": "Fri, 31 Dec 9999 23:59:59 GMT"}
    evil.serve("/shops.csv", (200, headers, shops_csv([("1", "Fournil", "Albi")])))
    runner = evil.runner(store, context, settings, "/shops.csv")
    assert runner().counts.new == 1
    before = snapshot(store)
    evil.serve("/shops.csv", (304, headers, ""))
    run = runner()
    assert (run.status, run.counts.gone) == ("ok", 0)
    assert snapshot(store) == before
    assert evil.base is not None
    assert evil.base.requests[-1].headers["If-Modified-Since"] == headers["Last-Modified"]


@contextlib.contextmanager
def _header_drip(sent: list[int]) -> Iterator[str]:
    """A raw server that sends its status line and then one header byte every 0.1 s (for 4 s,
    then hangs up), counting in ``sent`` the bytes it could send before the client hung up: no
    body ever starts, and no read waits long enough to time out."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                with contextlib.suppress(OSError):  # the client hung up
                    for _ in range(DRIP_BYTES):
                        if stop.wait(0.1):
                            break
                        conn.sendall(b"X")
                        sent.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/shops.json"
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_a_server_dripping_its_headers_is_cut_off_too(
    store: Store, context: ReadContext, settings: Settings, evil: EvilPlatform
) -> None:
    """The deadline holds before the body starts: the connection's every read is bounded."""
    evil.json_shops(good_shops(2))
    runner = evil.runner(store, context, settings)
    assert runner().status == "ok"
    before = snapshot(store)
    sent: list[int] = []
    with _header_drip(sent) as url:
        registration = runner.registration.model_copy(update={"url": url})
        dripping = dataclasses.replace(runner, registration=registration)
        run = dripping(max_download_s=1.0)
    assert run.status == "failed"
    assert run.errors == [
        f"stopped reading {url}: the download did not finish within max_download_s=1"
    ]
    assert snapshot(store) == before
    assert len(sent) < DRIP_BYTES  # the client hung up first: cut by its deadline, not the server
