"""The search index as a function of the store: it records the last entity write it applied,
and catching up applies what the store wrote since (upserts and deletes) or rebuilds it whole.

Every entity write in the store has a number (``entity_writes.seq``, stamped on the entities it
wrote and the ids it removed). After each index commit the index records the number it now
reflects; a crash between a store write and the index commit leaves that number behind, so the
next run (or ``aggregator doctor``) finds exactly what is missing. The numbers decide; a count
that still disagrees afterwards, an index that records nothing, or one ahead of the store (a
restored database) is rebuilt atomically.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aggregator.entity_offers import attach_offers
from aggregator.matching import MatchOutcome
from aggregator.models import Entity, OfferRecord, RecordType
from aggregator.settings import Settings
from aggregator.store import Store
from search import SearchBackend
from search.documents import shop_document

log = logging.getLogger(__name__)

#: For a backend that cannot keep the number itself: a file under the data dir.
MARK_FILE = "search-applied.json"
#: Above this many pending entities (and a fifth of the store), one rebuild beats upserts.
REBUILD_ABOVE = 5000


@dataclass(frozen=True)
class IndexState:
    """How far the index is behind the store."""

    store_seq: int
    applied: int | None
    lag_entities: int
    lag_s: float
    indexed: int
    stored: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "store_seq": self.store_seq,
            "applied": self.applied,
            "lag_entities": self.lag_entities,
            "lag_s": round(self.lag_s, 1),
            "indexed": self.indexed,
            "stored": self.stored,
        }


def read_mark(backend: SearchBackend, settings: Settings) -> int | None:
    applied = getattr(backend, "applied", None)
    if callable(applied):
        value = applied()
        return value if value is None else int(value)
    try:
        data = json.loads((settings.data_dir / MARK_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    if data.get("backend") != settings.search_backend:
        return None
    return int(data["applied"])


def write_mark(backend: SearchBackend, settings: Settings, seq: int) -> None:
    mark = getattr(backend, "mark_applied", None)
    if callable(mark):
        mark(seq)
        return
    target = settings.data_dir / MARK_FILE
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"backend": settings.search_backend, "applied": seq}))
    os.replace(temporary, target)


def index_state(store: Store, backend: SearchBackend, settings: Settings) -> IndexState:
    applied = read_mark(backend, settings)
    store_seq = store.entity_seq()
    lag_entities, lag_s = store.index_lag(applied)
    if applied is not None and applied > store_seq:
        lag_entities = store.count_entities()  # the index is from another store: all of it
    return IndexState(
        store_seq=store_seq,
        applied=applied,
        lag_entities=lag_entities,
        lag_s=lag_s,
        indexed=backend.count(),
        stored=store.count_entities(),
    )


def rebuild_reason(store: Store, backend: SearchBackend, settings: Settings) -> str | None:
    """Why the index needs rebuilding whatever the next matching writes, or None: it records
    no store state, one ahead of the store's, or it is empty while the store is not."""
    applied = read_mark(backend, settings)
    if applied is None:
        return "the index records no store state"
    if applied > store.entity_seq():
        return f"the index says it applied write {applied}, the store is behind it"
    if backend.count() == 0 and store.count_entities():
        return "the index is empty"
    return None


def forget_mark(backend: SearchBackend, settings: Settings) -> None:
    """Before an index is rebuilt while the store writes (published before the store commits):
    until :func:`write_mark` says otherwise, the index records no store state, so a run cut in
    between is followed by a rebuild. A backend that keeps the mark keeps it per rebuilt index,
    which holds none until marked."""
    if not callable(getattr(backend, "applied", None)):
        (settings.data_dir / MARK_FILE).unlink(missing_ok=True)


