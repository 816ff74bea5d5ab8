"""Matching on a real directory: the 2020 lockdown map of the Ténarèze communities (Gers).

283 rows over 9 category layers describe about 104 businesses (98 appear in several layers).
The data stays in ``../shared/data/real``; nothing of it is copied here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.models import RecordKey, ShopRecord
from dedupe import evaluate, load_taxonomy, match_shops

FOLDER = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "lockdown_fr_tenareze_2020"
)
LAYERS = ("Catgorie*.geojson", "Commerces*.geojson", "Sant*.geojson", "Transport*.geojson")

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not FOLDER.is_dir(), reason=f"real data folder absent: {FOLDER}"),
]


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def load_tenareze() -> tuple[list[ShopRecord], dict[RecordKey, str]]:
    """The layers as shop records, and the name each row gives (the directory's own grouping)."""
    records: list[ShopRecord] = []
    names: dict[RecordKey, str] = {}
    paths = sorted(p for pattern in LAYERS for p in FOLDER.glob(pattern))
    for path in paths:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        for index, feature in enumerate(features):
            props = feature["properties"]
            coords = (feature.get("geometry") or {}).get("coordinates") or [None, None]
            record = ShopRecord(
                platform="tenareze",
                source_id=f"{path.stem}-{index}",
                name=_text(props.get("qui")) or "?",
                category=_text(props.get("quoi")),
                address=_text(props.get("adresse")),
                postcode=_text(props.get("code posta")),
                city=_text(props.get("commune")),
                phone=_text(props.get("numéro")),
                email=_text(props.get("mail")),
                website=_text(props.get("Site")),
                description=_text(props.get("obs")),
                lon=coords[0],
                lat=coords[1],
            )
            records.append(record)
            names[record.key] = record.name.upper()
    return records, names


def test_tenareze_rows_collapse_to_about_104_businesses() -> None:
    records, names = load_tenareze()
    assert len(records) == 283
    result = match_shops(records)
    # 105 on this data: two different "La Tabatière" (other phone, address and postcode) stay
    # apart, which the name-only grouping counts as one.
    assert 100 <= len(result.entities) <= 108, len(result.entities)
    scores = evaluate(result.assignments(), names)
    assert scores["precision"] == 1.0, scores
    assert scores["recall"] >= 0.95, scores
    taxonomy = load_taxonomy()
    for entity in result.entities:
        assert entity.golden.value("name")
        postcode = entity.golden.value("postcode")
        assert postcode is None or (len(postcode) == 5 and postcode.isdigit())
        category = entity.golden.value("category")
        assert category is None or category in taxonomy.themes
