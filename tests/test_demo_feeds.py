"""The five demo platforms, each read by its own kind without a single refusal."""

from __future__ import annotations

import httpx

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms
from aggregator.models import OfferRecord, ShopRecord
from aggregator.settings import Settings
from connectors.base import Item, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind


def test_every_demo_feed_reads_cleanly_through_its_kind() -> None:
    with DemoPlatforms(generate_catalogue(n_shops=80)) as demo:
        geo = httpx.get(demo.base_url + "/geolocal31/commerces.geojson").json()
        assert len(geo["features"]) == len(demo.listings["geolocal31"])
        client = FeedClient.from_settings(Settings(allow_hosts="127.0.0.1:*"))
        context = ReadContext(http=client)
        by_platform: dict[str, list[Item]] = {}
        for registration in demo.registrations():
            for emitted in get_kind(registration.kind).read(registration, {}, context):
                assert not hasattr(emitted, "reason"), emitted  # no refusal
                if isinstance(emitted, Item):
                    by_platform.setdefault(registration.platform, []).append(emitted)
        client.close()
    for platform in ("toutoulouse", "clickn_co", "tousoccitariens", "geolocal31", "dans_ma_zone"):
        shops = [i for i in by_platform[platform] if isinstance(i.record, ShopRecord)]
        assert len(shops) == len(demo.listings[platform]), platform
    offers = [i.record for i in by_platform["dans_ma_zone"] if isinstance(i.record, OfferRecord)]
    products = sum(len(r.get("products") or []) for r in demo.listings["dans_ma_zone"])
    assert len(offers) == products > 0
    assert all(o.price and o.currency == "EUR" and o.shop_source_id for o in offers)