def sync_index(
    store: Store,
    backend: SearchBackend,
    settings: Settings,
    outcome: MatchOutcome | None = None,
) -> dict[str, int]:
    """Bring the index in line with the store; ``outcome`` (the matching just written) saves
    reading back the entities it holds. Returns what was rebuilt, upserted and deleted."""
    applied = read_mark(backend, settings)
    pending = store.entity_changes_since(applied if applied is not None else 0)
    stored = store.count_entities()
    reason = None
    if applied is None:
        reason = "the index records no store state"
    elif applied > pending.upto:
        reason = f"the index says it applied write {applied}, the store has {pending.upto}"
    elif backend.count() == 0 and stored:
        reason = "the index is empty"
    elif len(pending.changed) + len(pending.removed) > max(REBUILD_ABOVE, stored // 5):
        reason = f"{len(pending.changed) + len(pending.removed)} entities behind"
    if reason is not None:
        return _rebuild(store, backend, settings, outcome, pending.upto, stored, reason)
    at_hand = {e.entity_id: e for e in (outcome.changed if outcome else [])}
    deleted = backend.delete(pending.removed) if pending.removed else 0
    upserted = 0
    if pending.changed:
        missing = [i for i in pending.changed if i not in at_hand]
        if missing:
            log.warning(
                "the index lacks %d entities written before this run: adding them", len(missing)
            )
        entities = [at_hand[i] for i in pending.changed if i in at_hand]
        entities += load_entities_by_id(store, missing)
        upserted = backend.upsert(entities)
    if pending.upto != applied:
        write_mark(backend, settings, pending.upto)
    indexed = backend.count()
    if indexed != stored:
        reason = f"the index holds {indexed} shops, the store {stored}"
        return _rebuild(store, backend, settings, None, pending.upto, stored, reason)
    return {"rebuilt": 0, "upserted": upserted, "deleted": deleted}


def _rebuild(
    store: Store,
    backend: SearchBackend,
    settings: Settings,
    outcome: MatchOutcome | None,
    upto: int,
    stored: int,
    reason: str,
) -> dict[str, int]:
    log.info("rebuilding the search index (%s)", reason)
    # A first matching wrote every entity: they are at hand, offers attached.
    whole = outcome is not None and len(outcome.changed) == stored and not outcome.removed
    entities = outcome.changed if whole and outcome is not None else load_entities(store)
    rebuilt = backend.rebuild(entities)
    write_mark(backend, settings, upto)
    return {"rebuilt": rebuilt, "upserted": 0, "deleted": 0}


def load_entities(store: Store) -> list[Entity]:
    """Every stored entity with its offers, for a full rebuild of the index."""
    offers = [OfferRecord.model_validate(r.record) for r in store.iter_raw(RecordType.offer)]
    entities = list(store.iter_entities())
    attach_offers(entities, offers)
    return entities


def load_entities_by_id(store: Store, ids: Iterable[str]) -> list[Entity]:
    """These stored entities with their offers (ids no longer stored are left out)."""
    entities = [e for e in (store.get_entity(i) for i in ids) if e is not None]
    members = [(m.platform, m.source_id) for e in entities for m in e.members]
    offers = [OfferRecord.model_validate(r.record) for r in store.offers_of(members)]
    attach_offers(entities, offers)
    return entities


def stored_document(entity: Entity) -> dict[str, Any]:
    """The shop document the store says the index should hold, as the index returns it."""
    return json.loads(json.dumps(shop_document(entity)))


def differences(store: Store, backend: SearchBackend) -> dict[str, list[str]]:
    """Field by field: entity id -> the fields whose indexed value differs from the store's
    (``["missing"]`` when the index lacks it, ``["extra"]`` for ids only the index has, read
    from the count). Reads every entity: for ``aggregator doctor --deep`` and the tests."""
    found: dict[str, list[str]] = {}
    seen = 0
    for entity in load_entities(store):
        seen += 1
        want = stored_document(entity)
        have = backend.get(entity.entity_id)
        if have is None:
            found[entity.entity_id] = ["missing"]
            continue
        fields = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
        if fields:
            found[entity.entity_id] = fields
    extra = backend.count() - seen + sum(1 for v in found.values() if v == ["missing"])
    if extra > 0:
        found["(index)"] = [f"{extra} shops the store does not have"]
    return found
