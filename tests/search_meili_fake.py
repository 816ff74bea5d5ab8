"""A Meilisearch stand-in on a real loopback HTTP server, for tests that cannot run the server.

It records every request, checks it against the documented API (``search_meili_api.check``,
plus the checks that need an index's settings: filters and facets on filterable attributes,
sorts on sortable ones, valid document ids, a master key in ``Authorization``) and answers the
way the documentation says Meilisearch answers: writes are tasks (202 with a summarised task),
a task goes enqueued -> processing -> succeeded (or failed, with its error object) as it is
polled, and is applied then, in order; swaps exchange two indexes at once; a federated
multi-search returns one merged list with ``_federation`` on each hit and ``facetsByIndex``.

Searching is deliberately naive (every query word must start a word of a searchable attribute;
no typos, no ranking beyond the query weights): the behavioural suite runs the real engine
when ``MEILI_URL`` is set. Filters are evaluated exactly, with a parser of the filter grammar.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

try:
    from tests.search_meili_api import DOCUMENT_ID, check
    from tests.search_meili_filter import Filter
except ImportError:  # tests/ on sys.path rather than as a package
    from search_meili_api import DOCUMENT_ID, check  # type: ignore[no-redef]
    from search_meili_filter import Filter  # type: ignore[no-redef]

MASTER_KEY = "test-master-key"
NOW = "2025-01-01T00:00:00.000000Z"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Index:
    uid: str
    primary_key: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeMeilisearch:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.indexes: dict[str, Index] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.effects: dict[int, Any] = {}
        self.keys: list[dict[str, Any]] = []
        self.failures: dict[str, tuple[str, str]] = {}
        self.lock = threading.RLock()
        self.url = ""

    # -- test controls ------------------------------------------------------------------------

    def fail_next(self, task_type: str, code: str, message: str) -> None:
        """The next task of this type fails with this error."""
        self.failures[task_type] = (code, message)

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    # -- dispatch -----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        parts = urlsplit(target)
        path, params = unquote(parts.path), dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            self.requests.append(Recorded(method, path, params, body, headers))
            problems = check(method, path, params, body)
            if headers.get("authorization") != f"Bearer {MASTER_KEY}":
                problems.append(f"{method} {path}: no master key in Authorization")
            if body is not None and "application/json" not in headers.get("content-type", ""):
                problems.append(f"{method} {path}: body without Content-Type: application/json")
            if problems:
                self.violations += problems
                return _error(400, "bad_request", "; ".join(problems))
            return self._route(method, [p for p in path.split("/") if p], params, body)

    def _route(
        self, method: str, parts: list[str], params: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        match (method, parts):
            case ("POST", ["indexes"]):
                return self._enqueue("indexCreation", body["uid"], ("create", body))
            case ("GET", ["indexes", uid]):
                index = self.indexes.get(uid)
                if index is None:
                    return _not_found(uid)
                return 200, {
                    "uid": uid,
                    "primaryKey": index.primary_key,
                    "createdAt": NOW,
                    "updatedAt": NOW,
                }
            case ("DELETE", ["indexes", uid]):
                return self._enqueue("indexDeletion", uid, ("delete", None))
            case ("PATCH", ["indexes", uid, "settings"]):
                return self._enqueue("settingsUpdate", uid, ("settings", body))
            case ("POST", ["indexes", uid, "documents"]):
                return self._enqueue("documentAdditionOrUpdate", uid, ("add", (body, params)))
            case ("POST", ["indexes", uid, "documents", "delete"]):
                return self._enqueue("documentDeletion", uid, ("delete_filter", body["filter"]))
            case ("POST", ["indexes", uid, "documents", "fetch"]):
                return self._fetch(uid, body)
            case ("GET", ["indexes", uid, "documents", doc_id]):
                return self._document(uid, doc_id, params)
            case ("GET", ["indexes", uid, "stats"]):
                if uid not in self.indexes:
                    return _not_found(uid)
                count = len(self.indexes[uid].documents)
                return 200, {
                    "numberOfDocuments": count,
                    "isIndexing": False,
                    "fieldDistribution": {},
                }
            case ("POST", ["swap-indexes"]):
                return self._enqueue("indexSwap", None, ("swap", body))
            case ("GET", ["tasks", task_uid]):
                return self._poll(int(task_uid))
            case ("POST", ["multi-search"]):
                return self._multi_search(body)
            case ("GET", ["keys"]):
                offset, limit = int(params.get("offset", 0)), int(params.get("limit", 20))
                page = self.keys[offset : offset + limit]
                return 200, {
                    "results": page,
                    "offset": offset,
                    "limit": limit,
                    "total": len(self.keys),
                }
            case ("POST", ["keys"]):
                key = {
                    "name": body.get("name"),
                    "description": body.get("description"),
                    "key": secrets.token_hex(32),
                    "uid": str(uuid.uuid4()),
                    "actions": body["actions"],
                    "indexes": body["indexes"],
                    "expiresAt": body["expiresAt"],
                    "createdAt": NOW,
                    "updatedAt": NOW,
                }
                self.keys.append(key)
                return 201, key
            case ("GET", ["keys", key_or_uid]):
                for key in self.keys:
                    if key_or_uid in (key["key"], key["uid"]):
                        return 200, key
                return _error(404, "api_key_not_found", f"API key `{key_or_uid}` not found.")
        return _error(404, "not_found", f"{method} /{'/'.join(parts)}")

    # -- tasks --------------------------------------------------------------------------------

    def _enqueue(self, task_type: str, uid: str | None, effect: Any) -> tuple[int, Any]:
        task_uid = len(self.tasks)
        self.tasks[task_uid] = {
            "uid": task_uid,
            "batchUid": None,
            "indexUid": uid,
            "status": "enqueued",
            "type": task_type,
            "canceledBy": None,
            "details": {},
            "error": None,
            "duration": None,
            "enqueuedAt": NOW,
            "startedAt": None,
            "finishedAt": None,
        }
        self.effects[task_uid] = effect
        summary = {k: self.tasks[task_uid][k] for k in ("indexUid", "status", "type", "enqueuedAt")}
        return 202, {"taskUid": task_uid, **summary}

    def _poll(self, task_uid: int) -> tuple[int, Any]:
        if task_uid not in self.tasks:
            return _error(404, "task_not_found", f"Task `{task_uid}` not found.")
        for earlier in range(task_uid + 1):  # the queue runs in order
            self._advance(earlier, to_end=earlier < task_uid)
        return 200, dict(self.tasks[task_uid])

    def _advance(self, task_uid: int, to_end: bool) -> None:
        task = self.tasks[task_uid]
        if task["status"] == "enqueued":
            task.update(status="processing", startedAt=NOW)
            if not to_end:
                return
        if task["status"] != "processing":
            return
        failure = self.failures.pop(task["type"], None)
        error = failure or self._apply(task, self.effects[task_uid])
        if error:
            code, message = error
            link = f"https://docs.meilisearch.com/errors#{code}"
            task.update(
                status="failed",
                error={"message": message, "code": code, "type": "invalid_request", "link": link},
            )
        else:
            task["status"] = "succeeded"
        task.update(finishedAt=NOW, duration="PT0.001S")

    def _apply(self, task: dict[str, Any], effect: Any) -> tuple[str, str] | None:
        kind, payload = effect
        uid = task["indexUid"]
        if kind == "create":
            if uid in self.indexes:
                return "index_already_exists", f"Index `{uid}` already exists."
            self.indexes[uid] = Index(uid, payload.get("primaryKey"))
            return None
        if kind == "swap":
            for pair in payload:
                a, b = pair["indexes"]
                if a not in self.indexes or b not in self.indexes:
                    return "index_not_found", f"Indexes `{a}`, `{b}` not found."
            for pair in payload:
                a, b = pair["indexes"]
                self.indexes[a], self.indexes[b] = self.indexes[b], self.indexes[a]
                self.indexes[a].uid, self.indexes[b].uid = a, b
            return None
        index = self.indexes.get(uid)
        if kind == "add" and index is None:
            index = self.indexes[uid] = Index(uid, payload[1].get("primaryKey"))
        if index is None:
            return "index_not_found", f"Index `{uid}` not found."
        if kind == "delete":
            del self.indexes[uid]
        elif kind == "settings":
            index.settings.update(payload)
        elif kind == "add":
            documents, params = payload
            pk = index.primary_key or params.get("primaryKey")
            index.primary_key = pk
            for document in documents:
                doc_id = document.get(pk) if pk else None
                if not isinstance(doc_id, (str, int)) or not DOCUMENT_ID.match(str(doc_id)):
                    return "invalid_document_id", f"Document identifier `{doc_id}` is invalid."
            for document in documents:
                index.documents[str(document[pk])] = document
        elif kind == "delete_filter":
            matcher = Filter(payload, self._filterable(index))
            index.documents = {k: d for k, d in index.documents.items() if not matcher.match(d)}
        return None

    # -- reads --------------------------------------------------------------------------------

    def _filterable(self, index: Index) -> set[str]:
        return set(index.settings.get("filterableAttributes", []))

    def _fetch(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        index = self.indexes.get(uid)
        if index is None:
            return _not_found(uid)
        matching = list(index.documents.values())
        if "filter" in body:
            matcher = self._checked_filter(body["filter"], index)
            matching = [d for d in matching if matcher.match(d)]
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        fields = body.get("fields")
        page = [_pick(d, fields) for d in matching[offset : offset + limit]]
        return 200, {"results": page, "offset": offset, "limit": limit, "total": len(matching)}

    def _document(self, uid: str, doc_id: str, params: dict[str, str]) -> tuple[int, Any]:
        index = self.indexes.get(uid)
        if index is None:
            return _not_found(uid)
        document = index.documents.get(doc_id)
        if document is None:
            return _error(404, "document_not_found", f"Document `{doc_id}` not found.")
        fields = params["fields"].split(",") if "fields" in params else None
        return 200, _pick(document, fields)

    def _checked_filter(self, expression: Any, index: Index) -> Filter:
        try:
            return Filter(expression, self._filterable(index))
        except ValueError as error:
            self.violations.append(f"filter on {index.uid}: {error}")
            raise

    def _multi_search(self, body: dict[str, Any]) -> tuple[int, Any]:
        federation = body.get("federation")
        if federation is None:
            self.violations.append("multi-search without federation: the backend federates")
            return _error(400, "bad_request", "expected a federated search")
        scored: list[tuple[float, int, dict[str, Any]]] = []
        candidates: dict[str, list[dict[str, Any]]] = {}
        for position, query in enumerate(body["queries"]):
            index = self.indexes.get(query["indexUid"])
            if index is None:
                return _error(
                    400,
                    "index_not_found",
                    f"Inside `.queries[{position}]`: Index `{query['indexUid']}` not found.",
                )
            try:
                found = self._search(index, query)
            except ValueError as error:
                return _error(400, "invalid_search_filter", str(error))
            weight = query.get("federationOptions", {}).get("weight", 1.0)
            candidates.setdefault(index.uid, []).extend(found)
            for document in found:
                hit = _pick(document, query.get("attributesToRetrieve"))
                hit["_federation"] = {
                    "indexUid": index.uid,
                    "queriesPosition": position,
                    "weightedRankingScore": weight,
                }
                scored.append((weight, position, hit))
        scored.sort(key=lambda item: (-item[0], item[1]))
        offset, limit = federation.get("offset", 0), federation.get("limit", 20)
        response: dict[str, Any] = {
            "hits": [hit for _, _, hit in scored[offset : offset + limit]],
            "processingTimeMs": 1,
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": len(scored),
        }
        facets_by_index = federation.get("facetsByIndex") or {}
        if facets_by_index:
            response["facetsByIndex"] = {}
            for uid, names in facets_by_index.items():
                index = self.indexes[uid]
                unknown = set(names) - self._filterable(index)
                if unknown:
                    self.violations.append(
                        f"facetsByIndex.{uid}: not filterable: {sorted(unknown)}"
                    )
                docs = list({id(d): d for d in candidates.get(uid, [])}.values())
                response["facetsByIndex"][uid] = {
                    "distribution": _distribution(docs, names),
                    "stats": {},
                }
        return 200, response

    def _search(self, index: Index, query: dict[str, Any]) -> list[dict[str, Any]]:
        documents = list(index.documents.values())
        if "filter" in query:
            matcher = self._checked_filter(query["filter"], index)
            documents = [d for d in documents if matcher.match(d)]
        for rule in query.get("sort") or []:
            if rule.startswith("_geoPoint(") and "_geo" not in index.settings.get(
                "sortableAttributes", []
            ):
                self.violations.append(f"sort on {index.uid}: _geo is not sortable")
        words = re.findall(r"\w+", (query.get("q") or "").lower())
        searchable = index.settings.get("searchableAttributes", ["*"])
        return [d for d in documents if all(_starts_a_word(d, w, searchable) for w in words)]


def _starts_a_word(document: dict[str, Any], word: str, searchable: list[str]) -> bool:
    fields = document.keys() if searchable == ["*"] else searchable
    for name in fields:
        value = document.get(name)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and any(
                w.startswith(word) for w in re.findall(r"\w+", text.lower())
            ):
                return True
    return False


def _distribution(documents: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in names:
        counts: dict[str, int] = {}
        for document in documents:
            value = document.get(name)
            for item in dict.fromkeys(value if isinstance(value, list) else [value]):
                if item is not None:
                    counts[str(item)] = counts.get(str(item), 0) + 1
        out[name] = counts
    return out


def _pick(document: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields or fields == ["*"]:
        return dict(document)
    return {k: document[k] for k in fields if k in document}


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {
        "message": message,
        "code": code,
        "type": "invalid_request",
        "link": f"https://docs.meilisearch.com/errors#{code}",
    }


def _not_found(uid: str) -> tuple[int, Any]:
    return _error(404, "index_not_found", f"Index `{uid}` not found.")


@contextlib.contextmanager
def serve_meilisearch() -> Iterator[FakeMeilisearch]:
    """A running fake on 127.0.0.1; ``fake.url`` is its base URL."""
    fake = FakeMeilisearch()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                fake.violations.append(f"{self.command} {self.path}: body is not JSON")
                status, answer = _error(400, "malformed_payload", "not JSON")
            else:
                try:
                    status, answer = fake.handle(self.command, self.path, body, headers)
                except Exception as error:  # a bug of the fake or a request it cannot parse
                    fake.violations.append(f"{self.command} {self.path}: {error!r}")
                    status, answer = _error(400, "bad_request", repr(error))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
