"""How far apart blocking's candidate pairs are: the share crossing a département boundary.

    .venv/bin/python benchmarks/blocking_geography.py --records 200000

Generates N French shop records (``dedupe_data.py``: ~95 départements, chains with one name and
website in many towns, namesakes such as "Boulangerie du Centre"), prepares them as the matching
does and lists every candidate pair blocking makes (:func:`dedupe.blockindex.candidate_pairs`),
then counts, over the pairs whose two records both have a postcode, those whose départements
differ, and over the pairs whose two records both have a point, how many are more than 50, 100
and 300 km apart; separately for the true pairs (one shop listed twice) and the others. This is
what partitioning the matching by region would lose: a pair across the cut can no longer be
scored. The generator's départements sit on a grid of cells about 70-95 km apart, not on the
real map. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
sys.path.append(str(HERE))

from dedupe_data import generate  # noqa: E402

from dedupe import ShopTable  # noqa: E402
from dedupe.block.index import candidate_pairs  # noqa: E402
from dedupe.prepare import prepare  # noqa: E402


def departement(postcode: object) -> str | None:
    text = str(postcode or "").strip().replace(" ", "")
    return text[:2] if len(text) == 5 and text.isdigit() else None


def km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance (haversine), kilometres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def as_float(values: list) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(ValueError):
            out[i] = float(str(v).replace(",", ".")) if v not in (None, "") else math.nan
    return out


def figures(
    a: np.ndarray, b: np.ndarray, dept: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> dict:
    known = (dept[a] != "") & (dept[b] != "")
    crossing = known & (dept[a] != dept[b])
    geo = ~np.isnan(lat[a]) & ~np.isnan(lat[b])
    dist = km(lat[a][geo], lon[a][geo], lat[b][geo], lon[b][geo])
    n_geo = max(int(geo.sum()), 1)
    return {
        "pairs": int(len(a)),
        "with_both_postcodes": int(known.sum()),
        "cross_departement": int(crossing.sum()),
        "cross_departement_share": round(float(crossing.sum()) / max(int(known.sum()), 1), 6),
        "with_both_points": int(geo.sum()),
        "over_50_km_share": round(float((dist > 50).sum()) / n_geo, 6),
        "over_100_km_share": round(float((dist > 100).sum()) / n_geo, 6),
        "over_300_km_share": round(float((dist > 300).sum()) / n_geo, 6),
        "median_km": round(float(np.median(dist)), 3) if len(dist) else None,
    }


def host(value: object) -> str:
    text = str(value or "").lower().split("//")[-1].split("/")[0].removeprefix("www.")
    return text


def shared_with(a: np.ndarray, b: np.ndarray, columns: dict[str, list]) -> dict[str, int]:
    """What the two records of each pair have in common, raw (a chain's website or e-mail
    domain, its SIRET's SIREN, a phone): which blocking key most likely made the pair."""
    site = np.array([host(v) for v in columns["website"]])
    mail = np.array([str(v or "").lower().partition("@")[2] for v in columns["email"]])
    siren = np.array([str(v or "").replace(" ", "")[:9] for v in columns["siret"]])
    name = np.array([str(v or "").lower() for v in columns["name"]])
    found = {}
    for label, values in (("website", site), ("email_domain", mail), ("siren", siren)):
        found[label] = int(((values[a] != "") & (values[a] == values[b])).sum())
    found["same_name"] = int((name[a] == name[b]).sum())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.records, args.seed)
    generated = time.perf_counter()
    prepared = prepare(ShopTable(dict(data.columns)))
    batch = candidate_pairs(prepared)
    blocked = time.perf_counter()
    a, b = np.asarray(batch.a, np.int64), np.asarray(batch.b, np.int64)
    dept = np.array([departement(p) or "" for p in data.columns["postcode"]])
    lat, lon = as_float(data.columns["lat"]), as_float(data.columns["lon"])
    truth = np.asarray(data.truth)
    same = truth[a] == truth[b]
    result = {
        "benchmark": "blocking_geography",
        "records": len(data),
        "seed": args.seed,
        "all": figures(a, b, dept, lat, lon),
        "true_pairs": figures(a[same], b[same], dept, lat, lon),
        "other_pairs": figures(a[~same], b[~same], dept, lat, lon),
        "cross_departement_sharing": shared_with(
            a[(dept[a] != "") & (dept[b] != "") & (dept[a] != dept[b])],
            b[(dept[a] != "") & (dept[b] != "") & (dept[a] != dept[b])],
            data.columns,
        ),
        "true_pairs_found": int(same.sum()),
        "true_pairs_total": data.true_pairs(),
        "generate_s": round(generated - started, 2),
        "prepare_and_block_s": round(blocked - generated, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
