"""The two peers of the real-data harness: Splink 5 as its documentation shows, and a rule.

Splink: two tables linked (``link_only``), input cleaned the way its tutorials do in SQL
(lowercase, no accents or punctuation, the phone's last nine digits), default library
comparisons for name, address, postcode and phone, the prior from deterministic rules, u by
random sampling, m by expectation maximisation, clusters at match probability 0.9. Where the
records have coordinates, a second model compares the distance as well (as the project's other
Splink benchmark does); the harness keeps the better of the two, so the peer is not weakened.

The rule: two records are the same place when their names are alike (rapidfuzz token set ratio
80 or more) and they share a phone (last nine digits) or an address (token sort ratio 90 or
more).
"""

from __future__ import annotations

import logging
import re
import unicodedata

import numpy as np
from matching_real_sets import LabelledSet, Pair, pair
from rapidfuzz import fuzz, process

CLEAN_SQL = r"""
select
    unique_id,
    nullif(trim(regexp_replace(lower(strip_accents(name)), '[^a-z0-9]+', ' ', 'g')), '') as name,
    nullif(trim(regexp_replace(lower(strip_accents(address)), '[^a-z0-9]+', ' ', 'g')), '')
        as address,
    nullif(upper(trim(postcode)), '') as postcode,
    nullif(right(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), 9), '') as phone,
    try_cast(lat as double) as lat, try_cast(lon as double) as lon
from {table}
"""


def has_coordinates(labelled: LabelledSet) -> bool:
    return any(r["lat"] for p in labelled.platforms for r in p.rows.values())


def splink_pairs(labelled: LabelledSet, distance: bool = False, threads: int = 2) -> set[Pair]:
    """Record-key pairs Splink puts in one cluster at match probability 0.9 (``distance``:
    coordinates compared as well)."""
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl

    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
    con.execute(f"set threads to {threads}")
    db_api = DuckDBAPI(connection=con)
    tables = []
    for platform in labelled.platforms:
        rows = list(platform.rows.values())
        raw = pa.table(
            {
                "unique_id": [f"{platform.name}:{r['source_id']}" for r in rows],
                **{
                    c: [r[c] or None for r in rows]
                    for c in ("name", "address", "postcode", "phone", "lat", "lon")
                },
            }
        )
        con.register(f"raw_{platform.name}", raw)
        con.execute(
            f"create table clean_{platform.name} as "
            + CLEAN_SQL.format(table=f"raw_{platform.name}")
        )
        tables.append(db_api.register(f"clean_{platform.name}"))
    comparisons = [
        cl.NameComparison("name"),
        cl.JaroWinklerAtThresholds("address"),
        cl.PostcodeComparison("postcode"),
        cl.ExactMatch("phone"),
    ]
    if distance:
        comparisons.append(cl.DistanceInKMAtThresholds("lat", "lon", [0.05, 0.2, 1.0]))
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("substr(name, 1, 3)"),
            block_on("postcode"),
            block_on("phone"),
        ],
        comparisons=comparisons,
    )
    linker = Linker(tables, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "postcode"), block_on("phone")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for session in (block_on("substr(name, 1, 3)"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(session)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    rows = con.execute(f"select unique_id, cluster_id from {clusters.physical_name}").fetchall()
    members: dict[str, list[str]] = {}
    for key, cluster in rows:
        members.setdefault(str(cluster), []).append(str(key))
    return {pair(a, b) for keys in members.values() for a in keys for b in keys if a < b}


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]+", " ", text.encode("ascii", "ignore").decode()).strip()


def _phone(text: str) -> str:
    return re.sub(r"\D", "", text)[-9:]


def rule_pairs(labelled: LabelledSet) -> set[Pair]:
    """Record-key pairs the rule calls the same place, across the set's two platforms."""
    left, right = labelled.platforms
    rows_l, rows_r = list(left.rows.values()), list(right.rows.values())
    names_l = [_plain(r["name"]) for r in rows_l]
    names_r = [_plain(r["name"]) for r in rows_r]
    out: set[Pair] = set()
    # One row of the name matrix at a time: a few thousand by a few thousand stays small.
    for i, name in enumerate(names_l):
        scores = process.cdist([name], names_r, scorer=fuzz.token_set_ratio, score_cutoff=80)[0]
        for j in np.flatnonzero(scores).tolist():
            a, b = rows_l[i], rows_r[j]
            phone_a, phone_b = _phone(a["phone"]), _phone(b["phone"])
            same_phone = bool(phone_a) and phone_a == phone_b
            addr_a, addr_b = _plain(a["address"]), _plain(b["address"])
            same_address = bool(addr_a and addr_b) and fuzz.token_sort_ratio(addr_a, addr_b) >= 90
            if same_phone or same_address:
                out.add(pair(f"{left.name}:{a['source_id']}", f"{right.name}:{b['source_id']}"))
    return out
