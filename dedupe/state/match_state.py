"""The matching state kept between runs, and the one operation on it: :meth:`MatchState.update`.

A full run is an update of an empty state with every record; an incremental run is an update
with the new and changed records and the keys of the removed ones. Either way:

1. new rows are normalised and appended (a changed record gets a new row, its old row dies);
2. identifiers and name words whose *shared*/*common* status flips re-enter their holders;
3. the new rows' blocking keys go into the index; the blocks they touch yield the pairs to score
   (and blocks that crossed their size limit are re-read);
4. pairs are scored (pruned below the review threshold) and stored;
5. the connected components of every row whose edges changed are re-clustered;
6. those clusters get their ids (inheriting, by record key, the ids their members had).

Only what the changes touch is recomputed, and each step does to the touched part exactly what a
full run does to all of it: incremental and full runs give the same entities (given the same
model and resolved blocking rules, which a state fixes at its first run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from aggregator.models import Decision
from dedupe.block.index import BlockIndex
from dedupe.block.keys import Words, pair_filters
from dedupe.block.updates import WordRows, index_rows, refresh_statuses, unsupported
from dedupe.cluster import decisions as rulings
from dedupe.cluster.entity_ids import EntityIds
from dedupe.cluster.regions import recluster
from dedupe.config import MatchConfig, Thresholds
from dedupe.golden.shared_identifiers import GROUPS, blank_shared
from dedupe.prepare.arrays import gc_paused, unique
from dedupe.prepare.columns import KeyIndex
from dedupe.prepare.columns_of import Normaliser, Prepared, normalise
from dedupe.prepare.reused import Normalised, normalise_reusing
from dedupe.prepare.table import ShopTable
from dedupe.score.model import MatchModel
from dedupe.state.pairstore import PairStore, decode, encode
from dedupe.trace import stage


class MatchState:
    """Rows (live and dead), their normalised columns, blocking index, scored pairs, clusters."""

    def __init__(self, config: MatchConfig | None = None) -> None:
        self.config = config or MatchConfig()
        self.normaliser = Normaliser(self.config.taxonomy, self.config.platform_domains)
        self.table = ShopTable({"platform": [], "source_id": [], "name": []}, records=[])
        self.prepared: Prepared | None = None
        self.alive = np.zeros(0, bool)
        self.row_of = KeyIndex([], np.zeros(0, np.int64))
        #: Live rows holding each name word (by hash), and the words too common to block on.
        self.counts: Counter[int] = Counter()
        self.common: set[int] = set()
        self.word_rows = WordRows()
        self.rules = self.config.blocking
        self.index = BlockIndex()
        self.model: MatchModel | None = self.config.model
        t = self.config.thresholds
        self.upper, self.lower = Thresholds.weight(t.upper), Thresholds.weight(t.lower)
        self.store = PairStore(self.upper)
        self.labels = np.zeros(0, np.int64)
        self.entity_of = EntityIds()
        self.refused: dict[tuple[int, int], str] = {}
        self.refused_must_links: list[tuple[int, int]] = []
        self.decided: dict[tuple[str, str], Decision] = {}
        self.stats: dict[str, Any] = {}
        self.last_pairs: np.ndarray | None = None

    # -- rows ----------------------------------------------------------------------------------

    def _append(self, table: ShopTable, kept: Normalised | None = None) -> tuple[np.ndarray, Words]:
        """Normalise and append rows (taking ``kept`` 's rows from an earlier state on a first
        run); returns their row numbers and name words."""
        if self.prepared is None:
            # The first run adopts its input table (later runs append to it).
            self.table = table
            start = 0
        else:
            start = self.table.extend(table).start
        stop = len(self.table)
        rows = np.arange(start, stop)
        if kept is not None and self.prepared is None:
            columns = normalise_reusing(
                self.table, self.normaliser, kept, self.config.processes, self.config.pool
            )
        else:
            columns = normalise(
                self.table, self.normaliser, start, stop, self.config.processes, self.config.pool
            )
        words = Words(columns["word_count"], columns["word_hash"], columns["word_len"])
        if self.prepared is None:
            self.prepared = Prepared(self.table, columns, self.normaliser.category_slugs)
            blank_shared(self.prepared)
        else:
            self.prepared.extend(columns)
            for group, columns_of in GROUPS.items():
                shared = self.prepared.shared[group]
                for column in columns_of:
                    values = getattr(self.prepared, column)
                    values[rows] = [0 if v in shared else v for v in values[rows].tolist()]
            for row in rows.tolist():
                self.row_of[self.table.keys[row]] = row
        self.alive = np.concatenate([self.alive, np.ones(len(rows), bool)])
        self.labels = np.concatenate([self.labels, rows])
        self.entity_of.extend(len(rows))
        return rows, words

    def copy_rows(self, rows: np.ndarray) -> tuple[np.ndarray, Words]:
        """Re-enter live rows whose keys change (a flipped word or identifier): kill, copy."""
        t = self.table
        copy = ShopTable(
            {name: [t.value(name, r) for r in rows.tolist()] for name in t.columns},
            records=[t.records[r] for r in rows.tolist()] if t.records else None,
        )
        self.alive[rows] = False
        return self._append(copy)

    # -- the update ----------------------------------------------------------------------------

    def update(
        self,
        upserts: ShopTable | None = None,
        removed: Iterable[str] = (),
        decisions: Sequence[Decision] | None = None,
        previous_ids: Mapping[str, str] | None = None,
        kept: Normalised | None = None,
    ) -> tuple[np.ndarray, set[str]]:
        """Apply new/changed records, removals and (when given) the full set of decisions.
        ``kept``: on a first run, rows normalised by an earlier state in this process (see
        :mod:`dedupe.prepare.reused`), not normalised again.

        Returns the codes of the entities made or changed (see
        :class:`~dedupe.cluster.entity_ids.EntityIds`) and the ids of the entities that no longer
        exist."""
        with gc_paused():
            return self._update(upserts, removed, decisions, previous_ids, kept)

    def _update(
        self,
        upserts: ShopTable | None,
        removed: Iterable[str],
        decisions: Sequence[Decision] | None,
        previous_ids: Mapping[str, str] | None,
        kept: Normalised | None = None,
    ) -> tuple[np.ndarray, set[str]]:
        upserts = upserts or ShopTable({"platform": [], "source_id": [], "name": []})
        first = self.prepared is None
        keys = KeyIndex(upserts.keys, np.arange(len(upserts)))
        duplicates = keys.duplicates()
        if duplicates:
            raise ValueError(f"duplicate record keys: {', '.join(duplicates[:5])}")
        stage("start")
        changed_keys = [] if first else list(upserts.keys)
        killed_keys = {k for k in [*removed, *changed_keys] if k in self.row_of}
        killed = np.array(sorted(self.row_of.pop(k) for k in killed_keys), dtype=np.int64)
        alive_before = self.alive.copy()
        self.alive[killed] = False
        start = len(self.table) if not first else 0
        if len(upserts) or first:
            fresh, words = self._append(upserts, kept)
        else:
            fresh, words = np.zeros(0, np.int64), Words.of([])
        if first:
            self.row_of = keys
            if self.rules.common_limit is None:
                self.rules = self.rules.resolve(len(upserts))
        stage("normalised")
        fresh, words = refresh_statuses(self, killed, fresh, words, start)
        stage("statuses")
        n = len(self.table)
        alive_before = np.concatenate([alive_before, np.zeros(n - len(alive_before), bool)])
        dead = np.flatnonzero(alive_before & ~self.alive)
        # Removed, changed and re-entered rows: the ids their keys held.
        old_ids = {self.table.keys[r]: self.entity_of[r] for r in dead.tolist()}
        touched = index_rows(self, fresh, words, dead)
        stage("indexed")
        is_fresh = np.zeros(n, bool)
        is_fresh[fresh] = True
        p = self.prepared
        batch, inactive = self.index.pairs(
            touched, self.alive, alive_before, is_fresh, self.rules, pair_filters(p)
        )
        if self.config.keep_pairs:
            self.last_pairs = encode(batch.a, batch.b)
        stage("blocked")
        if self.model is None:
            from dedupe.score.estimate import choose_model

            # The decisions of this very run are known answers for the fit (and constraints).
            decided = rulings.latest(decisions) if decisions is not None else self.decided
            self.model = choose_model(self, batch, decided)
        seeds = [fresh, dead]
        dropped = self.store.remove_rows(dead)
        dropped = np.concatenate([dropped, self.store.remove(unsupported(self, inactive))])
        seeds.extend(decode(dropped))
        stage("model")
        scored = self.model.score(self.prepared, batch.a, batch.b, prune_below=self.lower)
        stage("scored")
        self.store.add(encode(scored.a, scored.b), scored.weights, scored.conflicts)
        seeds.extend([scored.a, scored.b])
        if decisions is not None:
            after = rulings.latest(decisions)
            changed = rulings.changed_pairs(self.decided, after)
            self.decided = after
            seeds.append(np.array([self.row_of[k] for p in changed for k in p if k in self.row_of]))
        self.stats = {
            "records": int(self.alive.sum()),
            "candidate_pairs": len(batch),
            "kept_pairs": len(scored),
            "blocking": {**batch.stats, "pairs": len(batch)},
            "weights": self.model.source,
        }
        seed_rows = unique(np.concatenate([np.asarray(s, np.int64) for s in seeds]))
        return recluster(self, seed_rows[self.alive[seed_rows]], dead, old_ids, previous_ids)

    # -- reading -------------------------------------------------------------------------------

    def clusters(self) -> dict[str, list[int]]:
        """Entity id -> live rows, rows in key order."""
        rows = np.flatnonzero(self.alive)
        codes = self.entity_of.codes[rows]
        order = np.argsort(codes, kind="stable")
        rows, codes = rows[order], codes[order]
        if not len(codes):
            return {}
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        keys, decode, listed = self.table.keys, self.entity_of.decode, rows.tolist()
        out: dict[str, list[int]] = {}
        for start, end, code in zip(
            starts.tolist(), ends.tolist(), codes[starts].tolist(), strict=True
        ):
            members = listed[start:end]
            if end - start > 1:  # most entities have one record: nothing to sort
                members.sort(key=keys.__getitem__)
            out[decode(code)] = members  # type: ignore[index]
        return out

    def entity_count(self) -> int:
        codes = self.entity_of.codes[self.alive]
        return len(unique(codes))
