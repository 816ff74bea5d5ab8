"""The ``merchant_feed`` kind: the standard suite over RSS, Atom and TSV served on loopback, then
prices, availability, local inventory, refusals, conditional requests and hostile XML."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from connector_suite import ConnectorSuite
from loopback import RequestTarget, serve_routes

import connectors.merchant_feed.connector  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, Rejection, ShopRecord
from aggregator.pipeline import run_connector
from aggregator.registrations import parse_registration
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Checkpoint, ConnectorError, Emitted, Item, ReadContext
from connectors.http import FeedClient
from connectors.merchant_feed.connector import MerchantFeedKind, offers_pickup
from connectors.merchant_feed.values import (
    Price,
    html_to_text,
    normalise_availability,
    parse_price,
    selling_price,
    text_of,
)

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

FIXTURES = Path(__file__).parent / "connector_fixtures" / "merchant"
RSS = (FIXTURES / "cave_rss.xml").read_bytes()
ATOM = (FIXTURES / "cave_atom.xml").read_bytes()
TSV = (FIXTURES / "cave.tsv").read_bytes()
SHOP = {"source_id": "cave-chartreux", "name": "Cave des Chartreux", "city": "Toulouse"}
XML = {"Content-Type": "application/xml", "ETag": '"v1"'}


class TestMerchantFeedRss(ConnectorSuite):
    kind = "merchant_feed"
    body = RSS

    def feed(self) -> dict[str, Any]:
        return {"/feed": (200, XML, self.body)}

    def registration(self, base_url: str) -> dict[str, Any]:
        options = {"shop": SHOP}
        return {
            "platform": "dans_ma_zone",
            "kind": self.kind,
            "url": f"{base_url}/feed",
            "options": options,
        }

    def broken_feed(self) -> dict[str, Any]:  # the connection drops half-way through the XML
        return {"/feed": (200, XML, self.body[: len(self.body) // 2])}


class TestMerchantFeedAtom(TestMerchantFeedRss):
    body = ATOM


class TestMerchantFeedTsv(TestMerchantFeedRss):
    body = TSV

    def broken_feed(self) -> dict[str, Any]:
        return {"/feed": (503, {"Retry-After": "0"}, "maintenance")}


def registration(url: str, **options: Any) -> ConnectorRegistration:
    options.setdefault("shop", SHOP)
    return ConnectorRegistration(
        platform="dans_ma_zone", kind="merchant_feed", url=url, options=options
    )


def read(
    reg: ConnectorRegistration, context: ReadContext, state: dict[str, Any] | None = None
) -> list[Emitted]:
    return list(MerchantFeedKind().read(reg, state or {}, context))


def records(emitted: list[Emitted]) -> list[Any]:
    return [e.record for e in emitted if isinstance(e, Item)]


def offers(emitted: list[Emitted]) -> dict[str, OfferRecord]:
    return {r.source_id: r for r in records(emitted) if isinstance(r, OfferRecord)}


@pytest.mark.parametrize("name", ["cave_rss.xml", "cave_atom.xml", "cave.tsv"])
def test_every_format_reads_the_same_catalogue(name: str, context: ReadContext) -> None:
    emitted = read(registration(str(FIXTURES / name)), context)
    shop = records(emitted)[0]
    assert isinstance(shop, ShopRecord) and emitted[0].locator == "options.shop"  # type: ignore[union-attr]
    assert (shop.source_id, shop.name, shop.city) == (
        "cave-chartreux",
        "Cave des Chartreux",
        "Toulouse",
    )
    assert shop.services == ["click_and_collect"]  # two products can be picked up in store
    found = offers(emitted)
    assert list(found) == [
        "vin-001",
        "vin-002",
        "biere-003",
        "armagnac-004",
        "coffret-005",
        "jus-006",
    ]
    assert {o.shop_source_id for o in found.values()} == {"cave-chartreux"}
    prices = {k: (o.price, o.currency) for k, o in found.items()}
    assert prices == {
        "vin-001": (12.5, "EUR"),
        "vin-002": (7.9, "EUR"),  # sale_price, lower, no window: what a customer pays now
        "biere-003": (3.2, "EUR"),  # "EUR 3.20": currency first
        "armagnac-004": (89.0, "EUR"),
        "coffret-005": (45.0, "EUR"),  # the sale ended in 2020
        "jus-006": (4.5, "EUR"),
    }
    assert {k: o.availability for k, o in found.items()} == {
        "vin-001": "in_stock",  # "in stock"
        "vin-002": "in_stock",  # "en stock"
        "biere-003": "out_of_stock",
        "armagnac-004": "preorder",
        "coffret-005": "backorder",
        "jus-006": "in_stock",  # "limited availability"
    }
    assert found["vin-001"].category == (
        "Food, Beverages & Tobacco > Beverages > Alcoholic Beverages > Wine"
    )
    assert found["vin-002"].category == "Vins > Blancs"  # product_type beats a bare id
    assert found["biere-003"].category == "421"  # the id when nothing else names it
    assert found["biere-003"].description == "Brassée à Toulouse,\nhoublons d'Occitanie."
    assert found["vin-001"].description == "Négrette du Frontonnais, fruits noirs & violette."
    assert found["vin-001"].url == "https://www.cave-chartreux.example/vins/fronton-rouge-2022"
    assert found["coffret-005"].image_url == "https://www.cave-chartreux.example/img/coffret.jpg"
    assert isinstance(emitted[-1], Checkpoint) and emitted[-1].complete


def test_locators_name_the_item_or_the_line(context: ReadContext) -> None:
    locators = {
        name: [e.locator for e in read(registration(str(FIXTURES / name)), context)[1:3]]  # type: ignore[union-attr]
        for name in ("cave_rss.xml", "cave_atom.xml", "cave.tsv")
    }
    assert locators == {
        "cave_rss.xml": ["/rss/channel/item[1]", "/rss/channel/item[2]"],
        "cave_atom.xml": ["/feed/entry[1]", "/feed/entry[2]"],
        "cave.tsv": ["line 2", "line 3"],
    }


def test_raw_keeps_every_attribute_as_received(context: ReadContext) -> None:
    item = read(registration(str(FIXTURES / "cave_rss.xml")), context)[1]
    assert isinstance(item, Item)
    assert item.raw["pickup_sla"] == "same day" and item.raw["store_code"] == "CAVE-TLS-01"
    assert item.raw["price"] == "12.50 EUR"


def test_shop_from_channel_takes_title_and_link(context: ReadContext) -> None:
    for name in ("cave_rss.xml", "cave_atom.xml"):
        reg = registration(str(FIXTURES / name), shop={"city": "Toulouse"}, shop_from_channel=True)
        shop = records(read(reg, context))[0]
        assert shop.name == "Cave des Chartreux"
        assert shop.website == shop.url == "https://www.cave-chartreux.example"  # not rel="self"
        assert shop.source_id == "cave-chartreux.example"  # the host, without www.
        assert shop.city == "Toulouse"
    reg = registration(
        str(FIXTURES / "cave.tsv"), shop={"city": "Toulouse"}, shop_from_channel=True
    )
    with pytest.raises(ConnectorError, match="option shop.name is required"):
        read(reg, context)


def test_options_are_checked_and_name_the_field(context: ReadContext) -> None:
    url = str(FIXTURES / "cave_rss.xml")
    reg = ConnectorRegistration(platform="dans_ma_zone", kind="merchant_feed", url=url)
    with pytest.raises(ConnectorError, match="give the shop option with at least a name"):
        read(reg, context)
    with pytest.raises(ConnectorError, match="option 'fromat': Extra inputs"):
        read(registration(url, fromat="rss"), context)
    with pytest.raises(ConnectorError, match="option 'shop.lat'"):
        read(registration(url, shop=dict(SHOP, lat=123)), context)
    with pytest.raises(ConnectorError, match="option format is 'atom' but the feed is rss"):
        read(registration(url, format="atom"), context)
    mapped = registration(url).model_copy(update={"mapping": {"source_id": "id"}})
    with pytest.raises(ConnectorError, match="takes no mapping"):
        read(mapped, context)


def test_a_registration_needs_no_mapping(tmp_path: Path) -> None:
    data = {"platform": "dans_ma_zone", "kind": "merchant_feed", "url": "https://x.example/feed"}
    assert parse_registration(dict(data, options={"shop_from_channel": True})).mapping == {}


def test_refused_items_carry_their_locator_and_reason(context: ReadContext) -> None:
    emitted = read(registration(str(FIXTURES / "refusals_rss.xml")), context)
    refused = {r.locator: r.reason for r in emitted if isinstance(r, Rejection)}
    assert refused == {
        "/rss/channel/item[2]": "source_id (from id): missing or empty",
        "/rss/channel/item[3]": "title (from title): missing or empty",
        "/rss/channel/item[4]": "price: 'gratuit' is not a price like '12.50 EUR'",
        "/rss/channel/item[5]": "duplicate source_id 'ok-1' (first seen at /rss/channel/item[1])",
    }
    kept = offers(emitted)
    assert list(kept) == ["ok-1", "odd-stock"]
    assert kept["odd-stock"].availability is None  # unknown spelling: kept, raw holds "bientôt"
    assert records(emitted)[0].services == []  # no pickup field: no click-and-collect


def test_prices_without_currency_take_the_default(tmp_path: Path, context: ReadContext) -> None:
    feed = tmp_path / "feed.tsv"
    feed.write_text(
        "ID\tTitle\tPrice\tImage Link\n1\tMiel\t8,50\thttps://x.example/m.jpg\n", "utf-8"
    )
    offer = offers(read(registration(str(feed), default_currency="eur"), context))["1"]
    assert (offer.price, offer.currency, offer.image_url) == (8.5, "EUR", "https://x.example/m.jpg")
    offer = offers(read(registration(str(feed)), context))["1"]
    assert (offer.price, offer.currency) == (8.5, None)


def test_extra_tsv_fields_are_refused_with_the_line(tmp_path: Path, context: ReadContext) -> None:
    feed = tmp_path / "feed.tsv"
    feed.write_text("id\ttitle\n1\tMiel\n\n2\tCire\tde trop\n", "utf-8")
    emitted = read(registration(str(feed)), context)
    assert [(r.locator, r.reason) for r in emitted if isinstance(r, Rejection)] == [
        ("line 4", "3 fields where the header has 2")
    ]


def test_qualified_offer_ids_carry_the_shop(context: ReadContext) -> None:
    emitted = read(registration(str(FIXTURES / "cave.tsv"), qualify_offer_ids=True), context)
    assert "cave-chartreux/vin-001" in offers(emitted)


@pytest.mark.parametrize(
    ("attributes", "pickup"),
    [
        ({"pickup_method": "buy"}, True),
        ({"pickup_method": "reserve", "pickup_sla": "same day"}, True),
        ({"pickup_method": "ship to store", "pickup_sla": "multi-week"}, True),
        ({"pickup_sla": "next day"}, True),  # the method is optional since September 2024
        ({"pickup_method": "not supported", "pickup_sla": "next day"}, False),
        ({"store_code": "TLS-1"}, False),  # in stock at a store says nothing of pickup
        ({}, False),
    ],
)
def test_local_inventory_fields_mean_click_and_collect(
    attributes: dict[str, str], pickup: bool
) -> None:
    assert offers_pickup(attributes) is pickup


def conditional(target: RequestTarget) -> tuple[int, dict[str, str], bytes]:
    if target.headers.get("If-None-Match") == '"v1"':
        return 304, {"ETag": '"v1"'}, b""
    return 200, XML, RSS


def test_an_unchanged_feed_answers_304_and_nothing_is_read(
    tmp_path: Path, context: ReadContext
) -> None:
    with serve_routes({"/feed": conditional}) as base:
        reg = registration(f"{base}/feed")
        first = read(reg, context)
        assert first[-1] == Checkpoint(state={"etag": '"v1"', "last_modified": None}, complete=True)
        second = read(reg, context, first[-1].state)  # type: ignore[union-attr]
        assert second == [Checkpoint(state={"etag": '"v1"', "last_modified": None}, complete=False)]
        assert base.requests[-1].headers["If-None-Match"] == '"v1"'
        settings = Settings(data_dir=tmp_path / "var", allow_hosts="127.0.0.1:*")
        store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        try:
            store.save_connector(reg, origin="cli")
            assert run_connector(store, reg, context, settings).counts.new == 7
            again = run_connector(store, reg, context, settings)
            assert again.status == "ok" and (again.counts.fetched, again.counts.gone) == (0, 0)
        finally:
            store.dispose()


def test_check_reports_a_sample_and_problems(context: ReadContext) -> None:
    report = MerchantFeedKind().check(
        registration(str(FIXTURES / "refusals_rss.xml")), context, limit=3
    )
    assert report.ok and len(report.records) + len(report.rejections) == 3
    with serve_routes({"/feed": (200, XML, RSS[:300])}) as base:
        report = MerchantFeedKind().check(registration(f"{base}/feed"), context)
    assert not report.ok and "not well-formed XML" in report.problems[0]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>1</g:id>
<g:title>&lol3;</g:title></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>1</g:id>
<g:title>&xxe;</g:title></item></channel></rss>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">
<rss><channel><item><id>1</id><title>x</title></item></channel></rss>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"])
def test_hostile_xml_stops_the_run_before_any_record(body: bytes, context: ReadContext) -> None:
    emitted: list[Emitted] = []
    refused = pytest.raises(ConnectorError, match="declares a DTD.*may not use DTDs or entities")
    with serve_routes({"/feed": (200, XML, body)}) as base, refused:
        emitted.extend(MerchantFeedKind().read(registration(f"{base}/feed"), {}, context))
    assert emitted == []


def test_oversized_and_bomb_feeds_stop_before_any_record() -> None:
    big = RSS.replace(b"</channel>", b"<!--" + b" " * 50_000 + b"--></channel>")
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000 + b"</rss>")
    routes = {
        "/big": (200, XML, big),
        "/bomb": (200, {"Content-Encoding": "gzip", **XML}, bomb),
    }
    with (
        serve_routes(routes) as base,
        FeedClient(allowed_hosts={"127.0.0.1:*"}, max_body_bytes=20_000) as http,
    ):
        context = ReadContext(http=http)
        for path in ("/big", "/bomb"):
            emitted: list[Emitted] = []
            with pytest.raises(ConnectorError, match="larger than the 20000-byte max_body_bytes"):
                emitted.extend(MerchantFeedKind().read(registration(f"{base}{path}"), {}, context))
            assert emitted == []


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("63.60 EUR", Price(63.6, "EUR")),
        ("1,27 EUR", Price(1.27, "EUR")),
        ("INR 250.00", Price(250.0, "INR")),
        ("15.0 EUR", Price(15.0, "EUR")),
        ("12,50 €", Price(12.5, "EUR")),
        ("€12.50", Price(12.5, "EUR")),
        ("1 234,56 EUR", Price(1234.56, "EUR")),
        ("1\u202f234,56 EUR", Price(1234.56, "EUR")),
        ("1,234.56 usd", Price(1234.56, "USD")),
        ("1.234.567,50 EUR", Price(1234567.5, "EUR")),
        ("1,27,000 INR", Price(127000.0, "INR")),
        ("0 EUR", Price(0.0, "EUR")),
        ("7", Price(7.0, None)),
    ],
)
def test_prices_as_feeds_write_them(text: str, price: Price) -> None:
    assert parse_price(text) == price


@pytest.mark.parametrize("text", ["gratuit", "-3 EUR", "EUR 3 USD", "12 EURO", "", "1.2.3,4,5 EUR"])
def test_what_is_not_a_price_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="is not a|names two currencies"):
        parse_price(text)


def test_the_selling_price_is_the_sale_price_when_it_applies() -> None:
    regular, sale = Price(40.0, "INR"), Price(20.0, "INR")
    now = datetime(2024, 6, 15, tzinfo=UTC)
    assert selling_price(regular, sale, now=now) == sale
    assert selling_price(regular, sale, "2024-06-01T00:00+0200/2024-06-30T00:00+0200", now) == sale
    assert selling_price(regular, sale, "2024-07-01T00:00Z/2024-07-30T00:00Z", now) == regular
    assert selling_price(regular, sale, "not a date/at all", now) == regular
    assert selling_price(regular, Price(50.0, "INR"), now=now) == regular  # a "sale" above price
    assert selling_price(regular, Price(20.0, "EUR"), now=now) == regular  # another currency
    assert selling_price(None, sale, now=now) == sale
    assert selling_price(regular, None, now=now) == regular


@pytest.mark.parametrize(
    ("spelling", "value"),
    [
        ("in_stock", "in_stock"),
        ("in stock", "in_stock"),
        ("In Stock", "in_stock"),
        ("instock", "in_stock"),
        ("https://schema.org/InStock", "in_stock"),
        ("limited availability", "in_stock"),
        ("available for order", "in_stock"),
        ("en stock", "in_stock"),
        ("Disponible", "in_stock"),
        ("out_of_stock", "out_of_stock"),
        ("out of stock", "out_of_stock"),
        ("OutOfStock", "out_of_stock"),
        ("sold out", "out_of_stock"),
        ("Rupture de stock", "out_of_stock"),
        ("épuisé", "out_of_stock"),
        ("preorder", "preorder"),
        ("pre-order", "preorder"),
        ("précommande", "preorder"),
        ("backorder", "backorder"),
        ("back order", "backorder"),
        ("sur commande", "backorder"),
        ("bientôt", None),
    ],
)
def test_availability_spellings_seen_in_the_wild(spelling: str, value: str | None) -> None:
    assert normalise_availability(spelling) == value


def test_html_becomes_plain_text_safely() -> None:
    html = (
        '<div class="x"><h2>Miel</h2><p>De <b>lavande</b>&nbsp;&amp; thym</p>'
        "<script>document.cookie</script><style>p{}</style><ul><li>250 g</li><li>500 g</li></ul>"
        "<img src=x onerror=alert(1)>&lt;b&gt;pas une balise&lt;/b&gt;</div>"
    )
    assert html_to_text(html) == "Miel\nDe lavande & thym\n250 g\n500 g\n<b>pas une balise</b>"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"
    assert html_to_text("") == ""
    assert text_of("Prix < 10 € et > 5 €") == "Prix < 10 € et > 5 €"  # no tag: left alone


def _rss(channel_link: str, item_link: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
        f"<channel><title>Cave</title><link>{channel_link}</link><description>x</description>"
        f"<item><g:id>v1</g:id><title>Vin</title><link>{item_link}</link>"
        "<g:price>9.00 EUR</g:price></item></channel></rss>"
    ).encode()


def test_the_listing_url_is_the_feed_s_link_else_an_item_s_page(context: ReadContext) -> None:
    """Where a customer is sent: the ``url`` option, else the channel's link (read even when
    the shop is not taken from the channel), else the website, else an item's page; never a
    link other than http(s), and an odd one does not cost the shop."""
    platform = "https://dansmazone.example"
    routes = {
        "/channel": (200, XML, _rss(f"{platform}/boutique/cave", f"{platform}/p/v1")),
        "/hostile": (200, XML, _rss("javascript:alert(1)", f"{platform}/p/v1")),
        "/nothing": (200, XML, _rss("data:text/html,x", "javascript:alert(2)")),
    }
    with serve_routes(routes) as base:

        def shop_of(path: str, **shop: Any) -> ShopRecord:
            found = records(read(registration(f"{base}{path}", shop=SHOP | shop), context))[0]
            assert isinstance(found, ShopRecord)
            return found

        assert shop_of("/channel").url == f"{platform}/boutique/cave"
        assert shop_of("/channel", url=f"{platform}/c/42").url == f"{platform}/c/42"
        assert shop_of("/hostile").url == f"{platform}/p/v1"  # the item's page
        assert shop_of("/hostile", website="https://cave.example").url == "https://cave.example"
        assert shop_of("/nothing").url is None  # no link rather than a dangerous one
        with pytest.raises(ConnectorError, match="shop.url"):  # an operator's typo is said
            shop_of("/channel", url="javascript:alert(3)")
    assert [r.path for r in base.requests] == ["/channel"] * 2 + ["/hostile"] * 2 + [
        "/nothing",
        "/channel",
    ]
