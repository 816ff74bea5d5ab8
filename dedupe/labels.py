"""Labelled pairs: decisions made from labels, and which pair a reviewer should label next.

Every labelled pair is a :class:`~aggregator.models.Decision`: a hard constraint on clustering
(must-link, cannot-link) *and* a training label — the next full matching fits its weights with
the decided pairs as known answers (:mod:`dedupe.score.fit`, :mod:`dedupe.score.estimate`).

>>> from aggregator.models import Verdict
>>> [d.verdict for d in decisions_from_labels([("a:1", "b:1", True), ("a:2", "b:9", False)])]
[<Verdict.must_link: 'must_link'>, <Verdict.cannot_link: 'cannot_link'>]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from aggregator.models import Decision, RecordKey, Verdict
from dedupe.prepare.arrays import isin
from dedupe.score.model import probability
from dedupe.state.pairstore import decode, encode
from dedupe.state.result import MatchResult


def decisions_from_labels(
    labels: Iterable[tuple[RecordKey | str, RecordKey | str, bool]],
    reviewer: str = "labels",
    note: str | None = None,
    decided_at: datetime | None = None,
) -> list[Decision]:
    """``(a, b, same)`` labels as decisions (must-link when ``same``, else cannot-link); keys
    are :class:`RecordKey` s or ``"platform:source_id"`` strings."""
    out = []
    for a, b, same in labels:
        extra = {"decided_at": decided_at} if decided_at is not None else {}
        out.append(
            Decision(
                a=_key(a),
                b=_key(b),
                verdict=Verdict.must_link if same else Verdict.cannot_link,
                reviewer=reviewer,
                note=note,
                **extra,
            )
        )
    return out


@dataclass(frozen=True)
class InformativePair:
    """A candidate pair worth a label: its keys, probability and what a label would settle."""

    a: RecordKey
    b: RecordKey
    probability: float
    #: Records whose entity a verdict against the current one would change.
    effect: int
    #: Chance the answer overturns the decision, times the cluster effect (higher: ask first).
    value: float
    same_entity: bool


#: The least probability of a pair worth asking about: below it, "same" is a long shot.
ASK_FROM = 0.1


def informative_pairs(
    result: MatchResult, limit: int | None = 50, candidates: np.ndarray | None = None
) -> list[InformativePair]:
    """The scored pairs of ``result`` not decided yet, most informative first: the chance that
    the answer overturns the run's decision (p for a pair kept apart, 1 - p for one merged)
    times the cluster effect (``log2(1 + records that would change entity)``), divided by 1 +
    the pairs of the same kind (comparison levels, merged or apart) that come before it, so
    that the questions are diverse. A pair merged at 0.95 is answered "same" nine times in ten
    and changes nothing; one kept apart at 0.8 is a merge missed four times in five. Pairs of a
    kind already decided (answered in an earlier round) come last, after every kind nobody
    answered yet: an answer settles its kind for the next run's weights and constraints.

    A run stores only the pairs it may review (probability 0.5 and up); the pairs it scored
    lower, down to :data:`ASK_FROM`, are asked about too when the candidate pairs are at hand
    (``candidates``, pair codes, by default those a run with ``keep_pairs`` kept): a true
    match scored 0.3 is a merge missed, and only a label finds it."""
    s = result.state
    codes, weights = s.store.codes, s.store.weights
    if candidates is None:
        candidates = getattr(s, "last_pairs", None)
    if candidates is not None and len(candidates) and s.model is not None:
        codes, weights = _with_lower_pairs(s, codes, weights, candidates)
    a, b = decode(codes)
    asked_a, asked_b = _decided_rows(s)
    live = s.alive[a] & s.alive[b] & ~isin(encode(a, b), encode(asked_a, asked_b))
    a, b, weights = a[live], b[live], weights[live]
    if not len(a):
        return []
    labels = np.asarray(s.labels)
    found, counts = np.unique(labels[np.flatnonzero(s.alive)], return_counts=True)
    size_of = dict(zip(found.tolist(), counts.tolist(), strict=True))
    same = labels[a] == labels[b]
    size_a = np.array([size_of[x] for x in labels[a].tolist()])
    size_b = np.array([size_of[x] for x in labels[b].tolist()])
    # A merge of two entities moves the smaller into the larger; a split of one entity moves
    # at least one record (and, by a cannot-link, its side of the cluster).
    effect = np.where(same, np.maximum(size_a // 2, 1), np.minimum(size_a, size_b))
    # The chance that the answer overturns what the run decided: p for a pair kept apart, 1 - p
    # for one merged (a pair at 0.99 already merged almost surely stays so).
    p = 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))
    flip = np.where(same, 1.0 - p, p)
    value = flip * np.log2(1.0 + effect)
    repeats, settled = _repeats(s, a, b, value, same, (asked_a, asked_b))
    value = value / repeats
    keys = s.table.keys
    order = np.lexsort((-value, settled))
    out: list[InformativePair] = []
    for k in order.tolist():
        ka, kb = sorted((keys[int(a[k])], keys[int(b[k])]))
        out.append(
            InformativePair(
                a=_key(ka),
                b=_key(kb),
                probability=probability(float(weights[k])),
                effect=int(effect[k]),
                value=round(float(value[k]), 6),
                same_entity=bool(same[k]),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def _with_lower_pairs(
    state: Any, codes: np.ndarray, weights: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The stored pairs and those of ``candidates`` the store does not hold, scored now, kept
    from :data:`ASK_FROM` up."""
    extra = candidates[~isin(candidates, codes)]
    if not len(extra):
        return codes, weights
    ea, eb = decode(extra)
    live = (ea < len(state.alive)) & (eb < len(state.alive))
    ea, eb = ea[live], eb[live]
    live = state.alive[ea] & state.alive[eb]
    floor = float(np.log2(ASK_FROM / (1.0 - ASK_FROM)))
    scored = state.model.score(state.prepared, ea[live], eb[live], prune_below=floor)
    below = scored.weights < state.lower
    return (
        np.concatenate([codes, encode(scored.a[below], scored.b[below])]),
        np.concatenate([weights, scored.weights[below]]),
    )


