"""Splink 5 (DuckDB backend) on the benchmark's records, as the notes' anchor measured it.

Blocking: postcode + first 3 letters of the name, OR phone. Comparisons: name, address, phone,
distance. u by random sampling, m by EM (sessions blocked on postcode+name and on phone), the
prior from a deterministic rule (same phone and same name). Clusters: connected components at
match probability 0.9. Input cleaning is what a Splink user writes in SQL: lowercase without
accents and punctuation, the postcode read out of one-field addresses, the last nine digits of
the phone.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb
import pyarrow as pa
from splink import Linker, SettingsCreator, block_on
from splink import comparison_library as cl
from splink.backends.duckdb import DuckDBAPI

CLEAN_SQL = r"""
create table shops as
select
    row_number() over () - 1 as unique_id,
    nullif(trim(regexp_replace(lower(strip_accents(name)), '[^a-z0-9]+', ' ', 'g')), '') as name,
    nullif(trim(regexp_replace(lower(strip_accents(address)), '[^a-z0-9]+', ' ', 'g')), '')
        as address,
    coalesce(nullif(postcode, ''), nullif(regexp_extract(address, '\b(\d{5})\b', 1), ''))
        as postcode,
    nullif(right(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), 9), '') as phone,
    lat, lon
from raw
"""


def run_splink(columns: dict[str, list[Any]], threads: int = 2) -> list[int]:
    """The cluster of every record (in input order)."""
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect()
    con.execute(f"set threads to {threads}")
    raw = pa.table(
        {name: columns[name] for name in ("name", "address", "postcode", "phone", "lat", "lon")}
    )
    con.register("raw", raw)
    con.execute(CLEAN_SQL)
    con.unregister("raw")
    db_api = DuckDBAPI(connection=con)
    shops = db_api.register("shops")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("postcode", "substr(name, 1, 3)"),
            block_on("phone"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8]),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
            cl.ExactMatch("phone"),
            cl.DistanceInKMAtThresholds("lat", "lon", [0.05, 0.2, 1.0]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(shops, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone", "name")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode", "substr(name, 1, 3)")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    rows = con.execute(
        f"select unique_id, cluster_id from {clusters.physical_name} order by unique_id"
    ).fetchall()
    label = {int(uid): str(cluster) for uid, cluster in rows}
    pairs = con.execute(f"select count(*) from {predictions.physical_name}").fetchone()
    run_splink.scored_pairs = int(pairs[0]) if pairs else 0  # type: ignore[attr-defined]
    ids: dict[str, int] = {}
    return [
        ids.setdefault(label.get(i, f"alone{i}"), len(ids)) for i in range(len(columns["name"]))
    ]
