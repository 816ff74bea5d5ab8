"""Weights corrected by labelled pairs: a shrunk logistic regression on top of the fit.

EM learns from unlabelled pairs; chamber decisions and imported labels say, for a few pairs,
what the answer is. They are known answers in EM (:mod:`dedupe.score.fit`), but EM counts them
as a few pairs among hundreds of thousands: 50 labels hardly move it. Here they are fitted
directly, as a logistic regression of the truth on the comparison levels whose *offset* is the
unsupervised match weight (bits)::

    weight'(pair) = weight(pair) + b + Σ δ[comparison, level] + φ · frequency(pair)

- ``weight(pair)`` is the pair's match weight as the model scores it, the name-frequency
  adjustment (:mod:`dedupe.score.frequency`) included;
- ``δ`` corrects one level's weight (a "close" name that matches more often than EM thought);
- ``φ`` scales the name-frequency adjustment (``frequency(pair)``, bits): labels that say
  "two Costas 100 m apart are one shop more often than the counts say" weaken it, and the
  model keeps the factor (:attr:`MatchModel.frequency_scale`);
- ``b`` shifts the whole score (the prior);
- every parameter has a Gaussian prior at 0 (:data:`LEVEL_SD`, :data:`SHIFT_SD`,
  :data:`FREQUENCY_SD`): a few labels move the weights little, more labels more; without
  labels they do not move at all.

**A biased sample.** Labels come from the active-learning order, near the threshold, and from
reviewers' doubts. The sample is selected on the score, that is on the comparison levels the
regression conditions on, so P(match | levels) stays estimable; what is not estimable is how
common each pattern is, and nothing here uses that. A Platt slope (scaling every weight) was
tried and left out: labels bunched at one score cannot tell a slope from a shift, and a slope
learnt from them moved every pair of the set. The correction is kept only if, in k-fold
cross-validation on the labels themselves, it predicts the held-out labels clearly better (a
tenth off the log-loss) *and* decides more of their merges right (F1 at the merge threshold)
than the uncorrected weights. Labels at the threshold often say only "over-confident here": a
correction that just lowers the scores of a kind of pair costs more true merges among the
unlabelled pairs than it saves (measured: 25 labels on OSM–Foursquare took recall from 0.80
to 0.70), and is not kept.

**Where the labels put the threshold.** Questions are asked where the run is unsure, so their
answers are close to coin flips for a regression: on the real sets of ``docs/matching.md``
(section 13) the correction above was kept on New York only, its held-out log-loss no better
elsewhere. What the same answers do say is which side of the merge threshold the pairs scored
near it belong on. Selection depends on the levels only, not on the truth, so among labelled
pairs of one score the share that match is the share among all pairs of that score. So the
labels also choose a shift of the score (the prior, :data:`SHIFTS`: −4 to +4 bits) that
decides the most of them right at the merge threshold; it is kept only when it decides at
least :data:`MIN_RIGHT` more of them right and a shift chosen on four fifths of the labels
decides the held-out fifths better too (five folds). A Fellegi–Sunter threshold of 0.9 merges
the pairs that are nine in ten matches; where labels say that pairs the model gives 0.6 match
four times in five, the set's evidence is stronger than its weights say, and the shift merges
them.

The result is still a Fellegi–Sunter model (per-level m and u, a prior): it scores, prunes,
explains and saves as any other, and the probes still judge it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from dedupe.score.model import MatchModel
from dedupe.score.probes import failed_probes

#: Prior standard deviation (bits) of a level's correction and of the shift.
LEVEL_SD = 0.5
SHIFT_SD = 0.5
#: Prior standard deviation of the correction of the name-frequency adjustment's scale (1:
#: the labels may halve or double it without much evidence).
FREQUENCY_SD = 1.0
#: Index of that correction among the design's columns.
FREQUENCY = -1
#: Fewer labels than this (or labels of one verdict only): no correction.
MIN_LABELS = 20
#: Share of the held-out log-loss a correction must save to be kept.
MIN_GAIN = 0.1
#: Folds of the cross-validation that decides whether the correction is kept.
FOLDS = 5
#: Shifts of the score (bits) the labels may choose between to place the merge threshold.
SHIFTS = np.arange(-4.0, 4.0 + 1e-9, 0.25)
#: A shift must decide this many more labelled pairs right than no shift.
MIN_RIGHT = 3
LN2 = math.log(2.0)


def _design(
    model: MatchModel, levels: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, list]:
    """Offsets (bits) of the labelled pairs and their level indicators, one column per
    (comparison, level) seen among the labels. The offset is each pair's match weight as the
    model scores it (``weights``, the name-frequency adjustment included), else the prior and
    the level weights alone."""
    n = levels.shape[1]
    offset = np.full(n, model.prior_weight)
    columns: list[np.ndarray] = []
    index: list[tuple[int, int]] = []
    for i, comparison in enumerate(model.comparisons):
        offset += comparison.tables()[0][levels[i]]
        for level in range(len(comparison.levels)):
            present = levels[i] == level
            if present.any():
                columns.append(present.astype(float))
                index.append((i, level))
    if weights is not None:
        frequency = np.asarray(weights, dtype=float) - offset
        if FREQUENCY_SD and np.abs(frequency).max() > 1e-9:
            columns.append(frequency)
            index.append((FREQUENCY, 0))
        offset = np.asarray(weights, dtype=float)
    x = np.column_stack(columns) if columns else np.zeros((n, 0))
    return offset, x, index


def _fit(
    offset: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    index: list | None = None,
    iterations: int = 100,
) -> np.ndarray:
    """MAP estimate of (shift, δ...) in bits: Newton's method on the penalised
    log-likelihood, each step halved until the objective improves."""
    features = np.column_stack([np.ones(len(y)), x])
    sd = np.r_[SHIFT_SD, np.full(x.shape[1], LEVEL_SD)]
    if index is not None and index and index[-1][0] == FREQUENCY:
        sd[-1] = FREQUENCY_SD
    precision = 1.0 / sd**2

    def objective(theta: np.ndarray) -> float:
        penalty = 0.5 * float((precision * theta**2).sum())
        return -_log_loss(offset, features, theta, y, clip=False) - penalty

    theta = np.zeros(features.shape[1])
    current = objective(theta)
    for _ in range(iterations):
        logit = (offset + features @ theta) * LN2
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        gradient = LN2 * features.T @ (y - p) - precision * theta
        curvature = (LN2**2) * (features.T * (p * (1 - p))) @ features + np.diag(precision)
        step = np.linalg.solve(curvature, gradient)
        for _ in range(30):
            candidate = theta + step
            value = objective(candidate)
            if value >= current:
                break
            step = step / 2
        else:
            break
        theta, improved = candidate, value - current
        current = value
        if improved < 1e-9 or np.abs(step).max() < 1e-7:
            break
    return theta


def _log_loss(
    offset: np.ndarray, features: np.ndarray, theta: np.ndarray, y: np.ndarray, clip: bool = True
) -> float:
    """Negative log-likelihood (nats); ``clip`` caps each pair's loss (a held-out pair the
    model is sure of and wrong about counts as p = 1e-4, not as infinity)."""
    logit = (offset + features @ theta) * LN2
    # log(1 + e^-z) for matches, log(1 + e^z) for non-matches, computed stably.
    loss = np.logaddexp(0.0, np.where(y > 0.5, -logit, logit))
    if clip:
        loss = np.minimum(loss, -math.log(1e-4))
    return float(loss.sum())


def _cross_validated(
    offset: np.ndarray, x: np.ndarray, y: np.ndarray, centre: float, seed: int, index: list
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Held-out log-loss, and held-out F1 of the merge decision (score ≥ ``centre``), of the
    uncorrected weights and of the corrected ones."""
    folds = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    loss = np.zeros(2)
    counts = np.zeros((2, 3))  # (plain, corrected) x (true merges, wrong merges, missed)
    for fold in range(FOLDS):
        test = folds == fold
        if not test.any() or test.all():
            continue
        theta = _fit(offset[~test], x[~test], y[~test], index)
        features = np.column_stack([np.ones(test.sum()), x[test]])
        for k, t in enumerate((np.zeros_like(theta), theta)):
            loss[k] += _log_loss(offset[test], features, t, y[test])
            merged = offset[test] + features @ t >= centre
            truth = y[test] > 0.5
            counts[k] += [(merged & truth).sum(), (merged & ~truth).sum(), (~merged & truth).sum()]
    f1 = [2 * tp / max(2 * tp + fp + fn, 1) for tp, fp, fn in counts]
    return (float(loss[0]), float(loss[1])), (f1[0], f1[1])


