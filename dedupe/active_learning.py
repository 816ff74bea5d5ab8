"""Which candidate pair a person should judge next: the ones whose answer teaches the most.

A pair is informative when the matcher is unsure of it (its match weight is close to the merge
threshold, on either side) and when the answer moves many record pairs at once (it joins or
splits big clusters). The order is: distance to the merge threshold in whole bits first (pairs
0.4 and 0.6 bits away are equally unsure), then the cluster effect, then the record keys, so that
the same state always asks the same pair first.

The *cluster effect* of a pair is the number of record pairs whose together/apart status an
answer can change: ``|A| x |B|`` for records now in clusters A and B, ``|C| - 1`` for two records
now together in cluster C (a "no" detaches one of them).

>>> from aggregator.models import ShopRecord
>>> from dedupe import match_shops
>>> a = ShopRecord(platform="p", source_id="1", name="Librairie Ombres Blanches",
...                address="50 rue Gambetta", postcode="31000")
>>> b = ShopRecord(platform="q", source_id="1", name="Ombres Blanches",
...                address="50 rue Gambetta", postcode="31000")
>>> [(q.a, q.b, q.together) for q in informative_pairs(match_shops([a, b]))]
[('p:1', 'q:1', True)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dedupe.score.model import probability
from dedupe.state.pairstore import decode

if TYPE_CHECKING:
    from dedupe.state.result import MatchResult


@dataclass(frozen=True)
class Question:
    """One pair to ask about: record keys (``a < b``), probability, why it is informative."""

    a: str
    b: str
    probability: float
    #: Distance of the match weight to the merge threshold, in bits.
    distance_bits: float
    #: Record pairs whose together/apart status the answer can change.
    effect: int
    together: bool


def informative_pairs(
    result: MatchResult,
    limit: int | None = None,
    skip: Collection[tuple[str, str]] = (),
) -> list[Question]:
    """The scored pairs of ``result`` most informative first (see the module docstring).

    Pairs already decided in the result's decisions, and pairs in ``skip`` (key pairs in either
    order, e.g. the ones a person answered "unsure"), are left out. Only pairs the matcher kept
    (those at or above the review threshold) are asked: the rest are far from the merge
    threshold."""
    state = result.state
    keys = state.table.keys
    codes, weights = state.store.codes, state.store.weights
    if not len(codes):
        return []
    a, b = decode(codes)
    live = state.alive[a] & state.alive[b]
    a, b, weights = a[live], b[live], weights[live]
    labels = state.labels
    sizes = Counter(labels[state.alive].tolist())
    skipped = {tuple(sorted(pair)) for pair in skip} | set(state.decided)
    distance = np.abs(weights - state.upper)
    questions = []
    for x, y, w, d in zip(a.tolist(), b.tolist(), weights.tolist(), distance.tolist(), strict=True):
        ka, kb = sorted((keys[x], keys[y]))
        if (ka, kb) in skipped:
            continue
        lx, ly = int(labels[x]), int(labels[y])
        together = lx == ly
        effect = sizes[lx] - 1 if together else sizes[lx] * sizes[ly]
        questions.append(Question(ka, kb, probability(w), d, max(effect, 1), together))
    questions.sort(key=lambda q: (int(q.distance_bits), -q.effect, q.distance_bits, q.a, q.b))
    return questions if limit is None else questions[:limit]
