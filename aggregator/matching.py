"""Matching inside the service, full or incremental, and what it writes to the store.

The first matching of a process reads every live shop record and matches them all. A
long-running process (``aggregator serve``, its scheduler and the operators' "run now") keeps
the matching state between runs and afterwards reads only what changed since the last one: shop
records changed, new, back or gone, offers changed or gone, and the chamber decisions. Those go
through :func:`dedupe.update`, which gives the same entities as a full recompute (a tested
property of :mod:`dedupe.state.match_state`). Either way only the entities whose search
document changed are written and re-indexed.

A full matching runs again when the taxonomy file changes, every ``match_full_every_h`` hours
(new weights for a grown store) and whenever the state and the store disagree on the number of
live shop records, a check made after every incremental run.

Example::

    matching = Matching(store, settings)
    outcome = matching.run()      # full: the process's first run
    outcome = matching.run()      # incremental: only what changed since
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.entity_build import EntityBatches, batches
from aggregator.entity_offers import attach, attach_offers, offers_by_shop
from aggregator.entity_sources import Sources, fingerprint
from aggregator.heap import give_back
from aggregator.models import (
    Decision,
    Entity,
    OfferRecord,
    RecordType,
    utcnow,
)
from aggregator.settings import Settings
from aggregator.shop_columns import ShopColumns, read_shops
from aggregator.store import Store
from aggregator.store.entity_rows import entity_row, entity_row_form
from dedupe import MatchConfig, MatchResult, load_taxonomy, match_table, update
from dedupe.golden.choices import Choices, apply_choices
from dedupe.prepare.arrays import gc_paused
from dedupe.prepare.reused import Normalised
from dedupe.prepare.taxonomy import Taxonomy
from search.documents import Encoded, Form

log = logging.getLogger(__name__)

#: Changes are read from this long before the last matching began: a record written just
#: before it began may have been committed just after. Records read twice are recognised by
#: their content hash and cost nothing more.
OVERLAP = timedelta(minutes=2)

#: Entities built, hashed and written at a time by a full matching.
WRITE_BATCH = 5000
#: What a full matching can feed its entities to as it writes them (a backend's ``rebuild``).
Indexer = Callable[[Iterable[Entity]], int]

#: Where the weights of the last full matching are saved, for ``aggregator match explain``.
MODEL_FILE = "matching-model.json"


@dataclass
class MatchOutcome:
    """What a matching changed: entities to (re)index and entities that no longer exist."""

    changed: list[Entity] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    entities: int = 0
    candidate_pairs: int = 0
    #: "full" or "incremental".
    mode: str = "full"
    #: Entities written (``changed`` holds them, unless a full matching fed them to an index).
    written: int = 0
    #: The number of the store's last entity write after this one (``entity_writes.seq``).
    seq: int = 0
    #: Entities the index given to :meth:`Matching.run` was rebuilt with (None: not fed).
    indexed: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _sorted(by_shop: dict[str, list[str]]) -> dict[str, list[str]]:
    for values in by_shop.values():
        values.sort()
    return by_shop


class Matching:
    """The matching of one process: the state it keeps between runs and when it starts over."""

    def __init__(self, store: Store, settings: Settings | None = None, pool: Any = None) -> None:
        self.store = store
        self.settings = settings
        #: Worker processes forked before any thread (``Runtime.start_match_pool``), or None.
        self.pool = pool
        self.result: MatchResult | None = None
        #: Changes are read from here on (the last matching's start, less :data:`OVERLAP`).
        self.since: datetime | None = None
        #: Record key -> content hash of every live shop record the state holds.
        self.held: dict[str, str] = {}
        #: Offer key -> key of the shop it was attached to, to re-index a shop an offer left.
        self.offer_shop: dict[str, str] = {}
        self.full_at = 0.0
        self._taxonomy_stamp: tuple[float, int] | None = None
        #: The reviewers' field choices the last run applied.
        self.choices: Choices = {}
        self._lock = threading.Lock()

    # -- the one entry point -------------------------------------------------------------------
    def run(self, *, full: bool = False, index: Indexer | None = None) -> MatchOutcome:
        """Match what changed since the last run (everything on the first run, or when
        ``full``), write the changed entities and the review candidates.

        ``index`` (a search backend's ``rebuild``), when given, is fed every entity of a full
        matching as it is written, inside the store's transaction (``outcome.indexed`` says so):
        the entities are never all held at once. An incremental matching ignores it."""
        with self._lock, self.store.exclusive("matching"), gc_paused():
            reason = "asked" if full else self._full_reason()
            if reason is None:
                outcome = self._incremental()
                if outcome is not None:
                    return outcome
                reason = "the state and the store disagree"
            log.info("matching every record (%s)", reason)
            # The store's number of live records made right from the records before they are
            # read (one count, beside minutes of matching): one that drifted (a record inserted
            # by hand on SQLite, triggers off during a restore) is not trusted again.
            self.store.recount_live()
            return self._full(index)

    def _full_reason(self) -> str | None:
        if self.result is None:
            return "first run"
        if self._taxonomy_file_stamp() != self._taxonomy_stamp:
            return "the taxonomy changed"
        every = self.settings.match_full_every_h if self.settings is not None else 24.0
        if time.monotonic() - self.full_at >= every * 3600:
            return f"{every:g} h since the last full matching"
        return None

    # -- full ------------------------------------------------------------------------------------
    def _full(self, index: Indexer | None = None) -> MatchOutcome:
        started, mark = time.perf_counter(), utcnow()
        # The old state goes before the new one is built: two at once would double the
        # memory. Only its table and key index are kept while the records are read (the rows
        # of unchanged records are taken from them); its normalised columns, blocking index
        # and pairs go now, the table once read. Reference counting frees them: the cyclic
        # collector is paused during a run, so no reference to them may be left behind.
        # The normalised columns of the unchanged records are taken from it too, when they
        # were normalised with the same taxonomy (normalising is most of a full matching's
        # per-record work); they go once the new rows' columns are built.
        previous = self.result.state if self.result is not None else None
        held_before = self.held
        kept = (previous.table, previous.row_of) if previous is not None else None
        stamp = self._taxonomy_file_stamp()
        normalised = (
            Normalised.of(previous.prepared)
            if previous is not None
            and previous.prepared is not None
            and stamp == self._taxonomy_stamp
            else None
        )
        self.result, self.held, self.offer_shop = None, {}, {}
        del previous
        reading = read_shops(self.store, kept, held_before)
        del kept, held_before
        self._taxonomy_stamp = stamp
        table, held = reading.table(), reading.hashes
        if normalised is not None:
            normalised.origin = reading.origin
        offers: list[OfferRecord] = []
        offer_hashes: dict[str, list[str]] = {}
        for stored in self.store.iter_raw(RecordType.offer):
            offer = OfferRecord.model_validate(stored.record)
            offers.append(offer)
            if offer.shop_source_id is not None:
                offer_hashes.setdefault(f"{offer.platform}:{offer.shop_source_id}", []).append(
                    f"{offer.platform}:{offer.source_id}={stored.content_hash}"
                )
        config = MatchConfig(
            taxonomy=self._taxonomy(),
            record_dates=reading.dates,
            estimate=False if self.settings and self.settings.match_estimate == "off" else "auto",
            pool=self.pool,
        )
        del reading
        give_back("reading the records")  # and, after others, the old state
        result = match_table(
            table, self.store.list_decisions(), self.store.entity_ids_by_key(), config, normalised
        )
        del normalised
        # The blocking index, the scored pairs and the normalising's leftovers are freed:
        # their pages go back before the write, while the index worker grows beside it.
        give_back("the matching")
        choices = self._choices()
        sources = Sources(result, held, choices, _sorted(offer_hashes), self._fingerprint(config))
        outcome = self._write_all(result, choices, offers_by_shop(offers), index, sources)
        give_back("writing the entities")
        self.result = result
        self.since = mark - OVERLAP
        self.held = held
        self.offer_shop = {
            f"{o.platform}:{o.source_id}": f"{o.platform}:{o.shop_source_id}"
            for o in offers
            if o.shop_source_id is not None
        }
        self.full_at = time.monotonic()
        self.choices = choices
        self._save_model(result)
        outcome.stats = dict(
            result.stats, **outcome.stats, seconds=round(time.perf_counter() - started, 3)
        )
        return outcome

    # -- incremental -------------------------------------------------------------------------------
    def _incremental(self) -> MatchOutcome | None:
        """Match what changed; None when the result disagrees with the store (then a full
        matching follows and puts it right)."""
        assert self.result is not None and self.since is not None
        started, mark = time.perf_counter(), utcnow()
        upsert_keys: list[tuple[str, str]] = []
        removed: list[str] = []
        for change in self.store.shop_changes_since(self.since):
            if change.gone:
                if change.key in self.held:
                    removed.append(change.key)
            elif self.held.get(change.key) != change.content_hash:
                upsert_keys.append((change.platform, change.source_id))
        stored = self.store.get_raw_many(upsert_keys)
        touched_shops = self._offer_changes()
        decisions = self.store.list_decisions()
        choices = self._choices()
        chosen_ids = {
            entity_id
            for entity_id in set(choices) | set(self.choices)
            if choices.get(entity_id) != self.choices.get(entity_id)
        }
        if (
            not stored
            and not removed
            and not touched_shops
            and not chosen_ids
            and not self._new_decisions(decisions)
        ):
            if not self._agrees(self.result):
                return None
            self.since = mark - OVERLAP
            return MatchOutcome(
                entities=self.result.stats.get("entities", 0),
                candidate_pairs=self.result.stats.get("review_pairs", 0),
                mode="incremental",
                stats={"records_changed": 0, "seconds": round(time.perf_counter() - started, 3)},
            )
        reading = ShopColumns()
        reading.add((r.record, r.content_hash, r.last_changed) for r in stored)
        result = update(
            self.result,
            reading.table(),
            removed,
            decisions,
            record_dates={f"{r.platform}:{r.source_id}": r.last_changed for r in stored},
        )
        for key in removed:
            self.held.pop(key, None)
        self.held.update({f"{r.platform}:{r.source_id}": r.content_hash for r in stored})
        self.result = result
        if not self._agrees(result):
            return None
        # Entities whose members changed, and those whose offers changed.
        state = result.state
        ids = set(result.changed)
        for key in touched_shops:
            row = state.row_of.get(key)
            if row is not None and state.alive[row]:
                entity_id = state.entity_of[row]
                if entity_id is not None:
                    ids.add(entity_id)
        ids |= chosen_ids
        entities = result.entities_of(ids)
        apply_choices(entities, result, choices)
        self.choices = choices
        members = [(m.platform, m.source_id) for e in entities for m in e.members]
        offers: list[OfferRecord] = []
        offer_hashes: dict[str, list[str]] = {}
        for stored_offer in self.store.offers_of(members):
            offer = OfferRecord.model_validate(stored_offer.record)
            offers.append(offer)
            if offer.shop_source_id is not None:
                shop = f"{offer.platform}:{offer.shop_source_id}"
                self.offer_shop[f"{offer.platform}:{offer.source_id}"] = shop
                offer_hashes.setdefault(shop, []).append(
                    f"{offer.platform}:{offer.source_id}={stored_offer.content_hash}"
                )
        attach_offers(entities, offers)
        sources = Sources(
            result, self.held, choices, _sorted(offer_hashes), self._fingerprint(state.config)
        )
        gone_ids = sorted(result.removed - {e.entity_id for e in entities})
        outcome = self._write(entities, gone_ids, result, self.store.entity_hashes(ids), sources)
        outcome.mode = "incremental"
        self.since = mark - OVERLAP
        outcome.stats = dict(
            result.stats,
            records_changed=len(stored),
            records_removed=len(removed),
            seconds=round(time.perf_counter() - started, 3),
        )
        return outcome

    def _agrees(self, result: MatchResult) -> bool:
        """Whether the state holds as many live shop records as the store: a record erased or
        restored behind the service's back (no change is dated) breaks it."""
        if int(result.state.alive.sum()) == self.store.count_live(RecordType.shop):
            return True
        log.warning("the matching state disagrees with the store's live shop records")
        return False

    def _offer_changes(self) -> set[str]:
        """Keys of the shops whose offers changed: the shop an offer is on, and the one it left."""
        assert self.since is not None
        shops: set[str] = set()
        for platform, source_id, shop_id, gone in self.store.offer_changes_since(self.since):
            offer_key = f"{platform}:{source_id}"
            before = self.offer_shop.pop(offer_key, None)
            if before is not None:
                shops.add(before)
            if shop_id is not None:
                shops.add(f"{platform}:{shop_id}")
                if not gone:
                    self.offer_shop[offer_key] = f"{platform}:{shop_id}"
        return shops

    def _choices(self) -> Choices:
        return {
            entity_id: {name: (c.record_key, c.reviewer) for name, c in fields.items()}
            for entity_id, fields in self.store.field_choices().items()
        }

    def _new_decisions(self, decisions: list[Decision]) -> bool:
        from dedupe.cluster import decisions as rulings

        assert self.result is not None
        decided = self.result.state.decided
        return bool(rulings.changed_pairs(decided, rulings.latest(decisions)))

    # -- writing -----------------------------------------------------------------------------------
    def _write_all(
        self,
        result: MatchResult,
        choices: Choices,
        offers: dict[str, list[OfferRecord]],
        index: Indexer | None,
        sources: Sources,
    ) -> MatchOutcome:
        """A full matching's write, streamed: entities built, compared with the stored ones
        and written a batch at a time (and fed to ``index``), in one transaction. An entity
        whose inputs hash as when it was stored is not built again, unless ``index`` needs
        every entity."""
        before = self.store.entity_sources()
        outcome = MatchOutcome(
            entities=int(result.stats.get("entities", 0)),
            candidate_pairs=len(result.candidates),
        )
        seen: set[str] = set()
        skipped = 0
        build = EntityBatches(result)
        # The JSON forms of the batch being indexed: the index builds its documents from them.
        forms: dict[str, Form] = {}
        log.info("phase: writing entities")
        with self.store.writing_entities(recount=True, stored=before) as write:

            def entities() -> Iterator[Entity]:
                nonlocal skipped
                for clusters in batches(result.iter_clusters(), WRITE_BATCH):
                    wanted, source_of = [], {}
                    digests = sources.of_many(clusters)
                    for (entity_id, members), source in zip(clusters, digests, strict=True):
                        if entity_id in before:  # only the stored ones: the rest are not removed
                            seen.add(entity_id)
                        if index is None and source is not None and before.get(entity_id) == source:
                            skipped += 1
                            continue
                        wanted.append((entity_id, members))
                        source_of[entity_id] = source
                    batch = build(wanted)
                    apply_choices(batch, result, choices)
                    stored = write.doc_hashes([e for e in source_of if e in before])
                    rows, unchanged = [], []
                    forms.clear()  # the last batch's were taken, or are not wanted
                    for entity in batch:
                        attach(entity, offers)
                        source = source_of[entity.entity_id]
                        row, form = entity_row_form(entity, source=source)
                        if form is not None and index is not None:
                            forms[entity.entity_id] = form
                        if stored.get(entity.entity_id) != row.doc_hash:
                            rows.append(row)
                            if index is None:  # for the index to catch up with, afterwards
                                outcome.changed.append(entity)
                        elif before.get(entity.entity_id) != source:
                            unchanged.append((entity.entity_id, source))
                    write.upsert(rows)
                    write.set_sources(unchanged)
                    yield from batch

            if index is None:
                for _ in entities():
                    pass
            else:
                outcome.indexed = index(Encoded(entities(), forms))
            outcome.removed = sorted(set(before) - seen)
            write.remove(outcome.removed)
            write.candidates = result.candidates
        outcome.written, outcome.seq = write.upserted, write.number
        outcome.stats["entities_not_built"] = skipped
        log.info(
            "entities written: %d changed, %d removed, %d unchanged not built again",
            write.upserted,
            len(outcome.removed),
            skipped,
        )
        return outcome

    def _write(
        self,
        entities: list[Entity],
        removed: list[str],
        result: MatchResult,
        before: dict[str, str],
        sources: Sources,
    ) -> MatchOutcome:
        outcome = MatchOutcome(
            entities=int(result.stats.get("entities", len(entities))),
            candidate_pairs=len(result.candidates),
        )
        upserts, unchanged = [], []
        row_of = result.state.row_of
        for entity in entities:
            members = [row_of[f"{m.platform}:{m.source_id}"] for m in entity.members]
            row = entity_row(entity, source=sources.of(entity.entity_id, members))
            if before.get(entity.entity_id) != row.doc_hash:
                upserts.append(row)
                outcome.changed.append(entity)
            else:
                unchanged.append((entity.entity_id, row.source_hash))
        outcome.removed = removed
        log.info("phase: writing entities (%d changed, %d removed)", len(upserts), len(removed))
        outcome.seq = self.store.replace_entities(
            upserts, removed, result.candidates, sources=unchanged
        )
        outcome.written = len(upserts)
        return outcome

    def _fingerprint(self, config: MatchConfig) -> bytes:
        return fingerprint(self._taxonomy_path(), config.platform_priority)

    # -- files -------------------------------------------------------------------------------------
    def _taxonomy_path(self) -> Path | None:
        if self.settings is None:
            return None
        path = self.settings.config_dir / "taxonomy.yaml"
        return path if path.is_file() else None

    def _taxonomy_file_stamp(self) -> tuple[float, int] | None:
        path = self._taxonomy_path()
        if path is None:
            return None
        stat = path.stat()
        return (stat.st_mtime, stat.st_size)

    def _taxonomy(self) -> Taxonomy | None:
        path = self._taxonomy_path()
        return load_taxonomy(path) if path is not None else None

    def _save_model(self, result: MatchResult) -> None:
        """The weights the run used, for ``aggregator match explain`` (written atomically)."""
        if self.settings is None or result.state.model is None:
            return
        target = self.settings.data_dir / MODEL_FILE
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(result.state.model.to_dict(), indent=1))
        os.replace(temporary, target)
