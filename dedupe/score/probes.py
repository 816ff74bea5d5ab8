"""Probe pairs: what any reviewer would decide, used to reject weights that drifted.

Each probe names the level of some comparisons (the others missing) and the verdict expected
with the default thresholds: a match (probability ≥ 0.9), not a match (< 0.5), or at least not
an automatic merge (< 0.9: a chain's branch may go to review). A model that gets any probe
wrong is not used (see :mod:`dedupe.score.estimate`).
"""

from __future__ import annotations

from typing import Any

from dedupe.score.model import probability

#: Expected verdicts as (lowest, highest) probability.
MATCH, APART, NOT_MERGED = (0.9, 1.0), (0.0, 0.5), (0.0, 0.9)

#: (what the pair shows, expected verdict)
PROBES: tuple[tuple[dict[str, str], tuple[float, float]], ...] = (
    ({"name": "exact", "phone": "exact"}, MATCH),
    ({"name": "exact", "address": "exact", "postcode": "exact"}, MATCH),
    ({"name": "similar>=0.9", "address": "exact", "distance": "<=50m"}, MATCH),
    ({"name": "similar>=0.9", "siret": "exact"}, MATCH),
    ({"name": "exact", "email": "exact", "postcode": "exact"}, MATCH),
    # "Same postcode, same kind of shop": the drift the Splink note measured.
    ({"postcode": "exact", "category": "exact"}, APART),
    ({"postcode": "exact", "category": "exact", "distance": "<=1km"}, APART),
    ({"name": "different", "postcode": "exact", "category": "exact", "distance": "<=200m"}, APART),
    # A chain's other branch: same name and website, another address, phone and place.
    (
        {
            "name": "exact",
            "website": "exact",
            "category": "exact",
            "address": "different",
            "phone": "different",
            "distance": "farther",
        },
        NOT_MERGED,
    ),
    # Next-door neighbours: another name, another phone.
    ({"name": "different", "phone": "different", "distance": "<=50m"}, APART),
)


def failed_probes(model: Any) -> list[str]:
    """The probes ``model`` gets wrong, described."""
    out = []
    by_name = {c.name: c for c in model.comparisons}
    for shows, expected in PROBES:
        weight = model.prior_weight
        for name, label in shows.items():
            comparison = by_name.get(name)
            levels = comparison.levels if comparison else ()
            level = next((lv for lv in levels if lv.label == label), None)
            if level is not None:
                weight += level.weight
        p = probability(weight)
        low, high = expected
        if not (low <= p < high or (high == 1.0 and p >= low)):
            shown = ", ".join(f"{k} {v}" for k, v in shows.items())
            out.append(f"probe [{shown}] scores {p:.2f}")
    return out
