"""The embedded search backend: a tantivy index on disk, no server.

Layout under the backend's directory::

    current            the name of the live index directory (replaced atomically)
    gen-<time>-<pid>/  one index generation, with a SCHEMA_VERSION file

``rebuild`` writes a new generation while searches keep answering from the live one, then
replaces ``current`` and drops the old generations. Readers in other processes notice the new
``current`` on their next search. Writes are serialised by a process-local lock; tantivy itself
allows one writer per index across processes, so one process (the pipeline) should write.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Query

from aggregator.models import Entity
from search.analysis import Synonyms
from search.documents import SHOP, entity_documents
from search.embedded_answer import answer
from search.embedded_query import QueryBuilder, combine
from search.embedded_rank import hit_count
from search.embedded_rebuild import HAND_OFF, batch_writer, index_entities
from search.embedded_schema import (
    SCHEMA_VERSION,
    build_schema,
    payload_of,
    register_analyzers,
    stem_analyzer,
    to_tantivy,
)
from search.query import SearchAnswer, SearchQuery

log = logging.getLogger(__name__)

POINTER = "current"
VERSION_FILE = "SCHEMA_VERSION"
#: In a generation: the number of the last store entity write it holds (see
#: ``aggregator.consistency``). A generation without it holds nothing known, and is rebuilt.
APPLIED_FILE = "APPLIED"
WRITER_HEAP_BYTES = 128_000_000
#: A rebuild writes everything at once: a big heap makes few, large segments (fewer merges while
#: indexing, fewer segments for every later search), split between tantivy's indexing threads
#: (one per core: measured faster than leaving a core to the Python that builds documents).
#: The heap is what the indexing process holds at its peak, beside the matching state of the
#: process that feeds it: 400 MB keeps the two under 3 GB at a million records, in a few more
#: segments than 1.5 GB made (docs/benchmarks.md, "The index worker's heap").
REBUILD_HEAP_BYTES = 400_000_000


@dataclass(frozen=True)
class _Live:
    """The generation searches read from; replaced as a whole, never mutated."""

    name: str
    index: tantivy.Index
    builder: QueryBuilder
    pointer_stamp: tuple[int, int]


class EmbeddedBackend:
    """A ``SearchBackend`` on a tantivy index under ``path``."""

    #: Searches run here, on the CPU, holding the GIL (a web server need not hand them to a
    #: thread: see ``aggregator.web.public.api``).
    in_process = True
    #: Entities past which a rebuild hands the indexing to a worker process (see
    #: ``search.embedded_rebuild``).
    rebuild_hand_off = HAND_OFF

    def __init__(self, path: str | Path, synonyms: Synonyms | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.synonyms = synonyms or Synonyms()
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._closed = False
        #: True when the index on disk was built by another schema version and was set aside.
        self.needs_rebuild = False
        self._meta_seen: tuple[str, tuple[int, int]] = ("", (0, 0))
        self._state = self._open_live()

    # -- generations ------------------------------------------------------------------------

    def _open_live(self) -> _Live:
        name = self._read_pointer()
        if name and (self.path / name / VERSION_FILE).is_file():
            version = (self.path / name / VERSION_FILE).read_text().strip()
            if version == str(SCHEMA_VERSION):
                return self._live(name, tantivy.Index.open(str(self.path / name)))
            log.warning(
                "search index %s has schema %s, not %s: starting an empty one; rebuild it",
                self.path / name,
                version,
                SCHEMA_VERSION,
            )
            self.needs_rebuild = True
        name, index = self._new_generation()
        self._write_pointer(name)
        return self._live(name, index)

    def _live(self, name: str, index: tantivy.Index) -> _Live:
        register_analyzers(index)
        builder = QueryBuilder(index.schema, stem_analyzer(), self.synonyms)
        return _Live(name, index, builder, self._pointer_stamp())

    def _new_generation(self) -> tuple[str, tantivy.Index]:
        name = f"gen-{time.time_ns():020d}-{os.getpid()}"
        directory = self.path / name
        directory.mkdir()
        index = tantivy.Index(build_schema(), path=str(directory), reuse=False)
        register_analyzers(index)
        (directory / VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")
        return name, index

    def _pointer_stamp(self) -> tuple[int, int]:
        return _stamp(self.path / POINTER)

    def _read_pointer(self) -> str | None:
        try:
            return (self.path / POINTER).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_pointer(self, name: str) -> None:
        temporary = self.path / f".{POINTER}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path / POINTER)

    def _current(self) -> _Live:
        """The live generation, following ``current`` and commits made by other processes."""
        if self._closed:
            raise RuntimeError("this search backend is closed")
        state = self._state
        if self._pointer_stamp() != state.pointer_stamp:
            state = self._follow_pointer()
        meta = _stamp(self.path / state.name / "meta.json")
        if meta != (0, 0) and self._meta_seen != (state.name, meta):
            state.index.reload()
            self._meta_seen = (state.name, meta)
        return state

    def _follow_pointer(self) -> _Live:
        with self._open_lock:
            state, stamp = self._state, self._pointer_stamp()
            if stamp != state.pointer_stamp:
                name = self._read_pointer()
                if name and name != state.name and (self.path / name).is_dir():
                    state = self._live(name, tantivy.Index.open(str(self.path / name)))
                else:
                    state = _Live(state.name, state.index, state.builder, stamp)
                self._state = state
            return state

    def _drop_old_generations(self, keep: str) -> None:
        for child in self.path.glob("gen-*"):
            if child.name != keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, entities: Iterable[Entity]) -> int:
        with self._write_lock:
            live = self._current()
            written = self._write(live.index, entities)
            live.index.reload()
            return written

    def delete(self, entity_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return 0
        with self._write_lock:
            live = self._current()
            schema, searcher = live.index.schema, live.index.searcher()
            present = combine(
                [live.builder.doc_type(SHOP), Query.term_set_query(schema, "entity_id", ids)]
            )
            found = hit_count(searcher.search(present, 1, count=True))
            with batch_writer(live.index, WRITER_HEAP_BYTES) as writer:
                for entity_id in ids:
                    writer.delete_documents_by_term("entity_id", entity_id)
            live.index.reload()
            return found

    def rebuild(self, entities: Iterable[Entity]) -> int:
        with self._write_lock:
            self._current()
            name, index = self._new_generation()
            try:
                written = index_entities(
                    index, self.path / name, entities, REBUILD_HEAP_BYTES, self.rebuild_hand_off
                )
                index.reload()
            except BaseException:
                shutil.rmtree(self.path / name, ignore_errors=True)
                raise
            self._write_pointer(name)
            with self._open_lock:
                self._state = self._live(name, index)
            self.needs_rebuild = False
            self._drop_old_generations(keep=name)
            return written

    @staticmethod
    def _write(index: tantivy.Index, entities: Iterable[Entity]) -> int:
        """Documents are built here (Python) while tantivy's threads index the previous ones;
        each entity's earlier documents are replaced."""
        written = 0
        with batch_writer(index, WRITER_HEAP_BYTES) as writer:
            for entity in entities:
                # A delete also removes earlier adds of this batch: the last version wins.
                writer.delete_documents_by_term("entity_id", entity.entity_id)
                for document in entity_documents(entity):
                    writer.add_document(to_tantivy(document))
                written += 1
        return written

    # -- what the index reflects -------------------------------------------------------------

    def applied(self) -> int | None:
        """The last store entity write the live generation holds, or None when unknown."""
        try:
            return int((self.path / self._current().name / APPLIED_FILE).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def mark_applied(self, seq: int) -> None:
        """Record, after a commit, that the live generation holds every write up to ``seq``."""
        with self._write_lock:
            directory = self.path / self._current().name
            temporary = directory / f".{APPLIED_FILE}.{os.getpid()}"
            with open(temporary, "w") as handle:
                handle.write(f"{seq}\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, directory / APPLIED_FILE)

    # -- reads ------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchAnswer:
        started = time.perf_counter()
        live = self._current()
        searcher = live.index.searcher()
        live.builder.use(searcher, self._meta_seen)
        return answer(searcher, live.builder, query, started)

    def get(self, entity_id: str) -> dict[str, Any] | None:
        live = self._current()
        searcher = live.index.searcher()
        wanted = Query.term_query(live.index.schema, "id", entity_id)
        hits = searcher.search(combine([live.builder.doc_type(SHOP), wanted]), 1).hits
        return payload_of(searcher.doc(hits[0][1])) if hits else None

    def count(self) -> int:
        live = self._current()
        shops = live.builder.doc_type(SHOP)
        return hit_count(live.index.searcher().search(shops, 1, count=True))

    def close(self) -> None:
        with self._write_lock:
            self._closed = True

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _stamp(path: Path) -> tuple[int, int]:
    """Changes whenever the file is replaced or rewritten."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)
