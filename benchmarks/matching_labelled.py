"""Matching on the labelled real sets, fed straight to the matcher: pair figures and calibration.

Reads ``../shared/data/real/labelled/`` (never copied here): each set's records become
ShopRecords (one platform per source, the record's country set), go through
:func:`dedupe.match_table` as a fresh run, and the result is scored on the labelled pairs:
pair precision, recall, F1, blocking recall (labelled matches among the candidate pairs) and a
reliability table (labelled pairs by model probability: share that truly match).

    .venv/bin/python benchmarks/matching_labelled.py [--sets locu,overture,osm_yelp,osm_fsq]

With ``--labels 10,25,50`` each set is matched again with that many labels, taken in the
order of :func:`dedupe.informative_pairs` and answered from the truth. The last line is one
JSON object ``{"sets": {NAME: {precision, recall, f1, blocking_recall, pairs, weights,
f1_labels_K...}}}``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.models import ShopRecord  # noqa: E402
from dedupe import (  # noqa: E402
    MatchConfig,
    ShopTable,
    decisions_from_labels,
    informative_pairs,
    match_table,
)
from dedupe.score.model import probability  # noqa: E402
from dedupe.state.pairstore import encode  # noqa: E402

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
                source_id = hashlib.sha1("|".join(values).encode()).hexdigest()[:16]
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


def run_set(name: str, label_counts: Sequence[int] = ()) -> dict[str, Any]:
    """Match one set from scratch and score it; then again with ``k`` labels (for each ``k``
    of ``label_counts``) taken in the active-learning order and answered from the truth."""
    records, labelled, exhaustive = SETS[name]()
    table = ShopTable.from_records(sorted(records, key=lambda r: (r.platform, r.source_id)))
    truth = {(min(a, b), max(a, b)): same for a, b, same in labelled}
    started = time.perf_counter()
    result = match_table(table, config=MatchConfig(keep_pairs=True, estimate=ESTIMATE))
    out = {"records": len(records), "seconds": round(time.perf_counter() - started, 2)}
    out.update(score(result, truth, exhaustive, with_calibration=True))
    for k in label_counts:
        decisions = decisions_from_labels(_answers(result, truth, exhaustive, k))
        again = match_table(
            table, decisions, config=MatchConfig(keep_pairs=True, estimate=ESTIMATE)
        )
        out[f"f1_labels_{k}"] = score(again, truth, exhaustive)["f1"]
    return out


def _answers(result: Any, truth: dict[tuple[str, str], bool], exhaustive: bool, k: int):  # noqa: ANN202
    """The first ``k`` pairs of the active-learning order that the truth can answer."""
    out = []
    for pair in informative_pairs(result, limit=None):
        a, b = sorted((str(pair.a), str(pair.b)))
        if (a, b) in truth:
            out.append((a, b, truth[(a, b)]))
        elif exhaustive:
            out.append((a, b, False))
        if len(out) == k:
            break
    return out


def score(
    result: Any,
    truth: dict[tuple[str, str], bool],
    exhaustive: bool,
    with_calibration: bool = False,
) -> dict[str, Any]:
    """Pair precision, recall, F1 and blocking recall of ``result`` against the labels."""
    state = result.state
    entity = {str(k): e for k, e in result.assignments().items()}
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
    is_true = np.array(list(truth.values()))
    blocked = np.isin(encode(rows_a, rows_b), state.last_pairs)
    out: dict[str, Any] = {
        "pairs": len(truth),
        "matches": len(true),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "blocking_recall": round(float(blocked[is_true].mean()), 4),
        "candidate_pairs": len(state.last_pairs),
        "weights": state.model.source,
    }
    if with_calibration:
        weights = state.model.score(state.prepared, rows_a, rows_b).weights
        p = np.array([probability(w) for w in weights])
        out["reliability"] = reliability(p, is_true)
    return out


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
    parser.add_argument("--labels", default="", help="label counts to rerun with, e.g. 10,25,50")
    args = parser.parse_args()
    counts = [int(k) for k in args.labels.split(",") if k]
    if not ROOT.is_dir():
        print(json.dumps({"skipped": f"labelled data absent: {ROOT}"}))
        return
    figures = {}
    for name in args.sets.split(","):
        out = run_set(name, counts)
        figures[name] = out
        print(f"{name}: {out['records']} records, {out['pairs']} judged pairs "
              f"({out['matches']} matches); precision {out['precision']} recall {out['recall']} "
              f"F1 {out['f1']}; blocking recall {out['blocking_recall']} "
              f"({out['candidate_pairs']} candidates); {out['seconds']} s; weights: "
              f"{out['weights']}", flush=True)  # fmt: skip
        print("  reliability [band, pairs, mean p, share matching]:", out["reliability"])
        if counts:
            print("  with labels:", {k: out[f"f1_labels_{k}"] for k in counts})
    keep = ("precision", "recall", "f1", "blocking_recall", "pairs", "weights")
    keep += tuple(f"f1_labels_{k}" for k in counts)
    print(json.dumps({"sets": {k: {f: v[f] for f in keep} for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
