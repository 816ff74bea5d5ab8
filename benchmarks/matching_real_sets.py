"""The labelled real sets of ``../shared/data/real/labelled/`` as platforms of CSV rows and truth.

Each set becomes two platforms (one per source) whose rows carry the fields a registration maps
(``source_id``, ``name``, ``address``, ``city``, ``postcode``, ``phone``, ``website``, ``lat``,
``lon``, ``country``) and the truth: the pairs labelled as the same place and, where the labels
are only for some pairs, the pairs labelled as different. Nothing of these data is copied into
the repository: they are read from beside it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT.parent / "shared" / "data" / "real" / "labelled"
FIELDS = (
    "source_id", "name", "address", "city", "postcode", "phone", "website", "lat", "lon",
    "country",
)  # fmt: skip

Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass
class Platform:
    """One source of a set: its registration's country and its rows (by source id)."""

    name: str
    country: str
    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, row: dict[str, str]) -> str:
        """Keep the row (the first one with its source id) and return its record key."""
        self.rows.setdefault(row["source_id"], row)
        return f"{self.name}:{row['source_id']}"


@dataclass
class LabelledSet:
    """Records of two platforms and their labels.

    ``complete``: every pair across the two platforms not labelled the same is different (the
    labels cover every cross pair, so clusters exist and B-cubed applies); otherwise only
    ``same`` and ``different`` pairs are judged. Any other pair, two records of one platform
    included, is unknown: the labels do not say."""

    name: str
    platforms: list[Platform]
    same: set[Pair]
    different: set[Pair]
    complete: bool

    def truth(self, a: str, b: str) -> bool | None:
        """Whether two records are the same place; None when nobody labelled the pair."""
        key = pair(a, b)
        if key in self.same:
            return True
        if key in self.different:
            return False
        if self.complete and a.partition(":")[0] != b.partition(":")[0]:
            return False
        return None

    def clusters(self) -> dict[str, str]:
        """Record key -> true entity label (for complete sets): the pairs' components."""
        parent = {f"{p.name}:{s}": f"{p.name}:{s}" for p in self.platforms for s in p.rows}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in sorted(self.same):
            parent[find(a)] = find(b)
        return {key: find(key) for key in parent}


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _digest(*parts: str) -> str:
    """An id for a record that has none in its file: the same fields give the same id."""
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


def locu_foursquare(labelled: Path = LABELLED) -> LabelledSet:
    folder = labelled / "locu_foursquare_nyc"
    platforms = []
    for name, path in (("locu", "locu_train.json"), ("foursquare", "foursquare_train.json")):
        platform = Platform(name, "US")
        for item in json.loads((folder / path).read_text(encoding="utf-8")):
            platform.add(
                {
                    "source_id": _text(item["id"]),
                    "name": _text(item.get("name")) or "?",
                    "address": _text(item.get("street_address")),
                    "city": _text(item.get("locality")),
                    "postcode": _text(item.get("postal_code")),
                    "phone": _text(item.get("phone")),
                    "website": _text(item.get("website")),
                    "lat": _text(item.get("latitude")),
                    "lon": _text(item.get("longitude")),
                    "country": "US",
                }
            )
        platforms.append(platform)
    with (folder / "matches_train.csv").open(newline="", encoding="utf-8") as handle:
        matches = list(csv.DictReader(handle))
    same = {pair(f"locu:{r['locu_id']}", f"foursquare:{r['foursquare_id']}") for r in matches}
    return LabelledSet("locu_foursquare_nyc", platforms, same, set(), complete=True)


def overture_pairs(labelled: Path = LABELLED) -> LabelledSet:
    path = labelled / "overture_places_3k_pairs" / "pairs_flat.csv"
    left, right = Platform("places_a", "US"), Platform("places_b", "US")
    same, different = set(), set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            keys = []
            for platform, prefix in ((left, ""), (right, "base_")):
                keys.append(
                    platform.add(
                        {
                            "source_id": _text(row[f"{prefix}id"]),
                            "name": _text(row[f"{prefix}name"]) or "?",
                            "address": _text(row[f"{prefix}address"]),
                            "city": _text(row[f"{prefix}locality"]),
                            "postcode": _text(row[f"{prefix}postcode"]),
                            "phone": _text(row[f"{prefix}phone"]),
                            "website": _text(row[f"{prefix}website"]),
                            "lat": "",
                            "lon": "",
                            "country": _text(row[f"{prefix}country"]) or "US",
                        }
                    )
                )
            (same if row["label"] == "1" else different).add(pair(*keys))
    return LabelledSet("overture_places_3k_pairs", [left, right], same, different - same, False)


GEOER_FIELDS = ("name", "lat", "lon", "address", "postcode")


def geoer(source: str, labelled: Path = LABELLED, split: str = "test") -> LabelledSet:
    path = labelled / "geoer_edinburgh" / f"osm_{source}_pairs_parsed.csv"
    osm, other = Platform("osm", "GB"), Platform(source, "GB")
    same, different = set(), set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != split:
                continue
            keys = []
            for platform, side in ((osm, "l_"), (other, "r_")):
                values = [_text(row[side + c]) for c in GEOER_FIELDS]
                name, lat, lon, address, postcode = values
                keys.append(
                    platform.add(
                        {
                            "source_id": _digest(*values),
                            "name": name or "?",
                            "address": address,
                            "city": "",  # the files have no town
                            "postcode": postcode,
                            "phone": "",
                            "website": "",
                            "lat": lat,
                            "lon": lon,
                            "country": "GB",
                        }
                    )
                )
            (same if row["label"] == "1" else different).add(pair(*keys))
    return LabelledSet(f"geoer_edinburgh_osm_{source}", [osm, other], same, different - same, False)


#: Set name -> loader, in the order the harness runs them.
SETS: dict[str, Callable[[Path], LabelledSet]] = {
    "locu_foursquare_nyc": locu_foursquare,
    "overture_places_3k_pairs": overture_pairs,
    "geoer_edinburgh_osm_yelp": lambda folder: geoer("yelp", folder),
    "geoer_edinburgh_osm_fsq": lambda folder: geoer("fsq", folder),
}
