"""Matching on the labelled real sets, fed straight to the matcher: pair figures and calibration.

Reads ``../shared/data/real/labelled/`` (never copied here): each set's records become
ShopRecords (one platform per source, the record's country set), go through
:func:`dedupe.match_table` as a fresh run, and the result is scored on the labelled pairs:
pair precision, recall, F1, blocking recall (labelled matches among the candidate pairs) and a
reliability table (labelled pairs by model probability: share that truly match).

    .venv/bin/python benchmarks/matching_labelled.py [--sets locu,overture,osm_yelp,osm_fsq]

The last line is one JSON object ``{"sets": {NAME: {precision, recall, f1, blocking_recall,
pairs, weights}}}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.models import ShopRecord  # noqa: E402
from dedupe import MatchConfig, ShopTable, match_table  # noqa: E402
from dedupe.score.model import probability  # noqa: E402

#: ``../shared/data/real/labelled`` beside the repository; ``MATCHING_LABELLED`` overrides it.
ROOT = Path(
    os.environ.get("MATCHING_LABELLED")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "labelled"
)
#: (record key a, record key b, is a match)
Labelled = list[tuple[str, str, bool]]
#: Whether the matcher estimates its weights ("auto": when it has enough records).
ESTIMATE: bool | str = {"1": True, "0": False}.get(os.environ.get("MATCHING_ESTIMATE", ""), "auto")


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return None if number != number else number


def _record(platform: str, source_id: str, **fields: Any) -> ShopRecord:
    clean = {k: _text(v) for k, v in fields.items() if k not in ("lat", "lon", "country")}
    lat, lon = _float(fields.get("lat")), _float(fields.get("lon"))
    return ShopRecord(
        platform=platform,
        source_id=source_id,
        name=clean.pop("name") or "?",
        country=_text(fields.get("country")) or "FR",
        lat=lat if lat is not None and lon is not None else None,
        lon=lon if lat is not None and lon is not None else None,
        **clean,
    )


def load_locu() -> tuple[list[ShopRecord], Labelled, bool]:
    """New York: Locu against Foursquare, every cross pair judged (one-to-one gold matches)."""
    folder = ROOT / "locu_foursquare_nyc"
    records = []
    for platform, name in (("locu", "locu_train.json"), ("foursquare", "foursquare_train.json")):
        for row in json.loads((folder / name).read_text(encoding="utf-8")):
            records.append(
                _record(
                    platform,
                    row["id"],
                    name=row["name"],
                    address=row["street_address"],
                    city=row["locality"],
                    postcode=row["postal_code"],
                    phone=row["phone"],
                    website=row["website"],
                    lat=row["latitude"],
                    lon=row["longitude"],
                    country="US",
                )  # fmt: skip
            )
    with (folder / "matches_train.csv").open(encoding="utf-8") as handle:
        gold = [(f"locu:{r['locu_id']}", f"foursquare:{r['foursquare_id']}", True)
                for r in csv.DictReader(handle)]  # fmt: skip
    return records, gold, True


def load_overture() -> tuple[list[ShopRecord], Labelled, bool]:
    """Overture places: 3,000 judged pairs, 67 countries, no coordinates."""
    records: dict[str, ShopRecord] = {}
    labelled: Labelled = []
    with (ROOT / "overture_places_3k_pairs" / "pairs_flat.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            keys = []
            for platform, p in (("overture", ""), ("base", "base_")):
                source_id = row[f"{p}id"]
                keys.append(f"{platform}:{source_id}")
                records.setdefault(keys[-1], _record(
                    platform, source_id, name=row[f"{p}name"], address=row[f"{p}address"],
                    city=row[f"{p}locality"], postcode=row[f"{p}postcode"], phone=row[f"{p}phone"],
                    website=row[f"{p}website"], country=row[f"{p}country"],
                ))  # fmt: skip
            labelled.append((keys[0], keys[1], row["label"] == "1"))
    return list(records.values()), labelled, False


def load_geoer(other: str) -> tuple[list[ShopRecord], Labelled, bool]:
    """Edinburgh: OpenStreetMap against Yelp or Foursquare, the test split's judged pairs."""
    records: dict[str, ShopRecord] = {}
    labelled: Labelled = []
    path = ROOT / "geoer_edinburgh" / f"osm_{other}_pairs_parsed.csv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != "test":
                continue
            keys = []
            for platform, p in (("osm", "l_"), (other, "r_")):
                values = [row[f"{p}{f}"] for f in ("name", "lat", "lon", "address", "postcode")]
                source_id = str(abs(hash("|".join(values))))
                keys.append(f"{platform}:{source_id}")
                records.setdefault(keys[-1], _record(
                    platform, source_id, name=values[0], lat=values[1], lon=values[2],
                    address=values[3], postcode=values[4], city="Edinburgh", country="GB",
                ))  # fmt: skip
            labelled.append((keys[0], keys[1], row["label"] == "1"))
    return list(records.values()), labelled, False