def _decided_rows(state: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the decided pairs whose two records are live."""
    rows = [
        (state.row_of[x], state.row_of[y])
        for x, y in state.decided
        if x in state.row_of and y in state.row_of
    ]
    pairs = np.array(rows, np.int64).reshape(-1, 2)
    live = state.alive[pairs[:, 0]] & state.alive[pairs[:, 1]]
    return pairs[live, 0], pairs[live, 1]


def _repeats(
    state: Any,
    a: np.ndarray,
    b: np.ndarray,
    value: np.ndarray,
    same: np.ndarray,
    answered: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, 1 + how many pairs of its kind come before it (those of the kind already
    answered, then those of higher ``value``), and whether its kind was answered already.

    A kind is a pattern of evidence (the comparison levels) and a side of the run's decision
    (merged or kept apart). Fifty answers about fifty near-identical pairs (same name, 30 m
    apart, no address) teach what one does: the k-th pair of a kind is worth 1/k of what it
    would be alone, so the questions cover the kinds of evidence the model is unsure of. A kind
    answered in an earlier round (a decision or an imported label) is settled: its pairs are
    asked after those of every kind nobody answered yet."""
    if state.model is None or not len(a):
        return np.ones(len(a)), np.zeros(len(a), bool)
    da, db = answered
    both_a, both_b = np.concatenate([a, da]), np.concatenate([b, db])
    levels = state.model.score(state.prepared, both_a, both_b).levels
    side = np.concatenate([same, state.labels[da] == state.labels[db]])
    _, kind = np.unique(np.vstack([levels, side]).T, axis=0, return_inverse=True)
    kind = kind.ravel()
    answers = np.bincount(kind[len(a) :], minlength=int(kind.max()) + 1)
    kind = kind[: len(a)]
    order = np.lexsort((-value, kind))
    rank = np.empty(len(a))
    starts = np.r_[0, np.flatnonzero(np.diff(kind[order])) + 1]
    sizes = np.diff(np.r_[starts, len(a)])
    rank[order] = np.arange(len(a)) - np.repeat(starts, sizes)
    return 1.0 + rank + answers[kind], answers[kind] > 0


def _key(key: RecordKey | str) -> RecordKey:
    if isinstance(key, RecordKey):
        return key
    platform, _, source_id = str(key).partition(":")
    if not source_id:
        raise ValueError(f"record key {key!r}: expected 'platform:source_id'")
    return RecordKey(platform=platform, source_id=source_id)
