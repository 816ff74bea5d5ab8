"""Weights estimated from the data itself, without labels, and checked before they are used.

Fellegi–Sunter weights need, per comparison level, u = P(level | two different shops) and
m = P(level | the same shop). Here, as in Splink:

- **u** comes from random pairs of records (almost all are different shops), with light
  smoothing so a level never seen keeps a small probability;
- **m** comes from expectation–maximisation on a sample of *blocked* pairs, in two sessions so
  that no comparison is estimated from pairs chosen for agreeing on it: pairs sharing an
  identifier (phone, e-mail, SIRET) estimate the name, address, distance, postcode and
  category levels; pairs agreeing on name and postcode estimate the identifier, address,
  distance and category levels;
- the **prior** (probability that two random records match) follows from the share of matches
  EM finds among the name-and-postcode pairs and from how often true matches agree that way.

Chamber decisions refine the estimate: must-link pairs count as known matches and cannot-link
pairs as known non-matches in every EM step.

**Sanity check.** EM is known to drift (the Splink note: to "same postcode, same kind of shop",
precision 0.23). An estimate is used only if it converges, its match share is plausible, every
agreement level weighs for a match and every disagreement against, and it classifies a set of
probe pairs the way anyone would (same name and phone: match; same postcode and category and
nothing else: not a match; a chain's branch: not a match...) and the chamber decisions at least
as well as the a priori weights. Otherwise the a priori weights (:mod:`dedupe.score.defaults`) are
used and the model says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dedupe.score.comparisons import MISSING
from dedupe.score.frequency import NameFrequencies, street_uses
from dedupe.score.model import MatchModel
from dedupe.score.probes import failed_probes

#: Below this many live records, estimates are too noisy: a priori weights ("auto").
MIN_RECORDS = 5000
U_PAIRS = 150_000
EM_PAIRS = 150_000
MAX_ITERATIONS = 60
IDENTIFIERS = ("phone", "email", "siret")
#: Bounds an estimate must stay within (else it is clamped; probes then judge it).
M_RANGE = (1e-3, 0.999)
U_RANGE = (1e-7, 0.9999)
#: Plausible weights (bits) per level of the default comparisons, on the random-pair scale of
#: an estimate. Random-pair u treats agreeing fields as independent; they are not (two shops of
#: one postcode are also close, and often of a kind), so context fields are capped low. One
#: SIREN with two SIRETs is one company's two establishments: never evidence *for* a merge
#: (a chain's branch 200 m away merged at 0.99 when it could weigh +3 bits).
PLAUSIBLE: dict[str, tuple[tuple[float, float], ...]] = {
    "name": ((6, 16), (4, 14), (2, 12), (-2, 6), (-12, -2)),
    "address": ((8, 18), (6, 16), (0, 10), (-8, -1)),
    "distance": ((3, 10), (2, 6), (-1, 4), (-1, 3), (-4, 1), (-12, -1)),
    "phone": ((8, 20), (2, 10), (-6, -0.5)),
    "email": ((8, 18), (-6, -0.5)),
    "website": ((4, 16), (-6, -0.5)),
    "siret": ((10, 25), (-4, 0), (-8, -1)),
    "postcode": ((0, 4), (-4, 1), (-12, -1)),
    "category": ((0, 3), (-3, 1), (-10, -0.5)),
}


def choose_model(state: Any, batch: Any, decided: Any = None) -> MatchModel:
    """The model a first full run uses: estimated when allowed and sane, else a priori;
    ``decided`` (pair -> decision, default the state's) are known answers."""
    if state.config.estimate is False:
        return MatchModel()
    base = MatchModel(name_frequencies=_name_frequencies(state))
    if not len(batch):
        return base
    from dedupe.cluster import decisions as rulings
    from dedupe.score.learn import learn_from_labels

    must, cannot = rulings.as_rows(state.decided if decided is None else decided, state.row_of)
    unsupervised = _unsupervised(state, batch, must, cannot, base)
    if not unsupervised.source.startswith("a priori"):
        from dedupe.score.fit import own_name_odds

        own = own_name_odds(unsupervised, state.prepared, batch.a, batch.b)
        unsupervised = replace(unsupervised, own_name=own)
    # The decided pairs, known answers in EM, also correct the weights directly: their
    # offset is their weight as the fitted model scores them, name frequency included.
    known = _decided_levels(unsupervised, state.prepared, must, cannot, with_weights=True)
    return learn_from_labels(unsupervised, known, centre=state.upper)


def _name_frequencies(state: Any) -> NameFrequencies | None:
    """How common each name word is among the live records (None under 200 names)."""
    from dedupe.golden.typos import word_uses
    from dedupe.prepare.columns import gather

    rows = np.flatnonzero(state.alive)
    named = sum(1 for n in gather(state.prepared.names, rows) if n)
    # The same counts the golden records read for typos, kept on the prepared table, and the
    # streets of the addresses that name a word ("grassmarket", "leith walk").
    uses = word_uses(state.prepared, state.alive)
    names = gather(state.prepared.names, rows)
    return NameFrequencies.of_uses(
        uses, named, street_uses(state.prepared, state.alive, uses), names
    )


def _unsupervised(state: Any, batch: Any, must, cannot, base: MatchModel) -> MatchModel:  # noqa: ANN001
    """Estimated (identifier sessions), else fitted (any records), else a priori."""
    from dedupe.score.fit import fit_model

    setting = state.config.estimate
    live = int(state.alive.sum())
    rows = np.flatnonzero(state.alive)
    estimated = None
    if setting is True or live >= MIN_RECORDS:
        estimated = estimate_model(state.prepared, rows, batch.a, batch.b, must, cannot, base)
        if estimated.source == "estimated":
            return estimated
    # Data unlike French listings (no shared identifiers, no postcodes) or few records.
    fitted = fit_model(state.prepared, rows, batch.a, batch.b, must, cannot, base)
    if fitted.source.startswith("fitted"):
        if estimated is not None:  # say why the identifier sessions were not used
            why = estimated.source.removeprefix("a priori (").removesuffix(")")
            fitted = replace(fitted, source=f"{fitted.source} ({why})")
        return fitted
    if estimated is None:
        return fitted
    why = fitted.source.removeprefix("a priori (estimate refused: ").removesuffix(")")
    return replace(estimated, source=f"{estimated.source.removesuffix(')')}; fit refused: {why})")


def estimate_model(
    prepared: Any,
    rows: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    must: Sequence[tuple[int, int]] = (),
    cannot: Sequence[tuple[int, int]] = (),
    base: MatchModel | None = None,
    seed: int = 2020,
) -> MatchModel:
    """Estimate m, u and the prior for ``base`` 's comparisons; ``base`` itself when the
    estimate fails its sanity checks (its ``source`` then says why)."""
    base = base or MatchModel()
    rng = np.random.default_rng(seed)
    names = [c.name for c in base.comparisons]
    # u: random pairs of live records.
    k = min(U_PAIRS, len(rows) * (len(rows) - 1) // 2)
    ra, rb = rows[rng.integers(0, len(rows), k)], rows[rng.integers(0, len(rows), k)]
    keep = ra != rb
    u_levels = base.score(prepared, ra[keep], rb[keep]).levels
    u = [_frequencies(u_levels[i], len(c.levels), 0.5) for i, c in enumerate(base.comparisons)]
    # Exact agreement is too rare for a sample to see: counted from the values themselves.
    for i, comparison in enumerate(base.comparisons):
        exact = _exact_agreement(prepared, rows, comparison.name)
        if exact is not None and comparison.levels[0].at_least == 1.0:
            rest = u[i][1:] / max(u[i][1:].sum(), 1e-12) * (1.0 - exact)
            u[i] = np.r_[exact, rest]
    # m: EM on a sample of blocked pairs, plus the decided pairs with known answers.
    pick = rng.choice(len(pair_a), size=min(EM_PAIRS, len(pair_a)), replace=False)
    levels = base.score(prepared, pair_a[pick], pair_b[pick]).levels
    known = _decided_levels(base, prepared, must, cannot)
    ident = [names.index(n) for n in IDENTIFIERS if n in names]
    by_identifier = np.zeros(levels.shape[1], bool)
    for i in ident:
        by_identifier |= levels[i] == 0
    name, postcode = names.index("name"), names.index("postcode")
    agreeing = _agreeing_names(base)
    by_name = (levels[name] < agreeing) & (levels[postcode] == 0)
    sessions = [
        (by_identifier, set(ident) | {names.index("website")}),
        (by_name, {name, postcode}),
    ]
    m: list[list[np.ndarray]] = [[] for _ in names]
    share_by_name = None
    for chosen, fixed in sessions:
        free = [i for i in range(len(names)) if i not in fixed]
        if chosen.sum() < 200:
            return _refused(base, f"too few blocked pairs to learn from ({int(chosen.sum())})")
        result = _em(levels[:, chosen], known, free, base, u)
        if result is None:
            return _refused(base, "EM did not converge")
        estimated, share = result
        for i in free:
            m[i].append(estimated[i])
        if fixed == {name, postcode}:
            share_by_name = (share, int(chosen.sum()) / len(pick) * len(pair_a))
    final_m = [np.mean(found, axis=0) if found else _m_of(base, i) for i, found in enumerate(m)]
    # Prior: matches among the name-and-postcode pairs, over how often matches pair that way.
    assert share_by_name is not None
    share, pairs = share_by_name
    coverage = float(final_m[name][:agreeing].sum()) * final_m[postcode][0]
    coverage *= float(np.mean((levels[postcode] != MISSING) & (levels[name] != MISSING)))
    total = len(rows) * (len(rows) - 1) / 2
    prior = share * pairs / max(coverage, 1e-6) / total
    if not 1e-12 < prior < 0.05 or not 0.001 < share < 0.999:
        return _refused(base, f"implausible match share {share:.3g} / prior {prior:.3g}")
    m_u = {
        c.name: [
            _clamped(float(np.clip(mm, *M_RANGE)), float(np.clip(uu, *U_RANGE)), bounds)
            for mm, uu, bounds in zip(
                final_m[i], u[i], PLAUSIBLE.get(c.name, [None] * len(c.levels)), strict=True
            )
        ]
        for i, c in enumerate(base.comparisons)
    }
    model = base.with_estimates(m_u, prior=prior, source="estimated")
    problems = failed_probes(model)
    problems += _sign_problems(model)
    if known is not None and not _decisions_ok(model, base, known):
        problems.append("classifies the chamber decisions worse than the a priori weights")
    if problems:
        return _refused(base, "; ".join(problems[:3]))
    return model


#: Name levels from this similarity up are a name "agreeing" for the sessions and the prior:
#: exact, similar, and one name inside the other.
AGREEING_NAMES = 0.85


def _agreeing_names(model: MatchModel) -> int:
    """How many of the name comparison's first levels agree (from :data:`AGREEING_NAMES`)."""
    levels = model.comparison("name").levels
    return sum(1 for lv in levels if lv.at_least is not None and lv.at_least >= AGREEING_NAMES)


def _clamped(m: float, u: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    """``(m, u)`` with their weight brought within ``bounds`` (u kept when it can be)."""
    if bounds is None:
        return m, u
    weight = min(max(math.log2(m / u), bounds[0]), bounds[1])
    m = u * 2.0**weight
    return (m, u) if m <= 1.0 else (1.0, 2.0**-weight)


#: Columns whose equal values make a comparison's exact level (for counting u exactly).
_EXACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name_hash",),
    "address": ("street_hash", "number", "suffix", "postcode"),
    "phone": ("phone1",),
    "email": ("email",),
    "website": ("domain",),
    "siret": ("siret",),
    "postcode": ("postcode",),
    "category": ("category",),
}


def _exact_agreement(prepared: Any, rows: np.ndarray, name: str) -> float | None:
    """P(two random records with the value share it): sum of c(c-1) over n(n-1)."""
    columns = _EXACT_COLUMNS.get(name)
    if columns is None:
        return None
    first = prepared.column(columns[0])[rows]
    present = (
        first > 0 if first.dtype.kind == "i" and name in ("postcode", "category") else (first != 0)
    )
    if name == "address":
        present &= prepared.street_hash[rows] != 0
    values = first[present].astype(np.int64)
    for column in columns[1:]:
        values = values * np.int64(1_000_003) + prepared.column(column)[rows][present]
    n = len(values)
    if n < 2:
        return None
    _, counts = np.unique(values, return_counts=True)
    counts = counts.astype(float)
    return float(max((counts * (counts - 1)).sum() / (n * (n - 1.0)), 1.0 / (n * (n - 1.0))))


def _frequencies(levels: np.ndarray, n: int, smoothing: float) -> np.ndarray:
    seen = levels[levels != MISSING]
    counts = np.bincount(seen, minlength=n)[:n].astype(float) + smoothing
    return counts / counts.sum()


def _m_of(model: MatchModel, i: int) -> np.ndarray:
    return np.array([lv.m for lv in model.comparisons[i].levels])


def _decided_levels(  # noqa: ANN202
    model: MatchModel,
    prepared: Any,
    must,  # noqa: ANN001
    cannot,  # noqa: ANN001
    with_weights: bool = False,
):
    """Levels and truth of the decided pairs (and, ``with_weights``, their match weights)."""
    pairs = [(a, b, 1.0) for a, b in must] + [(a, b, 0.0) for a, b in cannot]
    if not pairs:
        return None
    a, b, truth = (np.array(x) for x in zip(*pairs, strict=True))
    scored = model.score(prepared, a, b)
    return (scored.levels, truth, scored.weights) if with_weights else (scored.levels, truth)


def _em(  # noqa: ANN202
    levels: np.ndarray,
    known,  # noqa: ANN001
    free: list[int],
    base: MatchModel,
    u: list[np.ndarray],
    iterations: int = MAX_ITERATIONS,
):
    """EM over the distinct level patterns of ``levels`` (comparisons x pairs) for the
    ``free`` comparisons; returns ``(m per comparison, match share)`` or ``None``."""
    patterns, counts = np.unique(levels[free].T, axis=0, return_counts=True)
    fixed_patterns = fixed_truth = None
    if known is not None:
        fixed_patterns, fixed_truth = known[0][free].T, known[1]
    m = {i: _m_of(base, i).copy() for i in free}
    share = 0.1
    for _ in range(iterations):
        match = np.full(len(patterns), math.log(share))
        other = np.full(len(patterns), math.log(1 - share))
        for col, i in enumerate(free):
            present = patterns[:, col] != MISSING
            level = np.where(present, patterns[:, col], 0)
            match += np.where(present, np.log(np.maximum(m[i][level], 1e-12)), 0.0)
            other += np.where(present, np.log(np.maximum(u[i][level], 1e-12)), 0.0)
        resp = 1.0 / (1.0 + np.exp(np.clip(other - match, -700, 700)))
        weight = resp * counts
        new_share = float(weight.sum() / counts.sum())
        new_m = {}
        for col, i in enumerate(free):
            n_levels = len(m[i])
            column = patterns[:, col]
            present = column != MISSING
            totals = np.bincount(
                column[present], weights=weight[present], minlength=n_levels
            ).astype(float)
            if fixed_patterns is not None:
                decided = fixed_patterns[:, col]
                ok = decided != MISSING
                truth = np.asarray(fixed_truth, dtype=float)
                totals = totals + np.bincount(decided[ok], weights=truth[ok], minlength=n_levels)
            totals = totals[:n_levels] + 1e-3
            new_m[i] = totals / totals.sum()
        change = max(float(np.abs(new_m[i] - m[i]).max()) for i in free)
        m, share = new_m, min(max(new_share, 1e-6), 1 - 1e-6)
        if change < 1e-5:
            return m, share
    return (m, share) if change < 1e-3 else None


def _sign_problems(model: MatchModel) -> list[str]:
    out = []
    for comparison in model.comparisons:
        weights = comparison.weights
        if weights[0] <= 0:
            out.append(f"{comparison.name}: agreement weighs against a match")
        if weights[-1] >= 0:
            out.append(f"{comparison.name}: disagreement weighs for a match")
    return out


def _decisions_ok(model: MatchModel, base: MatchModel, known, slack: int = 0) -> bool:  # noqa: ANN001
    """Whether ``model`` classifies the decided pairs at least as well as ``base`` (give or
    take ``slack`` pairs)."""
    levels, truth = known
    if len(truth) < 5:
        return True

    def right(candidate: MatchModel) -> int:
        total = np.full(levels.shape[1], candidate.prior_weight)
        for i, comparison in enumerate(candidate.comparisons):
            total += comparison.tables()[0][levels[i]]
        return int(((total >= 0) == (truth > 0.5)).sum())

    return right(model) + slack >= right(base)


def _refused(base: MatchModel, why: str) -> MatchModel:
    return replace(base, source=f"a priori (estimate refused: {why})")
