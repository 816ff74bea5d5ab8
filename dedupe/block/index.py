"""The blocking index: every record's blocking keys, sorted, and the pairs they make.

Kept between runs so that new and changed records meet the existing ones without recomputing
anything else: their keys are inserted, the blocks they touch are re-read, and only the pairs
involving them (or blocks that crossed their size limit) come out. A full run is the same
operation with every record new.

Keys carry their rule in their lowest 4 bits (:func:`dedupe.block.keys.tag`).
Rows are never deleted from the index: a removed record's row is simply no longer *alive*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dedupe.block.keys import (
    RULE_BITS,
    RULES,
    BlockingRules,
    Words,
    pair_filters,
    row_keys,
    word_counts,
)
from dedupe.prepare.arrays import unique


@dataclass
class PairBatch:
    """Candidate pairs (``a < b``) and the figures of the blocks that made them."""

    a: np.ndarray
    b: np.ndarray
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.a)


@dataclass
class BlockIndex:
    """Sorted ``(key, row)`` entries of every row ever inserted."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def insert(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Add entries; ``keys`` is sorted in place (a full run's twenty million keys are not
        copied: the index keeps that very array)."""
        order = np.argsort(keys)
        rows = rows[order]
        del order
        keys.sort()
        if not len(self.keys):
            self.keys, self.rows = keys, rows
            return
        at = np.searchsorted(self.keys, keys, side="right")
        self.keys = np.insert(self.keys, at, keys)
        self.rows = np.insert(self.rows, at, rows)

    def members(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the distinct ``keys``: ``(group number, row)`` of every entry, by group."""
        lo = np.searchsorted(self.keys, keys, side="left")
        hi = np.searchsorted(self.keys, keys, side="right")
        sizes = hi - lo
        group = np.repeat(np.arange(len(keys)), sizes)
        starts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
        positions = starts + np.arange(len(group))
        return group, self.rows[positions]

    def pairs(
        self,
        touched: np.ndarray,
        alive: np.ndarray,
        alive_before: np.ndarray,
        fresh: np.ndarray,
        rules: BlockingRules,
        filters: dict[int, np.ndarray] | None = None,
        chunk: int = 1 << 20,
    ) -> tuple[PairBatch, np.ndarray]:
        """Pairs to score from the blocks of the ``touched`` keys (distinct, tagged).

        Returns the pairs of live records in active blocks (2 to the rule's limit live
        members) that involve a ``fresh`` row, plus every pair of blocks that became active;
        and the keys of blocks that stopped being active (their pairs may have lost their
        only key: see :func:`dedupe.state.match_state` ``_unsupported``). Blocks are read
        ``chunk`` keys at a time, so that a full run's memory stays bounded.
        """
        stats: Counter[str] = Counter()
        codes: list[np.ndarray] = []
        inactive: list[np.ndarray] = []
        for start in range(0, len(touched), chunk):
            keys = touched[start : start + chunk]
            found, gone = self._pairs(keys, alive, alive_before, fresh, rules, filters, stats)
            codes.append(found)
            inactive.append(gone)
        every = unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
        batch = PairBatch((every >> 32).astype(np.int32), (every & 0xFFFFFFFF).astype(np.int32))
        batch.stats = dict(stats)
        return batch, np.concatenate(inactive) if inactive else touched[:0]

    def _pairs(  # noqa: PLR0913
        self,
        touched: np.ndarray,
        alive: np.ndarray,
        alive_before: np.ndarray,
        fresh: np.ndarray,
        rules: BlockingRules,
        filters: dict[int, np.ndarray] | None,
        stats: Counter[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        group, rows = self.members(touched)
        limits = np.array([rules.limit(code) for code in range(len(RULES))] + [0] * 8)
        rule_of = touched & RULE_BITS
        limit = limits[rule_of]
        now = alive[rows]
        count_now = np.bincount(group, weights=now, minlength=len(touched)).astype(np.int64)
        count_before = np.bincount(
            group, weights=alive_before[rows], minlength=len(touched)
        ).astype(np.int64)
        active_now = (count_now >= 2) & (count_now <= limit)
        active_before = (count_before >= 2) & (count_before <= limit)
        block_pairs = np.where(active_now, count_now * (count_now - 1) // 2, 0)
        for code, rule in enumerate(RULES):
            is_rule = rule_of == code
            skipped = int((is_rule & (count_now > limit)).sum())
            if skipped:
                stats[f"skipped_blocks_{rule}"] += skipped
            made = int(block_pairs[is_rule].sum())
            if made:
                stats[f"block_pairs_{rule}"] += made
        # Live members of active blocks, grouped; a filtered rule's block only where one of its
        # members has the flag its pairs need (most ``street`` blocks have none).
        keep = now & active_now[group]
        for code, flag in (filters or {}).items():
            flagged = np.bincount(group, weights=keep & flag[rows], minlength=len(touched)) > 0
            keep &= (rule_of[group] != code) | flagged[group]
        group, rows = group[keep], rows[keep]
        kept = []
        # Made a slice of blocks at a time: a filtered rule's block makes all its pairs before
        # the filter drops those without a flagged record, and whole, those would be held at
        # once (a town's blocks where a few records have no position).
        for a, b, of in _pairs_within(group, rows):
            # A block that became active gives all its pairs; the others, the fresh rows' pairs.
            wanted = ~active_before[of] | fresh[a] | fresh[b]
            for code, flag in (filters or {}).items():
                wanted &= (rule_of[of] != code) | flag[a] | flag[b]
            a, b = a[wanted], b[wanted]
            lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
            kept.append(unique((lo << 32) | hi))
        found = unique(np.concatenate(kept)) if kept else np.zeros(0, np.int64)
        return found, touched[active_before & ~active_now]

    def active(self, keys: np.ndarray, alive: np.ndarray, rules: BlockingRules) -> np.ndarray:
        """Whether each (tagged) key's block is active now."""
        group, rows = self.members(keys)
        count = np.bincount(group, weights=alive[rows], minlength=len(keys))
        limits = np.array([rules.limit(code) for code in range(len(RULES))] + [0] * 8)
        return (count >= 2) & (count <= limits[keys & RULE_BITS])


def repeated_keys(ordered: np.ndarray) -> np.ndarray:
    """The distinct keys that stand twice or more in the sorted ``ordered``: the only blocks of
    a first run that can make a pair."""
    return unique(ordered[1:][ordered[1:] == ordered[:-1]])


def _pairs_within(
    group: np.ndarray, rows: np.ndarray, budget: int = 1 << 21
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """All pairs of rows within each group (``group`` sorted), as ``(a, b, group of the pair)``
    slices of about ``budget`` pairs at most (a block larger than that, alone)."""
    if not len(group):
        return
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    for size in unique(sizes):
        if size < 2:
            continue
        firsts = starts[sizes == size]
        i, j = np.triu_indices(int(size), 1)
        step = max(1, budget // len(i))
        for at in range(0, len(firsts), step):
            first = firsts[at : at + step]
            pa, pb = (first[:, None] + i).ravel(), (first[:, None] + j).ravel()
            yield rows[pa], rows[pb], group[pa]


def candidate_pairs(prepared, rules: BlockingRules | None = None) -> PairBatch:  # noqa: ANN001
    """Every pair of live rows of ``prepared`` sharing an active blocking key, each once."""
    rules = (rules or BlockingRules()).resolve(len(prepared))
    words = Words.of(prepared.names.slice(0, len(prepared)))
    limit = rules.common_limit or 0
    common = np.array(sorted(h for h, c in word_counts(words).items() if c > limit), np.int64)
    rows = np.arange(len(prepared))
    keys, owners = row_keys(prepared, rows, words, common, rules)
    index = BlockIndex()
    index.insert(keys, owners)
    everyone = np.ones(len(prepared), bool)
    filters = pair_filters(prepared)
    batch, _ = index.pairs(repeated_keys(index.keys), everyone, ~everyone, everyone, rules, filters)
    return batch
