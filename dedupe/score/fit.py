"""Weights fitted to whatever data is at hand: u from random pairs, m by EM, labels as answers.

:mod:`dedupe.score.estimate` learns from French listings that share identifiers and postcodes.
Real directories often have neither (a name, a point, half an address): this fit asks only
for what every record has. As in Splink:

- **u** (and exact agreement counted from the values) from random pairs of records;
- **m** by expectation–maximisation on the candidate pairs, in two sessions so that no
  comparison is learnt from pairs chosen for agreeing on it: pairs whose *names* agree teach
  every place comparison (address, distance, phone, postcode...), pairs that agree on the
  *place* (same number and street, within 50 m, a phone or an e-mail in common) teach the
  name and the website (a chain's branches share both, so neither is learnt from names);
- in the session of name-agreeing pairs, EM sets the distance against what non-matches look
  like among the *candidate* pairs (their distance levels less the matches' part, refitted
  until the share of matches among them settles), not among random pairs: blocking proposes
  pairs within 800 m whatever else they share, so a near non-match is an ordinary candidate,
  not the rare event random pairs make of it. The final weights keep u from random pairs,
  with the prior over all pairs;
- the **prior** λ (two random records match) from the share of matches EM finds among the
  name-agreeing pairs, over how often matches agree on their names.

Labelled pairs (chamber decisions, imported labels) are known answers in every EM step; they
never change u: non-matches a reviewer was asked about are hard candidates, not random pairs,
and mixing them into u (tried: a fifth of u from 30 or more cannot-links) took a "similar name"
from strong evidence to weak and cost Overture's harness a fifth of its recall at 50 labels.
:mod:`dedupe.score.learn` is where labels correct weights, under cross-validation. The
result is checked like any estimate, by the probe pairs; a field whose agreement does not
point to a match in these data is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from dedupe.score import estimate as checks
from dedupe.score.comparisons import MISSING
from dedupe.score.model import OWN_NAME_EVIDENCE, MatchModel
from dedupe.score.probes import failed_probes

#: Fewer live records than this: too few to learn from, the a priori weights serve.
MIN_RECORDS = 300
#: Fewer pairs than this in a session: its comparisons keep their a priori m.
MIN_SESSION = 20
U_PAIRS = 200_000
EM_PAIRS = 300_000
#: EM steps allowed: labelled pairs held fixed can slow convergence down.
FIT_ITERATIONS = 400
#: Comparisons a chain's branches agree on: learnt from place-agreeing pairs only.
BRAND = ("name", "website")
#: Fits at most, each with the share of matches among the candidate pairs the one before found.
BLOCKED_PASSES = 10
#: Comparisons learnt against the candidate pairs' non-matches (blocking proposes near pairs).
#: Every place comparison so (address, phone, postcode too) gave New York +0.0055 of F1 but
#: changed the demo's figures (recall 0.991 -> 0.988, 14 pairs for review instead of 13).
NEAR = ("distance",)


def fit_model(
    prepared: Any,
    rows: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    must: Sequence[tuple[int, int]] = (),
    cannot: Sequence[tuple[int, int]] = (),
    base: MatchModel | None = None,
    seed: int = 2020,
) -> MatchModel:
    """m, u and λ for ``base`` 's comparisons from the records ``rows`` and their candidate
    pairs; ``base`` itself, its ``source`` saying why, when the fit fails its checks."""
    base = base or MatchModel()
    names = [c.name for c in base.comparisons]
    if len(rows) < MIN_RECORDS or not len(pair_a):
        return checks._refused(base, f"too little to learn from ({len(rows)} records)")
    rng = np.random.default_rng(seed)
    u = _random_pair_u(base, prepared, rows, rng)
    pick = rng.choice(len(pair_a), size=min(EM_PAIRS, len(pair_a)), replace=False)
    levels = base.score(prepared, pair_a[pick], pair_b[pick]).levels
    known = checks._decided_levels(base, prepared, must, cannot)
    name = names.index("name")
    agreeing = checks._agreeing_names(base)
    by_name = levels[name] < agreeing
    by_place = np.zeros(levels.shape[1], bool)
    for field, top in (("address", 0), ("distance", 0), ("phone", 0), ("email", 0), ("siret", 0)):
        if field in names:
            by_place |= levels[names.index(field)] == top
    brand = {names.index(n) for n in BRAND if n in names}
    sessions = [(by_name, set(range(len(names))) - brand), (by_place, brand)]
    # What non-matches look like among the candidate pairs: their level frequencies, less the
    # matches' part once a first fit says how many there are.
    proposed = [
        checks._frequencies(levels[i], len(c.levels), 0.5)
        if (levels[i] != MISSING).sum() >= MIN_SESSION
        else u[i]
        for i, c in enumerate(base.comparisons)
    ]
    matched = 0.0
    m = [checks._m_of(base, i) for i in range(len(names))]
    share_by_name: float | None = None
    for _ in range(BLOCKED_PASSES):
        blocked_u = [
            np.maximum((f - matched * mi) / (1.0 - matched), f * 0.05)
            for f, mi in zip(proposed, m, strict=True)
        ]
        share_by_name = None
        for chosen, free_set in sessions:
            free = sorted(free_set)
            if chosen.sum() < MIN_SESSION or not free:
                continue
            # The name-agreeing pairs teach the distance against the non-matches blocking
            # proposes (within 800 m whatever else they share), not against random pairs.
            session_u = [
                x / x.sum() if name not in free_set and names[j] in NEAR else u[j]
                for j, x in enumerate(blocked_u)
            ]
            result = checks._em(levels[:, chosen], known, free, base, session_u, FIT_ITERATIONS)
            if result is None:
                return checks._refused(base, "EM did not converge")
            estimated, share = result
            for i in free:
                # A field almost nobody gives teaches nothing: it keeps its a priori m.
                if (levels[i, chosen] != MISSING).sum() >= MIN_SESSION:
                    m[i] = estimated[i]
            if name not in free_set:
                share_by_name = share
        if share_by_name is None:
            break
        # The share of matches among the candidate pairs, from the name-agreeing ones.
        coverage = max(float(m[name][:agreeing].sum()), 0.05)
        now = min(share_by_name * by_name.sum() / coverage / len(pick), 0.5)
        if abs(now - matched) < 1e-3:
            break
        matched = now
    if share_by_name is None:
        return checks._refused(base, f"too few pairs agreeing on names ({int(by_name.sum())})")
    # λ: matches among name-agreeing candidates (scaled to the whole sample) over the share of
    # matches whose names agree, among all pairs of records.
    matches = share_by_name * by_name.sum() * len(pair_a) / len(pick)
    coverage = max(float(m[name][:agreeing].sum()), 0.05)
    total = len(rows) * (len(rows) - 1) / 2
    prior = min(max(matches / coverage / total, 1e-12), 0.5)
    # Random pairs include the matches: in a small set they are a fair share of the pairs that
    # agree. u is what non-matches show: P(level) less the matches' part, λ·m.
    for i in range(len(names)):
        corrected = (u[i] - prior * m[i]) / (1.0 - prior)
        u[i] = np.maximum(corrected, u[i] * 0.5)
    # Random-pair u treats fields as independent; they are not (two shops of one postcode or
    # one website are also alike in other ways): each level's weight stays within the
    # plausible range of its kind of evidence.
    m_u = {
        c.name: [
            checks._clamped(
                float(np.clip(mm, *checks.M_RANGE)), float(np.clip(uu, *checks.U_RANGE)), bounds
            )
            for mm, uu, bounds in zip(m[i], u[i], _bounds(c.name, len(c.levels)), strict=True)
        ]
        for i, c in enumerate(base.comparisons)
    }
    model = base.with_estimates(_no_softer(m_u, base), prior=prior, source="fitted")
    useless = _useless(model)
    if useless:
        # A field whose agreement does not point to a match here (a category every shop of a
        # street shares) is left out rather than trusted: weight 0 at every level.
        neutral = {n: [(lv.u, lv.u) for lv in model.comparison(n).levels] for n in useless}
        model = model.with_estimates(neutral, source=f"fitted (ignored: {', '.join(useless)})")
    problems = failed_probes(model)
    if problems:
        return checks._refused(base, "; ".join(problems[:3]))
    return model


#: A brand's website is shared by its branches, which also share the name: its agreement adds
#: little to a name that agrees (random pairs, which never share a brand, cannot tell).
BRAND_BOUNDS = {
    "website": ((0.5, 3.0), (-6.0, -0.5)),
    # Likewise a kilometre or five: most shops of one town are that close, and random pairs
    # (mostly in other towns) make it look rare.
    "distance": ((3, 10), (1, 6), (-2, 3), (-2, 0.5), (-4, 0), (-12, -1)),
}


def _bounds(name: str, n_levels: int) -> Sequence[tuple[float, float] | None]:
    return BRAND_BOUNDS.get(name) or checks.PLAUSIBLE.get(name) or [None] * n_levels


def _no_softer(
    m_u: dict[str, list[tuple[float, float]]], base: MatchModel
) -> dict[str, list[tuple[float, float]]]:
    """Fitted (m, u) with each disagreement weighing at least as much against a match as the
    a priori weights say, context agreement no more for one, and no level more than the
    closer agreement before it.

    EM on unlabelled pairs cannot tell a chain's branches from one shop listed twice: among
    pairs whose names agree it takes "same brand" for "same shop" and learns that another
    address or phone hardly matters. Those general facts are kept from the a priori model."""
    out = {}
    for comparison in base.comparisons:
        levels: list[tuple[float, float]] = []
        previous = math.inf
        for level, (m, u) in zip(comparison.levels, m_u[comparison.name], strict=True):
            weight = math.log2(m / u)
            if level.weight < 0 or comparison.role == "context":
                weight = min(weight, level.weight)
            # Levels go from the closest agreement down: a weaker one never weighs more.
            weight = previous = min(weight, previous)
            levels.append((u * 2.0**weight, u) if u * 2.0**weight <= 1 else (1.0, 2.0**-weight))
        out[comparison.name] = levels
    return out


def _random_pair_u(
    base: MatchModel, prepared: Any, rows: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    k = min(U_PAIRS, len(rows) * (len(rows) - 1))
    ra, rb = rows[rng.integers(0, len(rows), k)], rows[rng.integers(0, len(rows), k)]
    keep = ra != rb
    u_levels = base.score(prepared, ra[keep], rb[keep]).levels
    u = [
        # A field the records (almost) never give keeps its a priori u: nothing to count.
        checks._frequencies(u_levels[i], len(c.levels), 0.5)
        if (u_levels[i] != MISSING).sum() >= MIN_SESSION
        else np.array([lv.u for lv in c.levels])
        for i, c in enumerate(base.comparisons)
    ]
    for i, comparison in enumerate(base.comparisons):
        exact = checks._exact_agreement(prepared, rows, comparison.name)
        if exact is not None and comparison.levels[0].at_least == 1.0:
            rest = u[i][1:] / max(u[i][1:].sum(), 1e-12) * (1.0 - exact)
            u[i] = np.r_[exact, rest]
    return u


def _useless(model: MatchModel) -> list[str]:
    """Comparisons whose agreement weighs against a match, or disagreement for one."""
    return [c.name for c in model.comparisons if c.weights[0] <= 0 or c.weights[-1] > 0.5]


#: EM steps for the share of matches among the pairs whose names are their own.
OWN_NAME_ITERATIONS = 200


def own_name_odds(
    model: MatchModel, prepared: Any, pair_a: np.ndarray, pair_b: np.ndarray, seed: int = 2020
) -> float | None:
    """Log-odds (bits) that a candidate pair whose names are equal and borne by no other record
    is one place: the share of matches EM finds among such candidate pairs, every other field
    weighing as ``model`` says; None when fewer than ``OWN_NAME_EVIDENCE`` of them have any
    other field compared (nothing to learn the share from).

    The prior λ is the chance that two *random* records match; the name's weight, from random
    pairs, that of an average equal name; the frequency term, that of a word as rare as two
    records. Two records alone bearing one name are rarer than any of these say when the
    names of the records are mostly their own (a directory of places, each listed by two
    sources): how much rarer is read here, from the pairs whose other fields say it."""
    if model.name_frequencies is None or model.name_frequencies.names is None:
        return None
    if not len(pair_a):
        return None
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(pair_a), size=min(EM_PAIRS, len(pair_a)), replace=False)
    a, b = pair_a[pick], pair_b[pick]
    levels = model.score(prepared, a, b).levels
    own = model._own_names(prepared, a, b, levels)
    if not own.any():
        return None
    others, _ = model._others(levels[:, own])
    name = [c.name for c in model.comparisons].index("name")
    compared = (np.delete(levels[:, own], name, axis=0) != MISSING).any(axis=0)
    if int(compared.sum()) < OWN_NAME_EVIDENCE:
        return None
    ratio = 2.0 ** np.clip(others, -60, 60)
    share = 0.5
    for _ in range(OWN_NAME_ITERATIONS):
        now = float(np.mean(share * ratio / (share * ratio + 1.0 - share)))
        now = float(np.clip(now, *checks.M_RANGE))
        if abs(now - share) < 1e-6:
            share = now
            break
        share = now
    return math.log2(share / (1.0 - share))
