"""The demo world: a generated Toulouse-area catalogue, its noisy platform views, their servers.

Example::

    catalogue = generate_catalogue(n_shops=600, seed=31)
    with DemoPlatforms(catalogue) as demo:
        registrations = demo_registrations(demo.base_url)
        truth = ground_truth(catalogue, demo.listings)
"""

from __future__ import annotations

from aggregator.demo.generator import Catalogue, DemoProduct, DemoShop, generate_catalogue
from aggregator.demo.platforms import DemoPlatforms, demo_registrations
from aggregator.demo.variations import (
    PLATFORMS,
    ground_truth,
    platform_listing,
    write_truth_csv,
)

__all__ = [
    "PLATFORMS",
    "Catalogue",
    "DemoPlatforms",
    "DemoProduct",
    "DemoShop",
    "demo_registrations",
    "generate_catalogue",
    "ground_truth",
    "platform_listing",
    "write_truth_csv",
]
