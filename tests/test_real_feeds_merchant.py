"""Every real Google Merchant feed under ``../shared/data/real/google_merchant_feeds/`` ingests
with sensible results; skipped with a reason when the folder is absent (a fresh clone)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors.merchant_feed.connector  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, RecordType, Rejection, ShopRecord
from aggregator.pipeline import run_connector
from aggregator.settings import Settings
from aggregator.store import Store
from connectors.base import Checkpoint, Item, ReadContext
from connectors.http import FeedClient
from connectors.merchant_feed.connector import MerchantFeedKind

pytestmark = pytest.mark.real_data

FOLDER = "google_merchant_feeds"
DAY_1 = "pallmann_store_fr_google_merchant_feed_rss_2026-02-16.xml"
DAY_2 = "pallmann_store_fr_google_merchant_feed_atom_2026-02-17.xml"
#: What we know of each file: format, items, currency.
KNOWN = {
    DAY_1: ("rss", 305, "EUR"),
    DAY_2: ("atom", 305, "EUR"),
    "freshnlocal_in_product_feed.xml": ("rss", 222, "INR"),
}
AVAILABILITY = {"in_stock", "out_of_stock", "preorder", "backorder"}


@pytest.fixture
def feeds(shared_real: Path) -> Path:
    folder = shared_real / FOLDER
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: no real merchant feeds to ingest")
    return folder


@pytest.fixture
def context() -> Iterator[ReadContext]:
    with FeedClient() as http:  # local files only: nothing leaves the machine
        yield ReadContext(http=http, allow_local_files=True)


def registration(path: Path, **fields: object) -> ConnectorRegistration:
    return ConnectorRegistration.model_validate(
        {
            "platform": "dans_ma_zone",
            "kind": "merchant_feed",
            "url": str(path),
            "options": {"shop_from_channel": True},
            **fields,
        }
    )


def feed_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xml", ".tsv", ".txt"))


def test_every_real_merchant_feed_ingests_sensibly(feeds: Path, context: ReadContext) -> None:
    files = feed_files(feeds)
    assert set(KNOWN) <= {p.name for p in files}, "a known real feed is missing"
    for path in files:
        emitted = list(MerchantFeedKind().read(registration(path), {}, context))
        assert not [e for e in emitted if isinstance(e, Rejection)], f"{path.name}: refusals"
        shop = emitted[0].record  # type: ignore[union-attr]
        assert isinstance(shop, ShopRecord) and shop.name and shop.website
        offers = [e.record for e in emitted if isinstance(e, Item)][1:]
        assert all(isinstance(o, OfferRecord) for o in offers)
        assert len({o.source_id for o in offers}) == len(offers), f"{path.name}: duplicate ids"
        assert all(o.shop_source_id == shop.source_id and o.title and o.url for o in offers)
        assert all(o.price is not None and o.price > 0 for o in offers), f"{path.name}: price"
        assert all(o.availability in AVAILABILITY for o in offers), f"{path.name}: availability"
        assert all(o.category for o in offers), f"{path.name}: category"
        assert all("<" not in (o.description or "") for o in offers)
        final = emitted[-1]
        assert isinstance(final, Checkpoint) and final.complete
        if path.name in KNOWN:
            fmt, count, currency = KNOWN[path.name]
            assert emitted[0].locator == ("/rss/channel" if fmt == "rss" else "/feed")  # type: ignore[union-attr]
            assert len(offers) == count
            assert {o.currency for o in offers} == {currency}  # type: ignore[union-attr]


def test_freshnlocal_spellings_and_sale_prices(feeds: Path, context: ReadContext) -> None:
    path = feeds / "freshnlocal_in_product_feed.xml"
    emitted = list(MerchantFeedKind().read(registration(path, country="IN"), {}, context))
    offers = {e.record.source_id: e.record for e in emitted[1:] if isinstance(e, Item)}
    assert Counter(o.availability for o in offers.values()) == {"in_stock": 200, "out_of_stock": 22}
    assert {o.category for o in offers.values()} == {"Food, Beverages & Tobacco > Food Items"}
    dill = offers["010UpSjAs6rFU1A8iI9K"]  # price 40.00 INR, sale_price 20.00 INR
    assert (dill.price, dill.currency) == (20.0, "INR")
    shop = emitted[0].record  # type: ignore[union-attr]
    assert (shop.source_id, shop.country, shop.services) == ("freshnlocal.co", "IN", [])


def ids_in(path: Path) -> set[str]:
    """The product ids of a feed, read without the connector (a plain regex over the file)."""
    return set(re.findall(r"<g:id>([^<]+)</g:id>", path.read_text(encoding="utf-8")))


def test_pallmann_rss_then_atom_updates_the_same_products(
    feeds: Path, context: ReadContext, tmp_path: Path
) -> None:
    """Day 1 is RSS at 63.60 EUR a lot, day 2 Atom at 1.27 EUR a unit: every product present both
    days is *changed*, never new. (The files share 282 of their 305 ids, not all: day 2 drops 23
    products and adds 23 others, which are new and gone as they should be.)"""
    day1, day2 = feeds / DAY_1, feeds / DAY_2
    kept, added, dropped = (
        ids_in(day1) & ids_in(day2),
        ids_in(day2) - ids_in(day1),
        ids_in(day1) - ids_in(day2),
    )
    settings = Settings(data_dir=tmp_path / "var")
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        runs = []
        for path in (day1, day2, day2):
            reg = registration(path, id="pallmann-store")
            store.save_connector(reg, origin="cli")
            runs.append(run_connector(store, reg, context, settings))
        first, second, third = (run.counts for run in runs)
        assert [run.status for run in runs] == ["ok", "ok", "ok"], [run.errors for run in runs]
        assert (first.new, first.rejected) == (306, 0)  # the shop and its 305 products
        assert second.new == len(added)  # only ids day 1 never had
        assert second.changed == len(kept) + 1  # every kept product, and the shop (new title)
        assert second.gone == len(dropped)
        assert (third.new, third.changed, third.gone) == (0, 0, 0)
        prices = {
            r.source_id: r.record["price"]
            for r in store.iter_raw(RecordType.offer)
            if not r.gone_at
        }
        assert prices["7f8b2c81-25aa-4424-a9a5-7783225be410"] == 1.27  # was 63.60 on day 1
        assert len(prices) == 305
    finally:
        store.dispose()
