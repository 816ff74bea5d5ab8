"""The Meilisearch backend: two indexes (shops, offers) through the official Python client.

Writes are Meilisearch tasks; every write here waits for its tasks and raises ``MeiliTaskError``
naming the task's error when one fails, so "searches see a write once it returns" holds as for
the embedded backend. A rebuild fills ``<name>_next`` indexes while searches keep answering from
the live ones, then swaps both pairs in one atomic ``POST /swap-indexes`` task and drops the old
ones.

Keys: writes use ``api_key`` (the master key, held by the worker); reads (search, ``get``,
``count``) use ``search_key`` when one is given: a key whose only action is ``search``, or a
tenant token, which is all the web process holds. Every read goes through a search route, so
a search-only key is enough for the web; a backend with a search key and no ``api_key`` refuses
to write (``MeiliReadOnlyError``) before sending anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError
from meilisearch.models.task import Task, TaskInfo

from aggregator.models import Entity
from search.analysis import Synonyms
from search.documents import OFFER, SHOP, entity_documents
from search.meilisearch.keys import search_key, tenant_token
from search.meilisearch.query import IndexNames, empty_answer, multi_search_body, to_answer
from search.meilisearch.settings import PRIMARY_KEY, SHOP_FIELDS, settings, to_meili
from search.query import SearchAnswer, SearchQuery

log = logging.getLogger(__name__)

BATCH_DOCUMENTS = 10_000
#: Ids per delete filter: keeps each filter expression small.
BATCH_IDS = 500


class MeiliTaskError(RuntimeError):
    """A Meilisearch task failed or was canceled; the message carries its error."""

    def __init__(self, task: Task):
        error = task.error or {}
        super().__init__(
            f"Meilisearch task {task.uid} ({task.type} on {task.index_uid or '-'}) {task.status}: "
            f"{error.get('code', 'unknown_error')}: {error.get('message', 'no message')}"
        )
        self.task = task


class MeiliReadOnlyError(PermissionError):
    """A write on a backend that holds only a search key."""


class MeiliBackend:
    """A ``SearchBackend`` on a Meilisearch server (v1.11 or later, see docs/meilisearch.md)."""

    #: Searches wait on the network: a web server should run them off its event loop.
    in_process = False

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        synonyms: Synonyms | None = None,
        index_prefix: str = "buylocal",
        timeout_s: float = 30.0,
        task_timeout_s: float = 3600.0,
        search_key: str | None = None,
    ):
        if search_key is not None and search_key == api_key:
            raise ValueError("the search key must differ from the key that writes")
        self._connection = (url, api_key, int(timeout_s))
        self._search_key = search_key
        self.read_only = search_key is not None and api_key is None
        # The client keeps one mutable header dict per object and rewrites Content-Type for each
        # request: shared between threads (web workers' thread pools), a GET can strip the header
        # from a concurrent POST. So one client per thread.
        self._local = threading.local()
        self.synonyms = synonyms or Synonyms()
        self.names = IndexNames(f"{index_prefix}_shops", f"{index_prefix}_offers")
        self.task_timeout_s = task_timeout_s
        self._ready = False

    @property
    def client(self) -> meilisearch.Client:
        """The client that writes (and manages keys), with ``api_key``."""
        if self.read_only:
            raise MeiliReadOnlyError(
                "this process holds only a search key (MEILI_SEARCH_KEY): writing the index "
                "needs MEILI_MASTER_KEY, which only the worker holds"
            )
        client = getattr(self._local, "client", None)
        if client is None:
            url, api_key, timeout = self._connection
            client = self._local.client = meilisearch.Client(url, api_key, timeout=timeout)
        return client

    @property
    def search_client(self) -> meilisearch.Client:
        """The client that reads, with the search key when there is one."""
        if self._search_key is None:
            return self.client
        client = getattr(self._local, "search_client", None)
        if client is None:
            url, _, timeout = self._connection
            client = meilisearch.Client(url, self._search_key, timeout=timeout)
            self._local.search_client = client
        return client

    # -- tasks and indexes --------------------------------------------------------------------

    def wait(self, tasks: Iterable[TaskInfo]) -> list[Task]:
        """Wait for every task in order; raise on the first that did not succeed."""
        done = []
        deadline = time.monotonic() + self.task_timeout_s
        for info in tasks:
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            task = self.client.wait_for_task(
                info.task_uid, timeout_in_ms=left_ms, interval_in_ms=50
            )
            if task.status != "succeeded":
                raise MeiliTaskError(task)
            done.append(task)
        return done

    def _create(self, uid: str, kind: str) -> None:
        """Create an index with its settings (both waited for)."""
        info = self.client.create_index(uid, {"primaryKey": PRIMARY_KEY})
        self.wait([info])
        self.wait([self.client.index(uid).update_settings(settings(kind, self.synonyms))])

    def _exists(self, uid: str) -> bool:
        try:
            self.client.get_raw_index(uid)
        except MeilisearchApiError as error:
            if error.code == "index_not_found" or error.status_code == 404:
                return False
            raise
        return True

    def ensure_indexes(self) -> None:
        """Create the live indexes if missing; (re)apply the settings once per process, so a
        change of code or synonyms reaches the server with the next write."""
        if self._ready:
            return
        for uid, kind in ((self.names.shops, SHOP), (self.names.offers, OFFER)):
            if self._exists(uid):
                self.wait([self.client.index(uid).update_settings(settings(kind, self.synonyms))])
            else:
                self._create(uid, kind)
        self._ready = True

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, entities: Iterable[Entity]) -> int:
        given = list(entities)
        latest = {entity.entity_id: entity for entity in given}  # the last version wins
        if not latest:
            return 0
        self.ensure_indexes()
        shops, offers = _split(latest.values())
        offers_index = self.client.index(self.names.offers)
        tasks = [
            offers_index.delete_documents(filter=_ids_filter(chunk))
            for chunk in _chunks(list(latest), BATCH_IDS)
        ]
        tasks += self._add(self.names.shops, shops)
        tasks += self._add(self.names.offers, offers)
        self.wait(tasks)
        return len(given)

    def delete(self, entity_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return 0
        self.ensure_indexes()
        found, tasks = 0, []
        for chunk in _chunks(ids, BATCH_IDS):
            expression = _ids_filter(chunk)
            shops = self.client.index(self.names.shops)
            found += shops.get_documents({"filter": expression, "limit": 1, "fields": ["id"]}).total
            for uid in (self.names.shops, self.names.offers):
                tasks.append(self.client.index(uid).delete_documents(filter=expression))
        self.wait(tasks)
        return found

    def rebuild(self, entities: Iterable[Entity]) -> int:
        """Fill fresh ``*_next`` indexes, then swap them in atomically; on failure the live
        indexes are untouched and the half-built ones are dropped."""
        self.ensure_indexes()
        fresh = IndexNames(f"{self.names.shops}_next", f"{self.names.offers}_next")
        self._drop(fresh)  # leftovers of a rebuild that died
        written = 0
        try:
            self._create(fresh.shops, SHOP)
            self._create(fresh.offers, OFFER)
            tasks: list[TaskInfo] = []
            for chunk in _chunks(entities, BATCH_DOCUMENTS // 5):
                shops, offers = _split(chunk)
                tasks += self._add(fresh.shops, shops)
                tasks += self._add(fresh.offers, offers)
                written += len(chunk)
            self.wait(tasks)
            swap = self.client.swap_indexes(
                [
                    {"indexes": [self.names.shops, fresh.shops]},
                    {"indexes": [self.names.offers, fresh.offers]},
                ]
            )
            self.wait([swap])
        finally:
            self._drop(fresh)  # after a swap these hold the previous generation
        return written

    def _add(self, uid: str, documents: list[dict[str, Any]]) -> list[TaskInfo]:
        index = self.client.index(uid)
        return [
            index.add_documents(batch, primary_key=PRIMARY_KEY)
            for batch in _chunks(documents, BATCH_DOCUMENTS)
        ]

    def _drop(self, names: IndexNames) -> None:
        for uid in (names.shops, names.offers):
            if self._exists(uid):
                self.wait([self.client.index(uid).delete()])

    # -- reads --------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchAnswer:
        started = time.perf_counter()
        queries, federation = multi_search_body(query, self.names, self.synonyms)
        try:
            response = self.search_client.multi_search(queries, federation=federation)
        except MeilisearchApiError as error:
            if error.code == "index_not_found":
                log.warning("Meilisearch has no %s index yet: rebuild it", self.names.shops)
                return empty_answer(query, started)
            raise
        return to_answer(response, query, self.names, self.synonyms, started)

    def get(self, entity_id: str) -> dict[str, Any] | None:
        """The shop document, found by a filtered search (a search key may not read documents
        by id: that is the ``documents.get`` action)."""
        parameters = {
            "filter": _ids_filter([entity_id]),
            "limit": 1,
            "attributesToRetrieve": list(SHOP_FIELDS),
        }
        try:
            found = self.search_client.index(self.names.shops).search("", parameters)
        except MeilisearchApiError as error:
            if error.code == "index_not_found":
                return None
            raise
        hits = found.get("hits") or []
        return {name: hits[0][name] for name in SHOP_FIELDS if name in hits[0]} if hits else None

    def count(self) -> int:
        """Shops in the index: the exact facet count of ``doc_type`` (a search, for the same
        reason as ``get``; facet counts are not capped by ``maxTotalHits``)."""
        parameters = {"limit": 0, "facets": ["doc_type"]}
        try:
            found = self.search_client.index(self.names.shops).search("", parameters)
        except MeilisearchApiError as error:
            if error.code == "index_not_found":
                return 0
            raise
        return int(sum((found.get("facetDistribution") or {}).get("doc_type", {}).values()))

    def close(self) -> None:
        """Nothing to release: the client holds no connection between requests."""

    def drop(self) -> None:
        """Delete both indexes (a test's, or a decommissioned deployment's)."""
        self._drop(self.names)
        self._ready = False

    # -- keys for browsers ---------------------------------------------------------------------

    def search_key(self) -> str:
        """A key that can only search the two indexes (see ``keys``)."""
        return search_key(self.client, [self.names.shops, self.names.offers])

    def tenant_token(self, expires_at: datetime, search_filter: str | None = None) -> str:
        """A short-lived token for a browser, optionally restricted (see ``keys``)."""
        indexes = [self.names.shops, self.names.offers]
        return tenant_token(self.client, indexes, expires_at, search_filter)

    def __enter__(self) -> MeiliBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _split(entities: Iterable[Entity]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shops, offers = [], []
    for entity in entities:
        shop, *rest = entity_documents(entity)
        shops.append(to_meili(shop))
        offers += [to_meili(offer) for offer in rest]
    return shops, offers


def _ids_filter(ids: Sequence[str]) -> str:
    quoted = ", ".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in ids)
    return f"entity_id IN [{quoted}]"


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
