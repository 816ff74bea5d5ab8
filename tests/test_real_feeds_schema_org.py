"""Kind ``schema_org`` over the real pages of ``../shared/data/real/schema_org_html``, served on
loopback and crawled from start URLs: agency and restaurant pages give shops, product pages offers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from loopback import serve_directory

import connectors.schema_org.connector  # noqa: F401  (registers the kind)
from aggregator.models import ConnectorRegistration, OfferRecord, ShopRecord
from connectors.base import Checkpoint, Item, ReadContext
from connectors.http import FeedClient
from connectors.registry import get_kind

#: No connection leaves the machine in these tests.
pytestmark = pytest.mark.usefixtures("loopback_only")

pytestmark = pytest.mark.real_data


def test_real_pages_crawled_from_start_urls(shared_real: Path) -> None:
    folder = shared_real / "schema_org_html"
    names = sorted(path.name for path in folder.glob("*.html"))
    with serve_directory(folder) as base, FeedClient(allowed_hosts={"127.0.0.1:*"}) as http:
        registration = ConnectorRegistration(
            platform="real",
            kind="schema_org",
            url=f"{base}/{names[0]}",
            options={
                "source": "pages",
                "start_urls": [f"{base}/{name}" for name in names[1:]],
                "follow_links": False,
                "politeness_delay_s": 0,
            },
        )
        emitted = list(get_kind("schema_org").read(registration, {}, ReadContext(http=http)))
    items = [e for e in emitted if isinstance(e, Item)]
    shops = {s.source_id.rsplit("/", 1)[-1]: s for s in (i.record for i in items)
             if isinstance(s, ShopRecord)}  # fmt: skip
    offers = {o.source_id.rsplit("/", 1)[-1]: o for o in (i.record for i in items)
              if isinstance(o, OfferRecord)}  # fmt: skip

    gmf = shops["atp_gmf_fr_agency_jsonld.html"]
    assert (gmf.name, gmf.phone, gmf.postcode, gmf.city) == (
        "ORLEANS NORD", "0970809809", "45000", "ORLEANS"
    )  # fmt: skip
    assert (gmf.lat, gmf.lon) == (47.9201639, 1.9018488)
    assert gmf.opening_hours == "Mo-Fr 10:00-12:45,14:00-18:00"
    maaf = shops["atp_maaf_fr_agency.html"]
    assert (maaf.phone, maaf.address, maaf.postcode) == ("0296618155", "25 RUE DE PARIS", "22000")
    assert maaf.opening_hours == "Mo,We-Fr 09:00-17:30; Tu 10:00-17:30"
    assert (maaf.lat, maaf.lon) == (48.50547359999999, -2.7438086)
    restaurant = shops["extruct_schema.org__LocalBusiness.002.html"]
    assert (restaurant.name, restaurant.phone, restaurant.category) == (
        "GreatFood", "(408) 714-1489", "Restaurant"
    )  # fmt: skip
    assert (
        restaurant.opening_hours == "Mo-Th 11:00-14:30,17:00-21:30; Fr,Sa 11:00-14:30,17:00-22:00"
    )

    prices = {name: (o.title, o.price, o.currency) for name, o in offers.items()}
    assert prices == {
        "extruct_misc__opengraph_ns_product_test.html": (
            "Better Off Dead [Exclusive Blu-ray Steelbook]",
            17.99,
            "USD",
        ),
        "extruct_misc__product_microdata.html": ("Executive Anvil", 119.99, "USD"),
        "extruct_schema.org__product.html": ("Executive Anvil", 119.99, "USD"),
        "extruct_websites__microdata-with-description.html": (
            "Johnsons 4 Fleas Cats & Kittens Tablets",
            5.29,
            "GBP",
        ),
    }
    assert all(o.availability == "in_stock" for o in offers.values())
    checkpoint = emitted[-1]
    assert isinstance(checkpoint, Checkpoint) and checkpoint.complete
    assert len(items) == 7
