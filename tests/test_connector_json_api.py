"""The ``json_api`` kind against loopback APIs: every pagination style, auth, nested offers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import RequestTarget, serve_routes

from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.http import FeedClient
from connectors.json_api import JsonApiKind, pointer_of

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

FIXTURES = Path(__file__).parent / "connector_fixtures"
SHOPS: list[dict[str, Any]] = json.loads((FIXTURES / "shops.json").read_text("utf-8"))["data"]
SHOP_IDS = [str(shop["id"]) for shop in SHOPS]
MAPPING = {
    "source_id": "id",
    "name": "name",
    "address": "address.street",
    "postcode": "address.postcode",
    "city": "address.city",
    "lat": "geo.lat",
    "lon": "geo.lon",
}
OFFER_MAPPING = {"offer.source_id": "sku", "offer.title": "title", "offer.price": "price"}
Answer = tuple[int, dict[str, str], str]


@pytest.fixture
def context() -> Iterator[ReadContext]:
    http = FeedClient(allowed_hosts={"127.0.0.1:*", "localhost:*"}, sleep=lambda _: None)
    with http:
        yield ReadContext(http=http, allow_local_files=True)


def registration(
    url: str, mapping: dict[str, str] | None = None, **options: Any
) -> ConnectorRegistration:

    return ConnectorRegistration(
        platform="clickn-co", kind="json_api", url=url, mapping=mapping or MAPPING, options=options
    )


def read(reg: ConnectorRegistration, context: ReadContext) -> list[Emitted]:
    return list(JsonApiKind().read(reg, {}, context))


def shop_items(emitted: list[Emitted]) -> list[Item]:
    return [e for e in emitted if isinstance(e, Item) and isinstance(e.record, ShopRecord)]


def ok(document: Any, headers: dict[str, str] | None = None) -> Answer:
    return 200, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document)


def page_api(target: RequestTarget) -> Answer:
    number, size = int(target.query.get("page", "1")), int(target.query.get("per_page", "3"))
    return ok({"data": SHOPS[(number - 1) * size : number * size]})


def offset_api(target: RequestTarget) -> Answer:
    offset, limit = int(target.query["offset"]), int(target.query["limit"])
    return ok({"results": SHOPS[offset : offset + limit], "count": len(SHOPS)})


def cursor_api(target: RequestTarget) -> Answer:
    start = int(target.query.get("after") or 0)
    following = str(start + 3) if start + 3 < len(SHOPS) else None
    return ok({"items": SHOPS[start : start + 3], "meta": {"next": following}})


def link_api(target: RequestTarget) -> Answer:
    number = int(target.query.get("p", "1"))
    links = {"Link": f'</link?p={number + 1}>; rel="next", </link?p=1>; rel="first"'}
    return ok(SHOPS[(number - 1) * 3 : number * 3], links if number * 3 < len(SHOPS) else {})


@pytest.mark.parametrize(
    ("path", "api", "pagination", "pointer", "requests"),
    [
        ("/pages", page_api, {"style": "page", "size_param": "per_page", "size": 3}, "/data", 3),
        ("/pages", page_api, {"style": "page"}, "/data", 4),  # no size: stops on an empty page
        ("/offsets", offset_api, {"style": "offset", "limit": 3}, "/results", 3),
        (
            "/cursor",
            cursor_api,
            {"style": "cursor", "param": "after", "cursor_path": "meta.next"},
            "/items",
            3,
        ),
        ("/link", link_api, {"style": "link"}, "", 3),
    ],
)
def test_every_pagination_style_reads_every_shop(
    path: str,
    api: Callable[[RequestTarget], Answer],
    pagination: dict[str, Any],
    pointer: str,
    requests: int,
    context: ReadContext,
) -> None:
    with serve_routes({path: api}) as base:
        emitted = read(registration(f"{base}{path}", pagination=pagination), context)
    shops = shop_items(emitted)
    assert [item.record.source_id for item in shops] == SHOP_IDS
    assert shops[3].locator == f"page 2 {pointer}/0"
    assert shops[6].locator == f"page 3 {pointer}/0"
    assert emitted[-1] == Checkpoint(state={}, complete=True)
    assert len(base.requests) == requests


def test_records_are_mapped_through_dotted_paths(context: ReadContext) -> None:
    with serve_routes({"/shops": lambda _: ok({"data": SHOPS})}) as base:
        first = shop_items(read(registration(f"{base}/shops"), context))[0].record
    assert first == ShopRecord(
        platform="clickn-co",
        source_id="101",
        name="Boulangerie Émile",
        address="12 rue des Lois",
        postcode="31000",
        city="Toulouse",
        lat=43.6045,
        lon=1.444,
    )


def test_nested_products_become_offers_of_their_shop(context: ReadContext) -> None:
    reg = registration(
        str(FIXTURES / "shops.json"), MAPPING | OFFER_MAPPING, offers_path="products"
    )
    emitted = read(reg, context)
    offers = [e for e in emitted if isinstance(e, Item) and isinstance(e.record, OfferRecord)]
    assert [(o.record.shop_source_id, o.record.source_id) for o in offers] == [
        ("101", "101-baguette"),
        ("101", "101-fougasse"),
        ("103", "103-roquefort"),
        ("105", "105-bouquet"),
        ("107", "107-revision"),
    ]
    assert offers[0].record.price == 1.2  # "1,20" in the feed
    assert offers[1].locator == "page 1 /data/0/products/1"
    assert [type(e).__name__ for e in emitted[:4]] == ["Item"] * 4  # shop, its offers, next shop
    assert emitted[0].record.source_id == "101"  # type: ignore[union-attr]


def test_bad_records_and_offers_are_rejected_with_json_pointers(context: ReadContext) -> None:
    shops = [
        {"id": 1, "name": "Fournil", "products": [{"sku": "p1", "title": ""}, "junk"]},
        {"id": 2, "name": ""},
        "not a shop",
        {"id": 1, "name": "Fournil again"},
        {"id": 3, "name": "Primeur", "products": {"sku": "x"}},
    ]
    with serve_routes({"/s": lambda _: ok({"data": shops})}) as base:
        reg = registration(f"{base}/s", MAPPING | OFFER_MAPPING, offers_path="products")
        emitted = read(reg, context)
    rejections = [(r.locator, r.reason) for r in emitted if isinstance(r, Rejection)]
    assert rejections == [
        ("page 1 /data/0/products/0", "offer.title (from 'title'): missing or empty"),
        ("page 1 /data/0/products/1", "the record is not an object"),
        ("page 1 /data/1", "name (from 'name'): missing or empty"),
        ("page 1 /data/2", "the record is not an object"),
        ("page 1 /data/3", "duplicate source_id '1' (first seen at page 1 /data/0)"),
        ("page 1 /data/4/products", "offers_path 'products' is not a list"),
    ]


def test_a_cursor_that_does_not_advance_stops_the_read(context: ReadContext) -> None:
    def stuck(target: RequestTarget) -> Answer:
        return ok({"data": [{"id": target, "name": "x"}], "next_cursor": "abc"})

    with serve_routes({"/c": stuck}) as base:
        reg = registration(f"{base}/c", pagination={"style": "cursor"})
        with pytest.raises(ConnectorError, match="page 3 of .*/c: the cursor did not advance"):
            read(reg, context)
    assert len(base.requests) == 2


def test_an_api_ignoring_the_page_parameter_is_caught(context: ReadContext) -> None:
    with (
        serve_routes({"/p": lambda _: ok({"data": SHOPS[:2]})}) as base,
        pytest.raises(ConnectorError, match="page 2 of .* repeats page 1"),
    ):
        read(registration(f"{base}/p", pagination={"style": "page"}), context)


def test_max_pages_is_a_safety_limit(context: ReadContext) -> None:
    with serve_routes({"/pages": page_api}) as base:
        reg = registration(f"{base}/pages", pagination={"style": "page"}, max_pages=2)
        with pytest.raises(ConnectorError, match="stopped after max_pages=2 pages"):
            read(reg, context)


def guarded(check: Callable[[RequestTarget], bool]) -> Callable[[RequestTarget], Answer]:
    def api(target: RequestTarget) -> Answer:
        return ok({"data": SHOPS[:2]}) if check(target) else (401, {}, "no")

    return api


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        (
            {"type": "bearer", "token": "t0k3n"},
            lambda t: t.headers["Authorization"] == "Bearer t0k3n",
        ),
        (
            {"type": "bearer", "token_env": "TEST_FEED_TOKEN"},
            lambda t: t.headers["Authorization"] == "Bearer from-env",
        ),
        (
            {"type": "api_key", "header": "X-Api-Key", "value": "k3y"},
            lambda t: t.headers["X-Api-Key"] == "k3y",
        ),
        (
            {"type": "api_key", "query_param": "key", "value_env": "TEST_FEED_TOKEN"},
            lambda t: t.query.get("key") == "from-env",
        ),
    ],
)
def test_credentials_are_checked_by_the_server(
    auth: dict[str, str],
    check: Callable[[RequestTarget], bool],
    context: ReadContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_FEED_TOKEN", "from-env")
    with serve_routes({"/api": guarded(check)}) as base:
        assert len(shop_items(read(registration(f"{base}/api", auth=auth), context))) == 2
        with pytest.raises(ConnectorError, match="401 Unauthorized"):
            read(registration(f"{base}/api"), context)


def test_secrets_stay_out_of_error_messages(context: ReadContext) -> None:
    auth = {"type": "api_key", "query_param": "key", "value": "wrong s3cret"}
    with (
        serve_routes({"/api": guarded(lambda t: False)}) as base,
        pytest.raises(ConnectorError) as failed,
    ):
        read(registration(f"{base}/api", auth=auth), context)
    assert "s3cret" not in str(failed.value)
    assert "key=***" in str(failed.value)


def test_auth_misconfiguration_names_the_option(
    context: ReadContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_FEED_TOKEN", raising=False)
    url = "http://127.0.0.1:9/api"
    with pytest.raises(ConnectorError, match="TEST_FEED_TOKEN named by option auth.token_env"):
        read(registration(url, auth={"type": "bearer", "token_env": "TEST_FEED_TOKEN"}), context)
    with pytest.raises(ConnectorError, match="option 'auth.bearer': .*exactly one of token"):
        read(registration(url, auth={"type": "bearer"}), context)
    with pytest.raises(ConnectorError, match="option 'pagination"):
        read(registration(url, pagination={"style": "scroll"}), context)


def test_credentials_are_not_sent_to_another_origin(context: ReadContext) -> None:
    with serve_routes({"/two": lambda _: ok(SHOPS[3:])}) as other:
        elsewhere = other.replace("127.0.0.1", "localhost")
        first = ok(SHOPS[:3], {"Link": f'<{elsewhere}/two>; rel="next"'})
        with serve_routes({"/one": first}) as base:
            reg = registration(
                f"{base}/one",
                pagination={"style": "link"},
                auth={"type": "bearer", "token": "t0k3n"},
            )
            assert len(shop_items(read(reg, context))) == 7
    assert base.requests[0].headers["Authorization"] == "Bearer t0k3n"
    assert other.requests[0].headers["Authorization"] is None


def test_a_local_document_and_an_explicit_records_path(
    tmp_path: Path, context: ReadContext
) -> None:
    document = tmp_path / "export.json"
    document.write_text(json.dumps({"result": {"shops": SHOPS[:2]}}), "utf-8")
    emitted = read(
        registration(str(document), records_path="result.shops", pagination={"style": "page"}),
        context,
    )
    assert [i.locator for i in shop_items(emitted)] == [
        "page 1 /result/shops/0",
        "page 1 /result/shops/1",
    ]
    with pytest.raises(ConnectorError, match="cannot find the list of records.*found: result"):
        read(registration(str(document)), context)
    with pytest.raises(ConnectorError, match="records_path 'result.shop' does not lead to a list"):
        read(registration(str(document), records_path="result.shop"), context)


def test_a_page_that_is_not_json_is_an_error(context: ReadContext) -> None:
    with (
        serve_routes({"/api": (200, {}, "<html>maintenance</html>")}) as base,
        pytest.raises(ConnectorError, match="page 1 of .*/api is not valid JSON"),
    ):
        read(registration(f"{base}/api"), context)


def test_check_samples_the_feed(context: ReadContext) -> None:
    with serve_routes({"/pages": page_api}) as base:
        reg = registration(
            f"{base}/pages", pagination={"style": "page", "size_param": "per_page", "size": 3}
        )
        report = JsonApiKind().check(reg, context, limit=4)
        assert report.ok and [r.source_id for r in report.records] == SHOP_IDS[:4]
        assert len(base.requests) == 2  # stops reading once the sample is full
        broken = JsonApiKind().check(registration(f"{base}/nothing-here"), context)
    assert not broken.ok and "404 Not Found" in broken.problems[0]


def test_json_pointers_escape_special_characters() -> None:
    assert pointer_of("a.b/c.d~e") == "/a/b~1c/d~0e"
    assert pointer_of(None) == ""


def test_pages_read_as_json_loads_reads_them() -> None:
    """orjson reads the usual page; what it would read otherwise or refuse goes to
    ``json.loads``, whose values (or refusal) are the page's."""
    from connectors.json_api import _parse

    pages = [b'{"data": [{"id": 1, "lat": 43.6, "a": "\\u00e9"}], "a": 1, "a": 2}',
             b"[1e400, NaN, -Infinity, 123456789012345678901234567890, -0.0]",
             b'["\\ud800 seul", "\\ud83d\\ude00"]', '{"nom": "é"}'.encode("utf-16"),
             b'\xef\xbb\xbf{"bom": true}',
             b"[1.7976931348623157e308, 5e-324, 18446744073709551615]",
             b'{"data": [{"id": 123456789012345678901, "n": -99999999999999999999}]}',
             b'{"id": "12345678901234567890", "n": 12345678901234567890123}']  # fmt: skip
    for page in pages:
        read = _parse(page, 1, "https://example.org/")
        assert repr(read) == repr(json.loads(page))
    with pytest.raises(ConnectorError, match="page 3 of https://example.org/ is not valid JSON"):
        _parse(b'{"a": }', 3, "https://example.org/")
