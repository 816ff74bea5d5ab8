"""The demo generator's five platforms, matched with default settings, against its truth."""

from __future__ import annotations

import pytest

from aggregator.demo import PLATFORMS, generate_catalogue, ground_truth, platform_listing
from aggregator.demo.platforms import demo_registrations
from aggregator.models import RecordKey, ShopRecord
from connectors.mapping import shop_from_row
from dedupe import evaluate, match_shops


def listings_as_records(n_shops: int) -> tuple[list[ShopRecord], dict[RecordKey, str]]:
    """Every platform's listings read as the connectors read them, and the truth."""
    catalogue = generate_catalogue(n_shops=n_shops)
    registrations = {r.platform: r for r in demo_registrations("http://127.0.0.1:8031")}
    listings = {platform: platform_listing(catalogue, platform) for platform in PLATFORMS}
    records: list[ShopRecord] = []
    for platform, rows in listings.items():
        for index, row in enumerate(rows):
            if platform in registrations:
                record = shop_from_row(registrations[platform], row, f"{platform}:{index}")
            else:  # flat platforms: their fields are the record's
                fields = {k: v for k, v in row.items() if k in ShopRecord.model_fields}
                fields.update(platform=platform, source_id=str(row["source_id"]))
                record = ShopRecord(**{k: v for k, v in fields.items() if v is not None})
            assert isinstance(record, ShopRecord), record
            records.append(record)
    truth = {RecordKey(platform=p, source_id=s): t for p, s, t in ground_truth(catalogue, listings)}
    return records, truth


@pytest.mark.parametrize("n_shops", [600, 3000])
def test_demo_catalogue_pairwise_f1(n_shops: int) -> None:
    records, truth = listings_as_records(n_shops)
    result = match_shops(records)
    scores = evaluate(result.assignments(), truth)
    assert scores["f1"] >= 0.98, scores
    assert scores["bcubed_f1"] >= 0.98, scores
    # Chains keep one entity per branch: the truth's entity count is met, not undershot.
    assert scores["predicted_entities"] >= 0.98 * scores["true_entities"]