def learn_from_labels(
    model: MatchModel,
    known: tuple[np.ndarray, ...] | None,
    centre: float = math.log2(0.9 / 0.1),
    seed: int = 2020,
) -> MatchModel:
    """``model`` with its weights corrected by the labelled pairs ``known``: their levels
    (comparisons x pairs), their truth (1/0) and, optionally, their match weights as ``model``
    scores them (without, the prior plus the level weights, which leaves out the name-frequency
    adjustment). ``model`` itself when the labels are too few, of one verdict only, or when
    the correction does not predict held-out labels better."""
    if known is None:
        return model
    levels, truth = known[0], known[1]
    weights = known[2] if len(known) > 2 else None
    y = (np.asarray(truth, dtype=float) > 0.5).astype(float)
    if len(y) < MIN_LABELS or y.min() == y.max():
        return model
    offset, x, index = _design(model, np.asarray(levels), weights)
    (plain, corrected), (plain_f1, corrected_f1) = _cross_validated(
        offset, x, y, centre, seed, index
    )
    # Kept only if it predicts held-out labels clearly better (a tenth off the log-loss: with
    # a few dozen labels a smaller gain is noise) and decides more of their merges right.
    if corrected > (1.0 - MIN_GAIN) * plain or corrected_f1 <= plain_f1:
        return _with_threshold(model, offset, y, centre, seed)
    theta = _fit(offset, x, y, index)
    shift = float(theta[0])
    deltas: dict[int, dict[int, float]] = {}
    for (i, level), delta in zip(index, theta[1:].tolist(), strict=True):
        deltas.setdefault(i, {})[level] = delta
    # A correction the probes reject is halved until they accept it (or dropped).
    for scale in (1.0, 0.5, 0.25):
        candidate = _apply(model, shift * scale, deltas, scale, len(y))
        if not failed_probes(candidate):
            scores = offset + np.column_stack([np.ones(len(y)), x]) @ (theta * scale)
            return _with_threshold(candidate, scores, y, centre, seed)
    return _with_threshold(model, offset, y, centre, seed)


