"""Fellegi–Sunter scoring: per-field level weights summed with a prior into a match probability.

Every comparison level carries m = P(level | same shop) and u = P(level | different shops); its
weight is log2(m/u) bits, a missing value weighs 0. The match weight of a pair is
``log2(prior / (1 - prior)) + Σ weights`` and its probability ``1 / (1 + 2**-weight)``.

Default comparisons and their a priori m/u values: :mod:`dedupe.score.defaults`; estimated ones:
:mod:`dedupe.score.estimate`.

**Conflict evidence** (used by clustering to refuse merges that would chain): the sum of the
weights of the comparisons that identify a *place* (``role="identifying"``: address, distance,
phone, email, siret) plus the name weight when negative (``role="against"``). Brand attributes
(website, category) and postcode are context only: a chain's branches share name and website.
"Boulangerie Ange" rue A / phone 1 vs "Boulangerie Ange" rue B / phone 2 sums to -4.8 bits:
clearly two shops, whatever their names and website say.

**Pruning**: scoring a million records' candidate pairs, most pairs are plainly different
shops. The cheap comparisons are scored first; a pair whose best possible total (its fuzzy
comparisons at their highest reachable level) stays below ``prune_below`` is dropped before
any fuzzy matching. Dropped pairs are exactly those that would score below it.

**Two streets of one corner**: a name no other record bears (the name-frequency counts) whose
two records give two streets of one town within :data:`dedupe.score.measures.CORNER_M` metres
("CodeBase", 38 Castle Terrace / 38 Lady Lawson Street) is one building's two fronts as often
as two neighbours: the address's *different* is read as missing, in scores, conflicts and
explanations alike. A chain's name (borne by other records) keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dedupe.prepare.columns import gather
from dedupe.score.comparisons import MISSING, Comparison
from dedupe.score.defaults import DEFAULT_COMPARISONS
from dedupe.score.frequency import LEAST, MOST, NameFrequencies
from dedupe.score.measures import TwoPhase, corner

#: Fewer candidate pairs with equal names of their own and some other field compared than
#: this: the share of matches among such pairs is not estimated (:func:`own_name_odds`).
OWN_NAME_EVIDENCE = 20


#: Name levels from this similarity up agree (exact, similar, close): the frequency
#: adjustment applies there. From 0.9 only (exact and similar) gained less on the real sets.
AGREE_FROM = 0.75


def probability(weight: float) -> float:
    """Match probability of a match weight in bits."""
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


@dataclass
class ScoredPairs:
    """Scored candidate pairs as parallel arrays: rows, per-comparison levels, weights."""

    a: np.ndarray
    b: np.ndarray
    levels: np.ndarray  # (comparisons, pairs) uint8
    weights: np.ndarray
    conflicts: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def take(self, keep: np.ndarray) -> ScoredPairs:
        return ScoredPairs(
            self.a[keep], self.b[keep], self.levels[:, keep], self.weights[keep],
            self.conflicts[keep],
        )  # fmt: skip


@dataclass(frozen=True)
class MatchModel:
    """The comparisons and the prior (probability that two candidate records match)."""

    comparisons: tuple[Comparison, ...] = DEFAULT_COMPARISONS
    prior: float = 1e-3
    #: Where the weights come from: "a priori", "estimated" (EM), or why the estimate was refused.
    source: str = "a priori"
    #: How common each name word is among the records matched (:mod:`dedupe.score.frequency`);
    #: None: no term-frequency adjustment.
    name_frequencies: NameFrequencies | None = None
    #: Factor on the name-frequency adjustment (labels may correct it, :mod:`dedupe.score.learn`).
    frequency_scale: float = 1.0
    #: Log-odds (bits) that a candidate pair whose two names are equal and borne by no other
    #: record is one place, estimated from such pairs (:func:`own_name_odds`); a pair of them
    #: that nothing else contradicts scores at least this.
    #: None: not estimated.
    own_name: float | None = None

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def comparison(self, name: str) -> Comparison:
        """The comparison called ``name``."""
        return next(c for c in self.comparisons if c.name == name)

    def _name_agreement(self) -> tuple[int, np.ndarray] | None:
        """The name comparison's index and, per level index, whether the names agree there
        (every level but "different"): where the frequency adjustment applies."""
        if self.name_frequencies is None:
            return None
        for k, comparison in enumerate(self.comparisons):
            if comparison.name == "name":
                agree = np.zeros(256, bool)
                for index, level in enumerate(comparison.levels):
                    agree[index] = level.at_least is not None and level.at_least >= AGREE_FROM
                return k, agree
        return None

    def score(
        self,
        prepared: Any,
        rows_a: Sequence[int] | np.ndarray,
        rows_b: Sequence[int] | np.ndarray,
        prune_below: float | None = None,
        chunk: int = 1 << 19,
    ) -> ScoredPairs:
        """Score the pairs ``(rows_a[k], rows_b[k])``; with ``prune_below`` (bits), pairs that
        cannot reach it are left out of the result. Big batches go ``chunk`` pairs at a time."""
        a = np.asarray(rows_a, dtype=np.int64)
        b = np.asarray(rows_b, dtype=np.int64)
        if len(a) > chunk:
            parts = [
                self._score(prepared, a[i : i + chunk], b[i : i + chunk], prune_below)
                for i in range(0, len(a), chunk)
            ]
            return ScoredPairs(
                np.concatenate([p.a for p in parts]),
                np.concatenate([p.b for p in parts]),
                np.concatenate([p.levels for p in parts], axis=1),
                np.concatenate([p.weights for p in parts]),
                np.concatenate([p.conflicts for p in parts]),
            )
        return self._score(prepared, a, b, prune_below)

    def _score(
        self, prepared: Any, a: np.ndarray, b: np.ndarray, prune_below: float | None
    ) -> ScoredPairs:
        n_comp = len(self.comparisons)
        levels = np.full((n_comp, len(a)), MISSING, dtype=np.uint8)
        totals = np.full(len(a), self.prior_weight)
        tables = [c.tables() for c in self.comparisons]
        # The frequency adjustment, added once every level is known, is at most MOST bits
        # (times the scale labels may have given it).
        agreement = self._name_agreement()
        headroom = MOST * self.frequency_scale if agreement is not None else 0.0
        headroom += self._corner_bits()
        if agreement is not None and self.own_name is not None:
            # The own-name floor lifts a pair to at most own_name.
            exact = self.comparisons[agreement[0]].levels[0].weight
            least = LEAST * max(self.frequency_scale, 0.0)
            headroom += max(0.0, self.own_name - self.prior_weight - exact - least)
        staged: list[tuple[int, np.ndarray, np.ndarray]] = []
        for k, comparison in enumerate(self.comparisons):
            measure = comparison.measure
            if isinstance(measure, TwoPhase):
                values, pending = measure.quick(prepared, a, b)
                staged.append((k, values, pending))
            else:
                values = measure(prepared, a, b)
            levels[k] = comparison.levels_of(values)
            totals += tables[k][0][levels[k]]
        for index in range(len(staged)):
            # Settled levels are counted; pending ones are still MISSING (weight 0).
            if prune_below is not None:
                bound = totals + headroom
                for k2, _, pend2 in staged[index:]:
                    bound += np.where(pend2, self.comparisons[k2].best_below(1.0), 0.0)
                ok = bound >= prune_below
                if not ok.all():
                    a, b, totals, levels = a[ok], b[ok], totals[ok], levels[:, ok]
                    staged = [(k2, v2[ok], p2[ok]) for k2, v2, p2 in staged]
            k, values, pending = staged[index]
            if pending.any():
                values = values.copy()
                values[pending] = self.comparisons[k].measure.fuzz(  # type: ignore[attr-defined]
                    prepared, a[pending], b[pending]
                )
                levels[k] = self.comparisons[k].levels_of(values)
                totals += np.where(pending, tables[k][0][levels[k]], 0.0)
        if agreement is not None and self.name_frequencies is not None:
            k, agree = agreement
            rows = np.flatnonzero(agree[levels[k]])
            adjust = self.name_frequencies.adjust(prepared, a[rows], b[rows])
            totals[rows] += self.frequency_scale * adjust
            totals += self._corner(prepared, a, b, levels)
        if self.own_name is not None:
            totals += self._own_name_lift(prepared, a, b, levels, totals)
        if prune_below is not None:
            ok = totals >= prune_below
            a, b, totals, levels = a[ok], b[ok], totals[ok], levels[:, ok]
        conflicts = np.zeros(len(a))
        for k in range(n_comp):
            conflicts += tables[k][1][levels[k]]
        return ScoredPairs(a.astype(np.int32), b.astype(np.int32), levels, totals, conflicts)

    def _corner_bits(self) -> float:
        """What :meth:`_corner` may add to a pair (bounds for pruning)."""
        names = [c.name for c in self.comparisons]
        if "address" not in names or self.name_frequencies is None:
            return 0.0
        return max(0.0, -self.comparisons[names.index("address")].levels[-1].weight)

    def _corner(
        self, prepared: Any, a: np.ndarray, b: np.ndarray, levels: np.ndarray
    ) -> np.ndarray:
        """A name no other record bears, on two streets of one corner (:func:`corner`): the
        addresses' difference is read as missing (``levels`` updated); the bits to add."""
        out = np.zeros(len(a))
        names = [c.name for c in self.comparisons]
        if "address" not in names or self.name_frequencies is None:
            return out
        k = names.index("address")
        different = len(self.comparisons[k].levels) - 1
        rows = np.flatnonzero(levels[k] == different)
        # Equal names first (one look at two hashes): most pairs of a large run have none,
        # and measuring their distances would hold arrays as long as the run's pairs.
        same = prepared.name_hash[a[rows]] == prepared.name_hash[b[rows]]
        rows = rows[same & (prepared.name_hash[a[rows]] != 0)]
        if len(rows):
            rows = rows[corner(prepared, a[rows], b[rows])]
            rows = rows[self.name_frequencies.own(prepared, a[rows], b[rows])]
            out[rows] = -self.comparisons[k].levels[different].weight
            levels[k, rows] = MISSING
        return out

    def _own_names(
        self, prepared: Any, a: np.ndarray, b: np.ndarray, levels: np.ndarray
    ) -> np.ndarray:
        """Which pairs have equal names (the name's exact level) that no other record bears."""
        agreement = self._name_agreement()
        names = self.name_frequencies.names if self.name_frequencies is not None else None
        out = np.zeros(len(a), bool)
        if agreement is None or names is None or not len(a):
            return out
        k = agreement[0]
        if self.comparisons[k].levels[0].at_least != 1.0:
            return out
        rows = np.flatnonzero(levels[k] == 0)
        rows = rows[prepared.name_hash[a[rows]] == prepared.name_hash[b[rows]]]
        xs, ys = gather(prepared.names, a[rows]), gather(prepared.names, b[rows])
        for row, x, y in zip(rows.tolist(), xs, ys, strict=True):
            out[row] = bool(x) and x == y and x not in names
        return out

    def _others(self, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, the sum of the weights of every comparison but the name, and whether none
        of them weighs against a match."""
        k = self._name_agreement()[0]  # type: ignore[index]
        total = np.zeros(levels.shape[1])
        clean = np.ones(levels.shape[1], bool)
        for j, comparison in enumerate(self.comparisons):
            if j != k:
                weights = comparison.tables()[0][levels[j]]
                total += weights
                clean &= weights >= 0
        return total, clean

    def _own_name_lift(
        self, prepared: Any, a: np.ndarray, b: np.ndarray, levels: np.ndarray, totals: np.ndarray
    ) -> np.ndarray:
        """Bits to add so that a pair with equal names of its own, which no other field
        contradicts, scores at least :attr:`own_name`."""
        lift = np.zeros(len(a))
        own = self._own_names(prepared, a, b, levels)
        if self.own_name is None or not own.any():
            return lift
        # The floor is the share's odds alone: what else agrees (a town, a kind of shop, a
        # place 5 km off) goes with a name as often for two shops of a chain or a trade, and
        # the share already weighs it.
        _, clean = self._others(levels[:, own])
        lift[own] = np.where(clean, np.maximum(self.own_name - totals[own], 0.0), 0.0)
        return lift

    def score_one(self, prepared: Any, i: int, j: int) -> tuple[float, float]:
        """(match weight, conflict evidence) of one pair."""
        scored = self.score(prepared, [i], [j])
        return float(scored.weights[0]), float(scored.conflicts[0])

    def explain(self, prepared: Any, i: int, j: int) -> dict[str, Any]:
        """Per comparison: level, values compared, measure, weight; then the totals."""
        fields: dict[str, Any] = {}
        total = self.prior_weight
        conflict = 0.0
        a, b = np.array([i]), np.array([j])
        levels = np.full((len(self.comparisons), 1), MISSING, dtype=np.uint8)
        for k, comparison in enumerate(self.comparisons):
            value = float(comparison.measure(prepared, a, b)[0])
            index = levels[k, 0] = comparison.level_index(value)
            level = None if index == MISSING else comparison.levels[index]
            weight = level.weight if level else 0.0
            total += weight
            conflict += comparison.conflict_weight(index)
            fields[comparison.name] = {
                "level": level.label if level else "missing",
                "values": [
                    _jsonable(comparison.values(prepared, i)),
                    _jsonable(comparison.values(prepared, j)),
                ],
                "measure": None if value != value else round(value, 3),
                "weight": round(weight, 3),
            }
        agreement = self._name_agreement()
        if agreement is not None and self.name_frequencies is not None:
            k, agree = agreement
            level_index = self.comparisons[k].level_index(
                float(self.comparisons[k].measure(prepared, a, b)[0])
            )
            streets = getattr(prepared, "streets", None)
            where = (
                frozenset(f"{streets[i] or ''} {streets[j] or ''}".split())
                if streets is not None
                else frozenset()
            )
            frequency = self.name_frequencies.explain(
                prepared.names[i], prepared.names[j], bool(agree[level_index]), where
            )
            frequency["weight"] = round(self.frequency_scale * frequency["weight"], 3)
            total += frequency["weight"]
            fields["frequency"] = frequency
        before = levels.copy()
        bits = float(self._corner(prepared, a, b, levels)[0])
        if bits:
            k = next(k for k in range(len(levels)) if levels[k, 0] != before[k, 0])
            conflict -= self.comparisons[k].conflict_weight(int(before[k, 0]))
            total += round(bits, 3)
            fields["corner"] = {
                "level": "one name, two streets of one corner",
                "values": [None, None],
                "measure": None,
                "weight": round(bits, 3),
            }
        if self.own_name is not None:
            lift = float(self._own_name_lift(prepared, a, b, levels, np.array([total]))[0])
            if lift > 0:
                total += lift
                fields["own_name"] = {
                    "level": "equal names no other record bears, nothing against",
                    "values": [None, None],
                    "measure": round(self.own_name, 3),
                    "weight": round(lift, 3),
                }
        return {
            "fields": fields,
            "prior_weight": round(self.prior_weight, 3),
            "match_weight": round(total, 3),
            "conflict_weight": round(conflict, 3),
            "probability": probability(total),
            "weights": self.source,
        }

    def to_dict(self) -> dict[str, Any]:
        """The weights as JSON-able data (``from_dict`` reads them back)."""
        out: dict[str, Any] = {
            "prior": self.prior,
            "source": self.source,
            "levels": {c.name: [[lv.m, lv.u] for lv in c.levels] for c in self.comparisons},
        }
        if self.name_frequencies is not None:
            out["name_word_counts"] = self.name_frequencies.to_dict()
            if self.name_frequencies.streets:
                out["street_word_counts"] = dict(self.name_frequencies.streets)
            if self.name_frequencies.names is not None:
                out["name_counts"] = dict(self.name_frequencies.names)
            if self.name_frequencies.pairs is not None:
                out["name_word_pair_counts"] = dict(self.name_frequencies.pairs)
        if self.frequency_scale != 1.0:
            out["frequency_scale"] = self.frequency_scale
        if self.own_name is not None:
            out["own_name"] = self.own_name
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchModel:
        """The default comparisons with the weights of ``to_dict`` 's output; a comparison saved
        with other levels than today's (weights of an older release) keeps its a priori ones
        until the next full run, and the source says so."""
        levels = {name: [tuple(mu) for mu in pairs] for name, pairs in data["levels"].items()}
        counts = data.get("name_word_counts")
        streets = dict(data.get("street_word_counts") or {})
        whole, pairs = data.get("name_counts"), data.get("name_word_pair_counts")
        frequencies = (
            NameFrequencies(
                dict(counts),
                streets,
                None if whole is None else dict(whole),
                None if pairs is None else dict(pairs),
            )
            if counts is not None
            else None
        )
        own = data.get("own_name")
        model = cls(
            name_frequencies=frequencies,
            frequency_scale=float(data.get("frequency_scale", 1.0)),
            own_name=None if own is None else float(own),
        )
        known = {c.name: len(c.levels) for c in model.comparisons}
        stale = sorted(n for n, saved in levels.items() if len(saved) != known.get(n, len(saved)))
        source = data["source"]
        if stale:
            levels = {n: saved for n, saved in levels.items() if n not in stale}
            source = f"{source}; a priori for {', '.join(stale)} (saved with other levels)"
        return model.with_estimates(levels, prior=data["prior"], source=source)

    def with_estimates(
        self,
        m_u: Mapping[str, Sequence[tuple[float, float]]],
        prior: float | None = None,
        source: str = "estimated",
    ) -> MatchModel:
        """A model whose named comparisons use estimated (m, u) per level (EM, labelled pairs)."""
        unknown = set(m_u) - {c.name for c in self.comparisons}
        if unknown:
            raise ValueError(f"unknown comparison(s): {', '.join(sorted(unknown))}")
        comparisons = tuple(
            c.with_estimates(m_u[c.name]) if c.name in m_u else c for c in self.comparisons
        )
        return replace(
            self,
            comparisons=comparisons,
            prior=self.prior if prior is None else prior,
            source=source,
        )


def _jsonable(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