SETS = {
    "locu_foursquare_nyc": load_locu,
    "overture_places_3k_pairs": load_overture,
    "geoer_osm_yelp_test": lambda: load_geoer("yelp"),
    "geoer_osm_fsq_test": lambda: load_geoer("fsq"),
}


def _pairs_of(clusters: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for keys in clusters.values():
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                yield (a, b) if a < b else (b, a)


def run_set(name: str, labelled_only: bool | None = None) -> dict[str, Any]:
    """Match one set from scratch and score it."""
    records, labelled, exhaustive = SETS[name]()
    started = time.perf_counter()
    table = ShopTable.from_records(sorted(records, key=lambda r: (r.platform, r.source_id)))
    result = match_table(table, config=MatchConfig(keep_pairs=True, estimate=ESTIMATE))
    seconds = time.perf_counter() - started
    state = result.state
    entity = {str(k): e for k, e in result.assignments().items()}
    truth = {(min(a, b), max(a, b)): same for a, b, same in labelled}
    if exhaustive:  # every cross-platform pair is judged: unlisted ones are non-matches
        clusters: dict[str, list[str]] = {}
        for key, e in entity.items():
            clusters.setdefault(e, []).append(key)
        predicted = {p for p in _pairs_of(clusters) if p[0].split(":")[0] != p[1].split(":")[0]}
    else:
        predicted = {p for p in truth if entity[p[0]] == entity[p[1]]}
    true = {p for p, same in truth.items() if same}
    tp = len(predicted & true)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    rows_a = np.array([state.row_of[a] for a, _ in truth])
    rows_b = np.array([state.row_of[b] for _, b in truth])
    from dedupe.state.pairstore import encode

    codes = encode(rows_a, rows_b)
    is_true = np.array(list(truth.values()))
    blocked = np.isin(codes, state.last_pairs)
    weights = state.model.score(state.prepared, rows_a, rows_b).weights
    return {
        "records": len(records),
        "pairs": len(truth),
        "matches": len(true),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "blocking_recall": round(float(blocked[is_true].mean()), 4),
        "candidate_pairs": len(state.last_pairs),
        "seconds": round(seconds, 2),
        "weights": state.model.source,
        "reliability": reliability(np.array([probability(w) for w in weights]), is_true),
    }


def reliability(p: np.ndarray, truth: np.ndarray) -> list[list[float]]:
    """Per band of model probability: [band low, pairs, mean probability, share matching]."""
    bands = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1.01]
    out = []
    for low, high in zip(bands, bands[1:], strict=False):
        inside = (p >= low) & (p < high)
        if inside.any():
            out.append([low, int(inside.sum()), round(float(p[inside].mean()), 3),
                        round(float(truth[inside].mean()), 3)])  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    args = parser.parse_args()
    if not ROOT.is_dir():
        print(json.dumps({"skipped": f"labelled data absent: {ROOT}"}))
        return
    figures = {}
    for name in args.sets.split(","):
        out = run_set(name)
        figures[name] = out
        print(f"{name}: {out['records']} records, {out['pairs']} judged pairs "
              f"({out['matches']} matches); precision {out['precision']} recall {out['recall']} "
              f"F1 {out['f1']}; blocking recall {out['blocking_recall']} "
              f"({out['candidate_pairs']} candidates); {out['seconds']} s; weights: "
              f"{out['weights']}", flush=True)  # fmt: skip
        print("  reliability [band, pairs, mean p, share matching]:", out["reliability"])
    keep = ("precision", "recall", "f1", "blocking_recall", "pairs", "weights")
    print(json.dumps({"sets": {k: {f: v[f] for f in keep} for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
