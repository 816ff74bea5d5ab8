"""Hostile URLs: Link/next pages to local files, redirects to other ports, other hosts and
loops, javascript:/data: links in records. Each case: a clear error or a quarantined record,
and every record stored before unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import ReadContext
from connectors.http import FeedClient
from tests.hostile.evil_platform import EvilPlatform, Runner, good_shop, good_shops, snapshot

pytestmark = pytest.mark.usefixtures("loopback_only")


def _linked(evil: EvilPlatform, next_url: str) -> None:
    """Page 1 good, with ``Link: <next_url>; rel="next"``."""
    evil.json_shops(good_shops(5), headers={"Link": f'<{next_url}>; rel="next"'})


def _baseline(evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings) -> Runner:
    evil.json_shops(good_shops(5))
    runner = evil.runner(store, context, settings, options={"pagination": "link"})
    first = runner()
    assert (first.status, first.counts.new) == ("ok", 5), first.errors
    return runner


def test_a_link_header_to_a_local_file_is_refused_even_for_an_administrators_connector(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"data": [{"id": "leak", "name": "SECRET-TOKEN"}]}', encoding="utf-8")
    runner = _baseline(evil, store, context, settings)
    before = snapshot(store)
    for target in (secret.as_uri(), "file://localhost" + str(secret), "FILE:" + str(secret)):
        _linked(evil, target)
        run = runner()
        assert run.status == "failed"
        (error,) = run.errors
        assert error.startswith("refused ") and "secret.json" in error, error
        assert error.endswith(": a URL taken from a feed's response must be http(s)"), error
        assert snapshot(store) == before
    _linked(evil, str(secret))  # a bare path is relative to the page: the feed's own server
    run = runner()
    assert run.status == "failed" and "404" in run.errors[0]
    assert snapshot(store) == before
    assert store.get_raw("evil", "leak") is None


def test_only_the_registered_url_may_be_a_local_path(
    store: Store, context: ReadContext, settings: Settings, tmp_path: Path, evil: EvilPlatform
) -> None:
    """The administrator's own file is still read: the refusal is for URLs a feed hands out."""
    document = tmp_path / "shops.json"
    document.write_text('{"data": [{"id": "a", "name": "Fournil"}]}', encoding="utf-8")
    registration = evil.registration(kind="json_api").model_copy(update={"url": str(document)})
    store.save_connector(registration, origin="cli")
    run = Runner(store, context, settings, registration)()
    assert (run.status, run.counts.new) == ("ok", 1), run.errors


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://10.0.0.1/shops.json",  # a private network
        "http://[::1]:{port}/shops.json",  # loopback by another name
        "http://localhost:{port}/shops.json",  # another host name, not allow-listed
        "ftp://127.0.0.1/shops.json",  # another scheme
        "javascript:alert(1)",
    ],
)
def test_a_next_link_to_another_host_or_scheme_is_refused(
    target: str, evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    runner = _baseline(evil, store, context, settings)
    before = snapshot(store)
    _linked(evil, target.format(port=evil.port))
    run = runner()
    assert run.status == "failed"
    assert "refused" in run.errors[0], run.errors
    assert snapshot(store) == before


def test_an_allowed_feed_cannot_send_the_client_to_another_port_of_its_host(
    evil: EvilPlatform, store: Store, settings: Settings
) -> None:
    """Allowing ``127.0.0.1:PORT`` opens that port only: a redirect (or a next link) to
    ``127.0.0.1:5432`` is refused before a byte is sent."""
    with EvilPlatform() as other:  # another service of the same host
        other.json_shops([good_shop(99, name="Pas pour vous")])
        allowed = {f"127.0.0.1:{evil.port}"}
        with FeedClient(allowed_hosts=allowed, sleep=lambda _: None) as http:
            context = ReadContext(http=http, allow_local_files=True)
            runner = _baseline(evil, store, context, settings)
            before = snapshot(store)
            evil.serve("/shops.json", (302, {"Location": other.url + "/shops.json"}, ""))
            redirected = runner()
            _linked(evil, other.url + "/shops.json")
            linked = runner()
        assert other.base is not None and other.base.requests == []
    for run in (redirected, linked):
        assert run.status == "failed"
        assert f"127.0.0.1:{other.port}" in run.errors[0] and "loopback" in run.errors[0]
    assert snapshot(store) == before


def test_the_allow_list_names_host_and_port() -> None:
    from connectors.http import host_allowed  # here: the rest of the module runs on any version

    assert host_allowed({"127.0.0.1:8080"}, "127.0.0.1", 8080)
    assert not host_allowed({"127.0.0.1:8080"}, "127.0.0.1", 5432)
    assert host_allowed({"feed.local"}, "feed.local", 443)
    assert host_allowed({"feed.local"}, "feed.local", 80)
    assert not host_allowed({"feed.local"}, "feed.local", 5432)
    assert host_allowed({"127.0.0.1:*"}, "127.0.0.1", 5432)
    assert host_allowed({"[::1]:8080"}, "::1", 8080)
    assert not host_allowed({"[::1]:8080"}, "::1", 22)
    assert not host_allowed({"127.0.0.1:8080"}, "127.0.0.2", 8080)


def test_a_redirect_loop_is_cut_with_a_clear_error(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    runner = _baseline(evil, store, context, settings)
    before = snapshot(store)
    evil.serve("/shops.json", (302, {"Location": "/loop"}, ""))
    evil.serve("/loop", (302, {"Location": "/shops.json"}, ""))
    run = runner()
    assert run.status == "failed"
    assert "more than 5 redirects" in run.errors[0]
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "javascript://host/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/",
        "vbscript:msgbox(1)",
        "http:///no-host",
    ],
)
def test_a_link_that_is_not_http_is_refused_and_the_last_good_version_stays(
    website: str, evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops(good_shops(5))
    runner = evil.runner(store, context, settings)
    assert runner().counts.new == 5
    before = snapshot(store)
    evil.json_shops([good_shop(1, website=website), *good_shops(5)[1:]])
    run = runner()
    assert (run.status, run.counts.rejected, run.counts.gone) == ("ok", 1, 0), run.errors
    reasons = runner.quarantined(run)
    assert len(reasons) == 1 and "website" in reasons[0] and "http(s)" in reasons[0]
    assert snapshot(store) == before
    stored = store.get_raw("evil", "s1")
    assert stored is not None and stored.record["website"] == "https://boulangerie-1.example/"


def test_a_host_without_its_scheme_is_stored_as_an_https_link(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    evil.json_shops(
        [good_shop(1, website="www.fournil.example"), good_shop(2, website="https://x.example/a b")]
    )
    assert evil.runner(store, context, settings)().status == "ok"
    links = {r.source_id: r.record["website"] for r in store.iter_raw()}
    assert links == {"s1": "https://www.fournil.example", "s2": "https://x.example/a%20b"}


def _layer(website: str) -> dict[str, object]:
    features = [
        {
            "type": "Feature",
            "id": f"f{i}",
            "geometry": {"type": "Point", "coordinates": [1.44, 43.6]},
            "properties": {"qui": f"Épicerie {i}", "Site": website if i == 1 else None},
        }
        for i in range(1, 4)
    ]
    return {"type": "FeatureCollection", "features": features}


def test_a_geojson_feature_refused_for_its_link_keeps_its_last_good_version(
    evil: EvilPlatform, store: Store, context: ReadContext, settings: Settings
) -> None:
    """The same rule for a kind with its own record building (``geojson``)."""
    mapping = {"name": "qui", "website": "Site"}
    evil.serve("/layer.geojson", (200, {}, json.dumps(_layer("https://epicerie.example/"))))
    runner = evil.runner(
        store, context, settings, "/layer.geojson", kind="geojson", mapping=mapping
    )
    assert runner().counts.new == 3
    before = snapshot(store)
    evil.serve("/layer.geojson", (200, {}, json.dumps(_layer("javascript:alert(1)"))))
    run = runner()
    assert (run.status, run.counts.rejected, run.counts.gone) == ("ok", 1, 0), run.errors
    assert snapshot(store) == before
