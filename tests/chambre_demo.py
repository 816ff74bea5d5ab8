"""The demo world ingested and matched once, with its truth, for the review desk's tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms
from aggregator.demo.session import truth_rows
from aggregator.runtime import Runtime
from aggregator.settings import Settings

#: Small enough to build in seconds; with the weights fitted to it, its matching leaves 5 pairs
#: to review: a shop the registry lists by name and town only (a true match, twice) and a
#: chain's branch next door (different shops, three times).
DEMO_SHOPS = 150


@dataclass
class DemoDesk:
    runtime: Runtime
    root: Path
    #: Record key ``PLATFORM:SOURCE_ID`` -> the generator's true shop id.
    truth: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        """What the command line needs to open this store."""
        return {
            "AGGREGATOR_DATA_DIR": str(self.root / "var"),
            "AGGREGATOR_CONFIG_DIR": str(self.root / "config"),
            "AGGREGATOR_RATE_PUBLIC_PER_S": "0",
        }


def build_demo(root: Path, shops: int = DEMO_SHOPS, seed: int = 31) -> DemoDesk:
    runtime = Runtime(
        Settings(
            data_dir=root / "var",
            config_dir=root / "config",
            allow_hosts="127.0.0.1:*",
            # The tests follow every link of a page in a burst from one address: no rate limit.
            rate_public_per_s=0,
        )
    )
    catalogue = generate_catalogue(n_shops=shops, seed=seed)
    with DemoPlatforms(catalogue, port=0) as platforms:
        for registration in platforms.registrations():
            runtime.store.save_connector(registration, origin="cli")
        runtime.run_all()
        truth = {f"{p}:{s}": t for p, s, t in truth_rows(catalogue, platforms)}
    return DemoDesk(runtime, root, truth)