def _right(scores: np.ndarray, y: np.ndarray, centre: float, shift: float) -> int:
    """Labelled pairs decided right at the merge threshold once every score moves by
    ``shift`` bits."""
    return int(((scores + shift >= centre) == (y > 0.5)).sum())


def _best_shift(scores: np.ndarray, y: np.ndarray, centre: float) -> float:
    """The shift of :data:`SHIFTS` deciding the most labelled pairs right (the smallest one
    among equals)."""
    right = [_right(scores, y, centre, float(s)) for s in SHIFTS]
    best = max(right)
    return float(min((float(s) for s, r in zip(SHIFTS, right, strict=True) if r == best), key=abs))


def _with_threshold(
    model: MatchModel, scores: np.ndarray, y: np.ndarray, centre: float, seed: int
) -> MatchModel:
    """``model`` with its prior shifted so that the merge threshold falls where the labelled
    pairs (scored ``scores``, bits) say, when the shift decides :data:`MIN_RIGHT` more of them
    right and a shift chosen without each fold decides that fold better; else ``model``."""
    shift = _best_shift(scores, y, centre)
    if (
        shift == 0.0
        or _right(scores, y, centre, shift) - _right(scores, y, centre, 0.0) < MIN_RIGHT
    ):
        return model
    folds = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    held_out = 0
    for fold in range(FOLDS):
        test = folds == fold
        if not test.any() or test.all():
            continue
        chosen = _best_shift(scores[~test], y[~test], centre)
        held_out += _right(scores[test], y[test], centre, chosen)
        held_out -= _right(scores[test], y[test], centre, 0.0)
    if held_out <= 0:
        return model
    prior = 1.0 / (1.0 + 2.0 ** -(model.prior_weight + shift))
    shifted = replace(
        model,
        prior=min(max(prior, 1e-15), 0.5),
        source=f"{model.source}; threshold moved {shift:+.2f} bits by {len(y)} labels",
    )
    return model if failed_probes(shifted) else shifted


def _apply(
    model: MatchModel,
    shift: float,
    deltas: dict[int, dict[int, float]],
    scale: float,
    labels: int,
) -> MatchModel:
    m_u = {}
    for i, comparison in enumerate(model.comparisons):
        pairs = []
        previous = math.inf
        for level_index, level in enumerate(comparison.levels):
            weight = level.weight + scale * deltas.get(i, {}).get(level_index, 0.0)
            # Levels go from the closest agreement down: a weaker one never weighs more.
            weight = previous = min(weight, previous)
            m = level.u * 2.0**weight
            pairs.append((m, level.u) if m <= 1.0 else (1.0, 2.0**-weight))
        m_u[comparison.name] = pairs
    prior_weight = model.prior_weight + shift
    prior = 1.0 / (1.0 + 2.0**-prior_weight)
    prior = min(max(prior, 1e-15), 0.5)
    source = f"{model.source}; corrected by {labels} labels"
    factor = max(0.0, 1.0 + scale * deltas.get(FREQUENCY, {}).get(0, 0.0))
    return replace(
        model.with_estimates(m_u, prior=prior),
        source=source,
        frequency_scale=model.frequency_scale * factor,
    )
