"""The default comparisons of :class:`dedupe.score.model.MatchModel`, with a priori m and u.

Default m/u values are set a priori (no training data yet), to reflect French shop listings:

============  ==============================  ======  ========  =======
comparison    level                           m       u         bits
============  ==============================  ======  ========  =======
name          exact (normalised)              0.55    0.002     +8.1
              similar ≥ 0.90                  0.25    0.005     +5.6
              close ≥ 0.75                    0.12    0.04      +1.6
              different                       0.08    0.953     -3.6
address       exact (number + street)         0.55    0.0005    +10.1
              similar ≥ 0.90                  0.25    0.003     +6.4
              close ≥ 0.75                    0.10    0.03      +1.7
              different (other number, town)  0.10    0.9665    -3.3
distance      ≤ 50 m                          0.55    0.01      +5.8
              ≤ 200 m                         0.25    0.03      +3.1
              ≤ 1 km                          0.10    0.10       0.0
              ≤ 5 km                          0.05    0.20      -2.0
              farther                         0.05    0.66      -3.7
phone         a number in common              0.65    0.0001    +12.7
              same last eight digits          0.02    0.0003    +6.1
              none in common                  0.33    0.9996    -1.6
email         exact                           0.60    0.0002    +11.6
              different                       0.40    0.9998    -1.3
website       same registrable domain         0.70    0.001     +9.5
              different                       0.30    0.999     -1.7
siret         exact                           0.85    0.000001  +19.7
              same SIREN, other SIRET         0.05    0.10      -1.0
              different                       0.10    0.89      -3.2
postcode      exact                           0.85    0.20      +2.1
              same département                0.10    0.30      -1.6
              different                       0.05    0.50      -3.3
category      same theme                      0.60    0.15      +2.0
              same group                      0.20    0.25      -0.3
              different                       0.20    0.60      -1.6
============  ==============================  ======  ========  =======

Prior: 1 in 1,000 (-10 bits). Different phones or e-mails weigh little because shops give a
landline on one platform and a mobile on another; one same-SIREN level weighs *against* a merge
because it means two establishments of one company (chain branches).

Estimated values replace these with :meth:`dedupe.score.model.MatchModel.with_estimates`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dedupe.prepare.columns_of import SUFFIX_NAMES
from dedupe.prepare.identifiers import normalise_email, website_domain
from dedupe.score.comparisons import Comparison, Level
from dedupe.score.measures import (
    SAME_LINE,
    address_similarity,
    category_similarity,
    distance_m,
    exact,
    prefix_match,
    same_any,
)
from dedupe.score.names import CONTAINED, name_similarity

# What each comparison shows of one record in explanations: the normalised values compared.


def _show_name(p: Any, row: int) -> object:
    return p.names[row]


def _show_address(p: Any, row: int) -> object:
    street = p.streets[row]
    if not street:
        return None
    number, last = int(p.number[row]), int(p.number_to[row])
    suffix = SUFFIX_NAMES.get(int(p.suffix[row]))
    head = f"{number} {suffix}" if number and suffix else str(number) if number else ""
    if last > number > 0:
        head = f"{head}-{last}"  # a range: "39-41"
    return " ".join(x for x in (head, street) if x)


def _show_point(p: Any, row: int) -> object:
    lat, lon = float(p.lat[row]), float(p.lon[row])
    return None if np.isnan(lat) else [lat, lon]


def _show_phones(p: Any, row: int) -> object:
    return [f"+{int(v)}" for v in (p.phone1[row], p.phone2[row]) if v]


def _show_email(p: Any, row: int) -> object:
    return normalise_email(p.table.value("email", row)) if p.email[row] else None


def _show_website(p: Any, row: int) -> object:
    return website_domain(p.table.value("website", row)) if p.domain[row] else None


def _show_siret(p: Any, row: int) -> object:
    return f"{int(p.siret[row]):014d}" if p.siret[row] else None


def _show_postcode(p: Any, row: int) -> object:
    return f"{int(p.postcode[row]):05d}" if p.postcode[row] >= 0 else None


def _show_category(p: Any, row: int) -> object:
    code = int(p.category[row])
    return p.category_slugs[code] if code >= 0 else None


def _fuzzy_levels(
    exact_mu: tuple[float, float], *steps: tuple[float, float, float], else_mu: tuple[float, float]
) -> tuple[Level, ...]:
    levels = [Level("exact", *exact_mu, at_least=1.0)]
    for at_least, m, u in steps:
        levels.append(Level(f"similar>={at_least:g}", m, u, at_least=at_least))
    levels.append(Level("different", *else_mu))
    return tuple(levels)


DEFAULT_COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        ("names",),
        name_similarity,
        _fuzzy_levels(
            (0.55, 0.002),
            (0.90, 0.20, 0.004),
            (CONTAINED, 0.05, 0.002),
            (0.75, 0.12, 0.04),
            else_mu=(0.08, 0.952),
        ),
        "normalised names: token-set and token-sort ratios",
        role="against",
        show=_show_name,
    ),
    Comparison(
        "address",
        ("streets", "postcode", "city_hash"),
        address_similarity,
        _fuzzy_levels(
            (0.55, 0.0005), (0.90, 0.25, 0.003), (0.75, 0.10, 0.03), else_mu=(0.10, 0.9665)
        ),
        "house number and street, in one town",
        show=_show_address,
    ),
    Comparison(
        "distance",
        ("lat", "lon"),
        distance_m,
        (
            Level("<=50m", 0.55, 0.01, at_most=50),
            Level("<=200m", 0.25, 0.03, at_most=200),
            Level("<=500m", 0.06, 0.04, at_most=500),
            Level("<=1km", 0.04, 0.06, at_most=1000),
            Level("<=5km", 0.05, 0.20, at_most=5000),
            Level("farther", 0.05, 0.66),
        ),
        "haversine metres",
        show=_show_point,
    ),
    Comparison(
        "phone",
        ("phone1", "phone2"),
        same_any,
        (
            Level("exact", 0.65, 0.0001, at_least=1.0),
            Level("same_line", 0.02, 0.0003, at_least=SAME_LINE),
            Level("different", 0.33, 0.9996),
        ),
        "E.164 numbers, any in common; the same last eight digits",
        show=_show_phones,
    ),
    Comparison(
        "email",
        ("email",),
        exact("email"),
        (
            Level("exact", 0.60, 0.0002, at_least=1.0),
            Level("different", 0.40, 0.9998),
        ),
        "lowercase address",
        show=_show_email,
    ),
    Comparison(
        "website",
        ("domain",),
        exact("domain"),
        (
            Level("exact", 0.70, 0.001, at_least=1.0),
            Level("different", 0.30, 0.999),
        ),
        "registrable domain",
        # A chain's branches share its website: a brand attribute, not a place's.
        role="context",
        show=_show_website,
    ),
    Comparison(
        "siret",
        ("siret",),
        prefix_match("siret", 10**5),
        (
            Level("exact", 0.85, 0.000001, at_least=1.0),
            Level("same_siren", 0.05, 0.10, at_least=0.5),
            Level("different", 0.10, 0.89),
        ),
        "14 digits; the first 9 are the company (SIREN)",
        show=_show_siret,
    ),
    Comparison(
        "postcode",
        ("postcode",),
        prefix_match("postcode", 1000),
        (
            Level("exact", 0.85, 0.20, at_least=1.0),
            Level("same_departement", 0.10, 0.30, at_least=0.5),
            Level("different", 0.05, 0.50),
        ),
        "five digits; the first two are the département",
        role="context",
        show=_show_postcode,
    ),
    Comparison(
        "category",
        ("category",),
        category_similarity,
        (
            Level("exact", 0.60, 0.15, at_least=1.0),
            Level("same_group", 0.20, 0.25, at_least=0.5),
            Level("different", 0.20, 0.60),
        ),
        "taxonomy theme",
        role="context",
        show=_show_category,
    ),
)
