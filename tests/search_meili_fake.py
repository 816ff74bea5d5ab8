"""A Meilisearch stand-in on a real loopback HTTP server, for tests that cannot run the server.

It records every request and checks it against Meilisearch's official OpenAPI document and the
rules its reference states in prose (``search_meili_api.check``), plus what needs an index's
settings (filters and facets on filterable attributes, sorts on sortable ones, valid document
ids); every answer it gives is checked against the same document. Keys are enforced as the
reference says: the master key may do anything; an API key only its ``actions`` on its
``indexes``; a tenant token (a JWT signed with a key) only searches, within its ``searchRules``.

It answers the way the documentation says Meilisearch answers: writes are tasks (202 with a
summarised task), a task goes enqueued -> processing -> succeeded (or failed, with its error
object) as it is polled, and is applied then, in order; swaps exchange two indexes at once.
Searches match and rank as ``search_meili_engine`` documents (last-word prefix, typos by word
length, synonyms, stop words, bucket-sort ranking with a geo sort); ``distinctAttribute``
thins the hits but not the facet counts or ``estimatedTotalHits``; no query reaches beyond
``pagination.maxTotalHits`` (1000 by default); a federated multi-search merges the queries'
hits by weighted ranking score, with ``_federation`` on each hit and ``facetsByIndex``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

try:
    from tests import search_meili_engine as engine
    from tests.search_meili_api import DOCUMENT_ID, check
    from tests.search_meili_filter import Filter
    from tests.search_meili_openapi import MeiliOpenAPI
except ImportError:  # tests/ on sys.path rather than as a package
    import search_meili_engine as engine  # type: ignore[no-redef]
    from search_meili_api import DOCUMENT_ID, check  # type: ignore[no-redef]
    from search_meili_filter import Filter  # type: ignore[no-redef]
    from search_meili_openapi import MeiliOpenAPI  # type: ignore[no-redef]

MASTER_KEY = "test-master-key"
NOW = "2025-01-01T00:00:00.000000Z"
#: Meilisearch's defaults for the settings the stand-in reads.
MAX_TOTAL_HITS = 1000
MAX_VALUES_PER_FACET = 100


@dataclass
class Grant:
    """What the request's credentials allow: actions, index patterns, tenant search rules."""

    actions: set[str]
    indexes: list[str]
    rules: dict[str, Any] | None = None

    def may(self, needed: set[str]) -> bool:
        return any(_covers(held, need) for held in self.actions for need in needed)

    def index(self, uid: str) -> bool:
        return any(_covers(pattern, uid) for pattern in self.indexes)

    def rule(self, uid: str) -> Any:
        """The tenant token's filter for ``uid`` (None: no restriction)."""
        if self.rules is None:
            return None
        for pattern, rule in self.rules.items():
            if _covers(pattern, uid):
                return (rule or {}).get("filter") if isinstance(rule, dict) else None
        return None


