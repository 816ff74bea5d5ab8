"""A rebuild's documents indexed by a process of its own, beside the one that feeds it.

A full matching feeds a rebuild every entity while it writes them to the store, one Python
thread doing both. Turning a search document into tantivy's form (``to_tantivy``) and adding it
to the writer costs that thread about as much as building the entity's golden record; tantivy's
own indexing runs on its threads. A rebuild of more than :data:`HAND_OFF` entities therefore
hands the documents (pickled, a batch at a time, through a pipe) to a worker process that
holds the writer and turns them into tantivy documents, on the second core, while this process
builds and writes the next entities. An entity whose store row the feeder encoded by orjson
goes as that JSON form (:class:`search.documents.Encoded`): a few texts that pickle as one copy
each, from which the worker builds the documents, sparing the feeder building them and
pickling their dicts. The worker is started by ``spawn`` (the feeding process
has threads) and costs about a second to start: smaller rebuilds (the demo, tests) stay in this
process, as every rebuild did before. The index written is the same either way.

Example::

    written = index_entities(index, directory, entities, heap=REBUILD_HEAP_BYTES)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import queue
import resource
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import tantivy

from aggregator.heap import give_back
from aggregator.models import Entity
from search.documents import Encoded, Form, entity_documents, form_documents
from search.embedded_schema import register_analyzers, to_tantivy

log = logging.getLogger(__name__)

#: Entities a rebuild indexes itself; from one more on, a worker process indexes them all.
HAND_OFF = 20_000
#: Entities whose documents go to the worker in one message.
BATCH = 500
#: Messages waiting for the worker at most (the feeder blocks beyond).
QUEUED = 16
_END = b""

Documents = list[dict[str, Any]]
#: What the worker is sent for one entity: its documents, or its JSON form to build them from.
Item = Documents | Form


@contextlib.contextmanager
def batch_writer(
    index: tantivy.Index, heap: int, threads: int = 0
) -> Iterator[tantivy.IndexWriter]:
    """A writer for one batch: committed if the batch completes, rolled back otherwise, and
    released (with its merges finished) so another process may write next."""
    writer = index.writer(heap, threads)
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        writer.wait_merging_threads()


def index_entities(
    index: tantivy.Index,
    directory: Path,
    entities: Iterable[Entity],
    heap: int,
    hand_off: int = HAND_OFF,
) -> int:
    """Index the documents of ``entities`` into ``index`` (a new generation at ``directory``,
    holding nothing yet) and commit them; the number of entities. Past ``hand_off`` entities a
    worker process does the indexing (see the module's description)."""
    held: list[Item] = []
    forms = entities.forms if isinstance(entities, Encoded) else None
    iterator = iter(entities)
    for entity in iterator:
        held.append(_item(entity, forms))
        if len(held) > hand_off:
            return _in_worker(directory, heap, held, iterator, forms)
    with batch_writer(index, heap) as writer:
        for item in held:
            for document in _documents(item):
                writer.add_document(to_tantivy(document))
    return len(held)


def _item(entity: Entity, forms: dict[str, Form] | None) -> Item:
    """The entity's JSON form, when its feeder encoded it (the documents are built from it
    where they are indexed: in the worker process), else its documents."""
    if forms is not None:
        form = forms.pop(entity.entity_id, None)
        if form is not None:
            return form
    return entity_documents(entity)


def _documents(item: Item) -> Documents:
    return form_documents(item) if isinstance(item, tuple) else item


def _in_worker(
    directory: Path,
    heap: int,
    held: list[Item],
    rest: Iterator[Entity],
    forms: dict[str, Form] | None,
) -> int:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    worker = context.Process(
        target=_index_from, args=(str(directory), heap, theirs), name="search-index", daemon=True
    )
    worker.start()
    theirs.close()
    sender = _Sender(ours)
    try:
        count = len(held)
        for start in range(0, len(held), BATCH):
            sender.put(held[start : start + BATCH])
        del held
        batch: list[Item] = []
        for entity in rest:
            batch.append(_item(entity, forms))
            if len(batch) == BATCH:
                sender.put(batch)
                count += len(batch)
                batch = []
        if batch:
            sender.put(batch)
            count += len(batch)
        sender.finish()
        # The worker's commit is the service's highest moment: what this process freed while
        # feeding it (entities built, rows encoded, pickled batches) goes back first.
        give_back("feeding the index")
        try:
            reply = ours.recv()
        except EOFError:
            reply = ("failed", f"it ended with exit code {worker.exitcode}")
        worker.join()
        if reply[0] != "done":
            raise RuntimeError(f"the search index worker process failed: {reply[1]}")
        _, documents, cpu_s, peak_mb, segments = reply
        log.info(
            "search index: %d entities (%d documents) indexed by a worker process "
            "(CPU %.1f s, peak %d MB, %d segments)",
            count,
            documents,
            cpu_s,
            peak_mb,
            segments,
        )
        return count
    except BaseException:
        if worker.is_alive():
            worker.kill()
        worker.join()
        sender.finish(quiet=True)
        raise
    finally:
        ours.close()


class _Sender:
    """Pickles batches here, and writes them to the worker from a thread of its own (the
    write releases the GIL), :data:`QUEUED` at most waiting: the feeder goes on building
    entities while the worker reads."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.queue: queue.Queue[bytes] = queue.Queue(maxsize=QUEUED)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name="search-index-feed", daemon=True)
        self.thread.start()

    def put(self, batch: list[Item]) -> None:
        if self.error is not None:
            raise RuntimeError(f"the search index worker process stopped: {self.error}")
        self.queue.put(pickle.dumps(batch, protocol=5))

    def finish(self, quiet: bool = False) -> None:
        """Send the end, and wait for every batch to be written."""
        if self.thread.is_alive():
            self.queue.put(_END)
            self.thread.join()
        if self.error is not None and not quiet:
            raise RuntimeError(f"the search index worker process stopped: {self.error}")

    def _send(self) -> None:
        while True:
            payload = self.queue.get()
            if self.error is None:
                try:
                    self.connection.send_bytes(payload)
                except BaseException as error:  # the worker is gone: the feeder is told
                    self.error = error
            if payload == _END:
                return


def _index_from(directory: str, heap: int, connection: Any) -> None:
    """The worker process: documents from ``connection`` until the end, then the commit; it
    answers ``("done", documents, CPU seconds, peak MB, segments)`` or ``("failed", why)``."""
    try:
        index = tantivy.Index.open(directory)
        register_analyzers(index)
        count = 0
        with batch_writer(index, heap) as writer:
            while True:
                payload = connection.recv_bytes()
                if payload == _END:
                    break
                for item in pickle.loads(payload):
                    documents = _documents(item)
                    for document in documents:
                        writer.add_document(to_tantivy(document))
                    count += len(documents)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = usage.ru_utime + usage.ru_stime
        index.reload()
        segments = index.searcher().num_segments
        connection.send(("done", count, round(cpu_s, 1), _peak_mb(), segments))
    except BaseException as error:
        with contextlib.suppress(OSError):  # the feeder is gone: nobody to tell
            connection.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def _peak_mb() -> int:
    """This process's own peak resident memory, in MB. Not ``ru_maxrss``: a process started by
    fork and exec inherits its parent's peak there, whereas ``VmHWM`` is this program's own."""
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


__all__ = ["BATCH", "HAND_OFF", "batch_writer", "index_entities"]
