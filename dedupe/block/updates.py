"""What a matching update does to the blocking index: statuses, keys, pairs that lose support.

The keys of a row depend on two things beyond the row itself: whether its name words are
*common* (too many records hold them to block on) and whether its identifiers are *shared* too
widely (see :mod:`dedupe.golden.shared_identifiers`). When an update flips either status, the
rows concerned re-enter (their old row dies, a copy comes in), so that their keys are what a
full run would give them. Blocks that stop being active (they grew past their size limit) may
leave pairs that no other key supports: those pairs leave the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dedupe.block.index import repeated_keys
from dedupe.block.keys import Words, pair_filters, row_keys, word_counts
from dedupe.golden.shared_identifiers import GROUPS, refresh_shared
from dedupe.prepare.arrays import isin, unique
from dedupe.state.pairstore import decode

if TYPE_CHECKING:
    from dedupe.state.match_state import MatchState


class WordRows:
    """The rows holding each name word: every appended row's words (by hash, as
    :class:`~dedupe.block.keys.Words` holds them; dead rows stay, ``alive`` tells them apart).
    When a word's common status flips, its holders are looked up here instead of splitting
    every live name again (a million of them at a time). About 12 bytes a word."""

    def __init__(self) -> None:
        self.hash = np.zeros(0, np.int64)
        self.row = np.zeros(0, np.int32)

    def add(self, rows: np.ndarray, words: Words) -> None:
        """The words of these rows (``words`` row by row, as :meth:`MatchState._append`
        gives them); the name's prefix key is not a word of it and is left out."""
        keep = words.length > 0
        owners = np.asarray(rows, np.int64)[words.owner]
        self.hash = np.concatenate([self.hash, words.hash[keep]])
        self.row = np.concatenate([self.row, owners[keep].astype(np.int32)])

    def holding(self, hashes: set[int]) -> np.ndarray:
        """The rows (live or dead, each once, in order) holding any of these words.

        A row's words here are the distinct words of its normalised name but its stopwords
        and single letters, which never reach :attr:`MatchState.common`: for those hashes
        this is exactly the rows whose name has one of them."""
        pool = np.fromiter(hashes, np.int64, count=len(hashes))
        return unique(self.row[isin(self.hash, pool)].astype(np.int64))


def refresh_statuses(
    state: MatchState, killed: np.ndarray, fresh: np.ndarray, words: Words, start: int
) -> tuple[np.ndarray, Words]:
    """Shared identifiers and common words whose status flipped re-enter their holders.

    Returns the fresh rows (with the re-entered copies) and their name words."""
    p = state.prepared
    assert p is not None
    gone = Words.of([name or "" for name in p.names.take(killed.tolist())])
    state.counts.subtract(word_counts(gone))
    state.counts.update(word_counts(words))
    limit = state.rules.common_limit or 0
    touched = set(gone.hash.tolist()) | set(words.hash.tolist())
    now_common = {h for h in touched if state.counts[h] > limit}
    flipped = (now_common - state.common) | ((touched & state.common) - now_common)
    state.common = (state.common - touched) | now_common
    dirty: set[int] = set()
    if flipped and start:
        rows = state.word_rows.holding(flipped)
        rows = rows[rows < start]
        dirty.update(rows[state.alive[rows]].tolist())
    if start:
        both = np.concatenate([killed, fresh])
        values = {
            group: {int(v) for c in columns for v in p.raw[c][both]}
            for group, columns in GROUPS.items()
        }
        changed = refresh_shared(p, state.alive, values)
        dirty.update(r for r in changed.tolist() if r < start and state.alive[r])
    if dirty:
        copies, copied = state.copy_rows(np.array(sorted(dirty)))
        fresh, words = np.concatenate([fresh, copies]), Words.concat([words, copied])
    state.word_rows.add(fresh, words)
    return fresh, words


def index_rows(state: MatchState, fresh: np.ndarray, words: Words, dead: np.ndarray) -> np.ndarray:
    """Index the fresh rows' keys; returns every key their blocks and the dead rows' touch."""
    common = np.array(sorted(state.common), np.int64)
    keys, rows = row_keys(state.prepared, fresh, words, common, state.rules)
    if not len(state.index.keys):
        # A first run: the index sorts the keys; the distinct keys of two entries or more are
        # touched (a block of one makes no pair, and no block was active before).
        state.index.insert(keys, rows)
        return repeated_keys(state.index.keys)
    old = state.index.keys[isin(state.index.rows, dead)] if len(dead) else keys[:0]
    state.index.insert(keys, rows)
    return unique(np.concatenate([keys, old]))


def unsupported(state: MatchState, inactive: np.ndarray) -> np.ndarray:
    """Stored pairs of blocks that stopped being active and share no other active key."""
    if not len(inactive):
        return np.zeros(0, np.int64)
    group, rows = state.index.members(inactive)
    rows = unique(rows[state.alive[rows]])
    a, b = decode(state.store.codes)
    stored = isin(a, rows) & isin(b, rows)
    if not stored.any():
        return np.zeros(0, np.int64)
    keys_of: dict[int, set[int]] = {}
    for key, row in zip(*_keys_of(state, rows), strict=True):
        keys_of.setdefault(row, set()).add(key)
    p = state.prepared
    filters = pair_filters(p)
    gone = []
    pairs = zip(
        state.store.codes[stored].tolist(), a[stored].tolist(), b[stored].tolist(), strict=False
    )
    for code, x, y in pairs:
        common = keys_of.get(x, set()) & keys_of.get(y, set())
        common = {k for k in common if k & 0xF not in filters or filters[k & 0xF][[x, y]].any()}
        shared = np.array(sorted(common), np.int64)
        if not len(shared) or not state.index.active(shared, state.alive, state.rules).any():
            gone.append(code)
    return np.array(gone, np.int64)


def _keys_of(state: MatchState, rows: np.ndarray) -> tuple[list[int], list[int]]:
    hit = isin(state.index.rows, rows)
    return state.index.keys[hit].tolist(), state.index.rows[hit].tolist()


# -- clusters and ids ----------------------------------------------------------------------