def _covers(pattern: str, value: str) -> bool:
    """Meilisearch wildcards: ``*`` alone, or a trailing ``*`` (``documents.*``, ``t_*``)."""
    return (
        pattern == "*"
        or pattern == value
        or (pattern.endswith("*") and value.startswith(pattern[:-1]))
    )


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
        #: Requests refused for their key: the backend sent what its key may not do.
        self.refused: list[str] = []
        self.api = MeiliOpenAPI.load()
        self.lock = threading.RLock()
        self.url = ""
        self._grant = Grant({"*"}, ["*"])

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
            problems = check(method, path, params, body, self.api)
            if body is not None and "application/json" not in headers.get("content-type", ""):
                problems.append(f"{method} {path}: body without Content-Type: application/json")
            if problems:
                self.violations += problems
                status, answer = _error(400, "bad_request", "; ".join(problems))
            else:
                grant, refusal = self._authorise(method, path, body, headers)
                if refusal is not None:
                    self.refused.append(f"{method} {path}: {refusal[1]['message']}")
                    status, answer = refusal
                else:
                    self._grant = grant
                    parts_list = [p for p in path.split("/") if p]
                    status, answer = self._route(method, parts_list, params, body)
            if self.api is not None:
                self.violations += self.api.response_problems(method, path, status, answer)
            return status, answer

    # -- keys ---------------------------------------------------------------------------------

    def _authorise(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[Grant, tuple[int, Any] | None]:
        nothing = Grant(set(), [])
        header = headers.get("authorization", "")
        if not header.startswith("Bearer "):
            message = (
                "The Authorization header is missing. It must use the bearer authorization method."
            )
            return nothing, _error(401, "missing_authorization_header", message, "auth")
        credential = header.removeprefix("Bearer ").strip()
        grant = self._grant_for(credential)
        if grant is None:
            return nothing, _error(
                403, "invalid_api_key", "The provided API key is invalid.", "auth"
            )
        needed = self.api.actions(method, path) if self.api else {"*"}
        indexes = _indexes_of(method, path, body)
        if not grant.may(needed) or not all(grant.index(uid) for uid in indexes):
            return nothing, _error(
                403, "invalid_api_key", "The provided API key is invalid.", "auth"
            )
        return grant, None

    def _grant_for(self, credential: str) -> Grant | None:
        if credential == MASTER_KEY:
            return Grant({"*"}, ["*"])
        for key in self.keys:
            if credential == key["key"] and not _expired(key.get("expiresAt")):
                return Grant(set(key["actions"]), list(key["indexes"]))
        if credential.count(".") == 2:
            return self._tenant(credential)
        return None

    def _tenant(self, token: str) -> Grant | None:
        """A tenant token: HS256, signed with the key named by ``apiKeyUid``, which must be
        allowed to search; it may search only the indexes of its ``searchRules``."""
        header, payload, signature = token.split(".")
        try:
            claims = json.loads(_unbase64(payload))
            algorithm = json.loads(_unbase64(header)).get("alg")
        except ValueError:
            return None
        parent = next((k for k in self.keys if k["uid"] == claims.get("apiKeyUid")), None)
        if parent is None or algorithm != "HS256":
            return None
        expected = hmac.new(parent["key"].encode(), f"{header}.{payload}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_unbase64(signature), expected.digest()):
            return None
        if "exp" in claims and claims["exp"] < time.time():
            return None
        if not Grant(set(parent["actions"]), parent["indexes"]).may({"search"}):
            return None
        rules = claims.get("searchRules")
        if isinstance(rules, list):
            rules = {uid: None for uid in rules}
        if not isinstance(rules, dict):
            return None
        patterns = [p for p in rules if Grant(set(), parent["indexes"]).index(p.rstrip("*") or "*")]
        return Grant({"search"}, patterns, rules)

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
            case ("POST", ["indexes", uid, "search"]):
                return self._single_search(uid, body)
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
            case ("DELETE", ["keys", key_or_uid]):
                kept = [k for k in self.keys if key_or_uid not in (k["key"], k["uid"])]
                if len(kept) == len(self.keys):
                    return _error(404, "api_key_not_found", f"API key `{key_or_uid}` not found.")
                self.keys = kept
                return 204, None
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
        merged: list[tuple[float, int, int, dict[str, Any]]] = []
        candidates: dict[str, dict[int, dict[str, Any]]] = {}
        estimated = 0
        for position, query in enumerate(body["queries"]):
            index = self.indexes.get(query["indexUid"])
            if index is None:
                message = f"Inside `.queries[{position}]`: Index `{query['indexUid']}` not found."
                return _error(400, "index_not_found", message)
            try:
                matching, ranked = self._search(index, query)
            except ValueError as error:
                return _error(400, "invalid_search_filter", str(error))
            estimated += len(matching)
            candidates.setdefault(index.uid, {}).update({id(d): d for d in matching})
            weight = float((query.get("federationOptions") or {}).get("weight", 1.0))
            for order, item in enumerate(ranked):
                hit = self._hit(item, query)
                hit["_federation"] = {
                    "indexUid": index.uid,
                    "queriesPosition": position,
                    "weightedRankingScore": round(weight * item.score, 4),
                }
                merged.append((weight * item.score, position, order, hit))
        merged.sort(key=lambda item: (-item[0], item[1], item[2]))
        offset, limit = federation.get("offset", 0), federation.get("limit", 20)
        response: dict[str, Any] = {
            "hits": [hit for *_, hit in merged[offset : offset + limit]],
            "processingTimeMs": 1,
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": estimated,
        }
        facets_by_index = federation.get("facetsByIndex") or {}
        if facets_by_index:
            response["facetsByIndex"] = {}
            for uid, names in facets_by_index.items():
                index = self.indexes[uid]
                self._check_facets(index, names)
                docs = list(candidates.get(uid, {}).values())
                response["facetsByIndex"][uid] = {
                    "distribution": _distribution(docs, names, index),
                    "stats": {},
                }
        return 200, response

    def _single_search(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        index = self.indexes.get(uid)
        if index is None:
            return _not_found(uid)
        try:
            matching, ranked = self._search(index, body)
        except ValueError as error:
            return _error(400, "invalid_search_filter", str(error))
        offset, limit = body.get("offset", 0), body.get("limit", 20)
        response: dict[str, Any] = {
            "hits": [self._hit(item, body) for item in ranked[offset : offset + limit]],
            "query": body.get("q") or "",
            "processingTimeMs": 1,
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": len(matching),
        }
        if body.get("facets"):
            self._check_facets(index, body["facets"])
            response["facetDistribution"] = _distribution(matching, body["facets"], index)
            response["facetStats"] = {}
        return 200, response

    def _hit(self, item: engine.Ranked, query: dict[str, Any]) -> dict[str, Any]:
        hit = _pick(item.document, query.get("attributesToRetrieve"))
        if item.geo_distance is not None:
            hit["_geoDistance"] = round(item.geo_distance)
        if query.get("showRankingScore"):
            hit["_rankingScore"] = item.score
        return hit

    def _check_facets(self, index: Index, names: list[str]) -> None:
        unknown = set(names) - self._filterable(index)
        if unknown:
            self.violations.append(f"facets on {index.uid}: not filterable: {sorted(unknown)}")

    def _search(
        self, index: Index, query: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[engine.Ranked]]:
        """(every matching document, the reachable hits ranked, distinct applied, capped at
        ``maxTotalHits``)."""
        documents = list(index.documents.values())
        expressions = [query["filter"]] if "filter" in query else []
        rule = self._grant.rule(index.uid)
        if rule:
            expressions.append(rule)  # a tenant token's rule is ANDed with the query's filter
        for expression in expressions:
            matcher = self._checked_filter(expression, index)
            documents = [d for d in documents if matcher.match(d)]
        sortable = set(index.settings.get("sortableAttributes") or [])
        for sort_rule in query.get("sort") or []:
            if sort_rule.startswith("_geoPoint(") and "_geo" not in sortable:
                raise ValueError(f"sort on {index.uid}: _geo is not sortable")
            if not sort_rule.startswith("_geoPoint("):
                raise ValueError(f"sort {sort_rule!r}: only _geoPoint sorts are modelled")
        ranked = engine.rank(
            documents,
            query.get("q") or "",
            index.settings,
            strategy=query.get("matchingStrategy", "last"),
            sort=query.get("sort"),
        )
        matching = [item.document for item in ranked]
        attribute = query.get("distinct") or index.settings.get("distinctAttribute")
        pagination = index.settings.get("pagination") or {}
        cap = pagination.get("maxTotalHits") or MAX_TOTAL_HITS
        return matching, engine.distinct(ranked, attribute)[:cap]


def _distribution(
    documents: list[dict[str, Any]], names: list[str], index: Index
) -> dict[str, dict[str, int]]:
    """Counts over every matching document (distinct does not apply to facets), the most
    frequent ``maxValuesPerFacet`` values of each facet."""
    faceting = index.settings.get("faceting") or {}
    most = faceting.get("maxValuesPerFacet") or MAX_VALUES_PER_FACET
    out: dict[str, dict[str, int]] = {}
    for name in names:
        counts: dict[str, int] = {}
        for document in documents:
            value = document.get(name)
            for item in dict.fromkeys(value if isinstance(value, list) else [value]):
                if item is not None:
                    counts[str(item)] = counts.get(str(item), 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:most]
        out[name] = dict(top)
    return out


def _indexes_of(method: str, path: str, body: Any) -> list[str]:
    """The indexes a request touches, for the key's ``indexes``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "indexes":
        return [parts[1]]
    if method == "POST" and parts == ["indexes"] and isinstance(body, dict):
        return [str(body.get("uid"))]
    if parts == ["multi-search"] and isinstance(body, dict):
        return [str(q.get("indexUid")) for q in body.get("queries") or [] if isinstance(q, dict)]
    if parts == ["swap-indexes"] and isinstance(body, list):
        return [str(uid) for pair in body for uid in (pair or {}).get("indexes") or []]
    return []


def _expired(expires_at: str | None) -> bool:
    if not expires_at:
        return False
    moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    return moment < datetime.now(UTC)


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _pick(document: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields or fields == ["*"]:
        return dict(document)
    return {k: document[k] for k in fields if k in document}


def _error(status: int, code: str, message: str, kind: str = "invalid_request") -> tuple[int, Any]:
    return status, {
        "message": message,
        "code": code,
        "type": kind,
        "link": f"https://docs.meilisearch.com/errors#{code}",
    }


def _not_found(uid: str) -> tuple[int, Any]:
    return _error(404, "index_not_found", f"Index `{uid}` not found.")


@contextlib.contextmanager
def serve_meilisearch(port: int = 0) -> Iterator[FakeMeilisearch]:
    """A running fake on 127.0.0.1 (any free port by default); ``fake.url`` is its base URL."""
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
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
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


if __name__ == "__main__":  # the double as a server, to run the live suites on it
    import signal
    import sys

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with serve_meilisearch(int(sys.argv[1]) if len(sys.argv) > 1 else 7700) as served:
        print(f"MEILI_URL={served.url} MEILI_MASTER_KEY={MASTER_KEY}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        for problem in served.violations:
            print("violation:", problem, file=sys.stderr)
