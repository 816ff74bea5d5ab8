"""The Meilisearch HTTP API as documented, for checking what our backend sends (no server here).

Sources: the Meilisearch reference (meilisearch.com/docs/reference/api: settings, documents,
indexes, swap-indexes, tasks, keys, multi-search) and, where the prose is thin, the request
types of the server itself (``crates/meilisearch/src/search/federated/types.rs``: ``Federation``
and ``FederationOptions`` deny unknown fields; ``SearchQuery`` likewise). v1.11 to v1.x.

``check(method, path, params, body)`` returns what is wrong with one request: an undocumented
key, a wrong type, a federated query carrying pagination, a bad swap body. Checks that need the
index's settings (filters on filterable attributes only, sorts on sortable ones) live in the
fake server, which knows them.
"""

from __future__ import annotations

import re
from typing import Any

INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,511}$")

LIST_OF_STRINGS = "list[str]"
#: PATCH /indexes/{uid}/settings: every documented setting and its type.
SETTINGS: dict[str, Any] = {
    "displayedAttributes": LIST_OF_STRINGS,
    "searchableAttributes": LIST_OF_STRINGS,
    "filterableAttributes": LIST_OF_STRINGS,
    "sortableAttributes": LIST_OF_STRINGS,
    "rankingRules": LIST_OF_STRINGS,
    "stopWords": LIST_OF_STRINGS,
    "nonSeparatorTokens": LIST_OF_STRINGS,
    "separatorTokens": LIST_OF_STRINGS,
    "dictionary": LIST_OF_STRINGS,
    "synonyms": "dict[str, list[str]]",
    "distinctAttribute": "str|None",
    "proximityPrecision": ("byWord", "byAttribute"),
    "typoTolerance": {
        "enabled": bool,
        "minWordSizeForTypos": {"oneTypo": int, "twoTypos": int},
        "disableOnWords": LIST_OF_STRINGS,
        "disableOnAttributes": LIST_OF_STRINGS,
        "disableOnNumbers": bool,
    },
    "faceting": {"maxValuesPerFacet": int, "sortFacetValuesBy": "dict[str, alpha|count]"},
    "pagination": {"maxTotalHits": int},
    "embedders": dict,
    "searchCutoffMs": "int|None",
    "localizedAttributes": list,
    "facetSearch": bool,
    "prefixSearch": ("indexingTime", "disabled"),
}
RANKING_RULES = ("words", "typo", "proximity", "attribute", "sort", "exactness")

#: A query of POST /multi-search (SearchQueryWithIndex).
SEARCH_QUERY = {
    "indexUid",
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "showMatchesPosition",
    "filter",
    "sort",
    "distinct",
    "facets",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybrid",
    "vector",
    "retrieveVectors",
    "showRankingScore",
    "showRankingScoreDetails",
    "federationOptions",
}
#: Rejected inside a federated query: pagination belongs to ``federation``; facets to
#: ``federation.facetsByIndex``.
NOT_IN_FEDERATED_QUERY = {"offset", "limit", "page", "hitsPerPage", "facets"}
FEDERATION = {"limit": int, "offset": int, "facetsByIndex": dict, "mergeFacets": dict}
FEDERATION_OPTIONS = {"weight": (int, float), "remote": str, "queryPosition": int}
MATCHING_STRATEGIES = ("last", "all", "frequency")

CREATE_INDEX = {"uid": str, "primaryKey": (str, type(None))}
DELETE_BY_FILTER = {"filter": (str, list)}
FETCH_DOCUMENTS = {"offset": int, "limit": int, "fields": list, "filter": (str, list)}
CREATE_KEY = {
    "actions": list,
    "indexes": list,
    "expiresAt": (str, type(None)),
    "description": (str, type(None)),
    "name": (str, type(None)),
    "uid": str,
}
KEY_ACTIONS = {"search", "documents.add", "documents.get", "documents.delete", "indexes.*", "*"}
SWAP = {"indexes": list, "rename": bool}
DOCUMENTS_PARAMS = {"primaryKey", "csvDelimiter", "customMetadata", "skipCreation"}


def check(method: str, path: str, params: dict[str, str], body: Any) -> list[str]:
    """What is wrong with one request, per the documentation (empty when nothing)."""
    parts = [p for p in path.split("/") if p]
    route = (method, *_shape(parts))
    problems: list[str] = []
    if route == ("PATCH", "indexes", "{uid}", "settings"):
        problems += _object(body, SETTINGS, "settings")
        for rule in (body or {}).get("rankingRules") or []:
            if rule not in RANKING_RULES and not re.fullmatch(r"[\w.]+:(asc|desc)", rule):
                problems.append(f"settings.rankingRules: unknown rule {rule!r}")
    elif route == ("POST", "indexes"):
        problems += _object(body, CREATE_INDEX, "create index", required={"uid"})
        if isinstance(body, dict) and not INDEX_UID.match(str(body.get("uid", ""))):
            problems.append(f"create index: invalid uid {body.get('uid')!r}")
    elif route == ("POST", "indexes", "{uid}", "documents"):
        unknown = set(params) - DOCUMENTS_PARAMS
        problems += [f"documents: undocumented query parameter {p!r}" for p in sorted(unknown)]
        if not isinstance(body, list) or not all(isinstance(d, dict) for d in body):
            problems.append("documents: the body must be an array of objects")
    elif route == ("POST", "indexes", "{uid}", "documents", "delete"):
        problems += _object(body, DELETE_BY_FILTER, "delete by filter", required={"filter"})
    elif route == ("POST", "indexes", "{uid}", "documents", "fetch"):
        problems += _object(body, FETCH_DOCUMENTS, "fetch documents")
    elif route == ("POST", "swap-indexes"):
        problems += _swap(body)
    elif route == ("POST", "multi-search"):
        problems += _multi_search(body)
    elif route == ("POST", "keys"):
        problems += _object(body, CREATE_KEY, "create key", required={"actions", "indexes"})
        if isinstance(body, dict) and "expiresAt" not in body:
            problems.append("create key: expiresAt is required (null for no expiry)")
        for action in (body or {}).get("actions", []):
            if action not in KEY_ACTIONS:
                problems.append(f"create key: unexpected action {action!r}")
    elif route == ("GET", "indexes", "{uid}", "documents", "{id}"):
        unknown = set(params) - {"fields", "retrieveVectors"}
        problems += [f"get document: undocumented parameter {p!r}" for p in sorted(unknown)]
    elif route == ("GET", "keys"):
        unknown = set(params) - {"offset", "limit"}
        problems += [f"get keys: undocumented parameter {p!r}" for p in sorted(unknown)]
    elif route not in KNOWN_ROUTES:
        problems.append(f"undocumented route {method} {path}")
    return problems


KNOWN_ROUTES = {
    ("GET", "indexes", "{uid}"),
    ("DELETE", "indexes", "{uid}"),
    ("GET", "indexes", "{uid}", "stats"),
    ("GET", "tasks", "{uid}"),
    ("GET", "keys", "{uid}"),
    ("GET", "version"),
    ("GET", "health"),
}


def _shape(parts: list[str]) -> tuple[str, ...]:
    """Path parts with ids replaced: /indexes/shops/documents/abc -> indexes {uid} documents
    {id}."""
    out = []
    for i, part in enumerate(parts):
        previous = parts[i - 1] if i else ""
        if previous in ("indexes", "tasks", "keys"):
            out.append("{uid}")
        elif previous == "documents" and part not in ("delete", "fetch", "delete-batch"):
            out.append("{id}")
        else:
            out.append(part)
    return tuple(out)


def _object(
    body: Any,
    spec: dict[str, Any],
    where: str,
    required: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    if not isinstance(body, dict):
        return [f"{where}: the body must be an object, got {type(body).__name__}"]
    problems = [f"{where}: undocumented key {k!r}" for k in sorted(set(body) - set(spec))]
    problems += [f"{where}: missing {k!r}" for k in sorted(required - set(body))]
    for name, expected in spec.items():
        if name in body:
            problems += _typed(body[name], expected, f"{where}.{name}")
    return problems


def _typed(value: Any, expected: Any, where: str) -> list[str]:
    if isinstance(expected, dict):
        return _object(value, expected, where)
    if expected == LIST_OF_STRINGS:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif expected == "dict[str, list[str]]":
        ok = isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()
        )
    elif expected == "dict[str, alpha|count]":
        ok = isinstance(value, dict) and all(v in ("alpha", "count") for v in value.values())
    elif expected == "str|None":
        ok = value is None or isinstance(value, str)
    elif expected == "int|None":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    elif isinstance(expected, tuple) and all(isinstance(e, str) for e in expected):
        ok = value in expected
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    return [] if ok else [f"{where}: unexpected value {value!r}"]


def _swap(body: Any) -> list[str]:
    if not isinstance(body, list) or not body:
        return ["swap-indexes: the body must be a non-empty array of {'indexes': [a, b]}"]
    problems = []
    seen: set[str] = set()
    for i, pair in enumerate(body):
        problems += _object(pair, SWAP, f"swap-indexes[{i}]", required={"indexes"})
        names = pair.get("indexes") if isinstance(pair, dict) else None
        if not (
            isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)
        ):
            problems.append(f"swap-indexes[{i}].indexes: exactly two index uids expected")
            continue
        if seen & set(names):
            problems.append(f"swap-indexes[{i}]: an index may appear in one pair only")
        seen |= set(names)
    return problems


def _multi_search(body: Any) -> list[str]:
    problems = _object(body, {"queries": list, "federation": (dict, type(None))}, "multi-search")
    if problems or not isinstance(body, dict):
        return problems
    federated = body.get("federation") is not None
    if federated:
        problems += _object(body["federation"], FEDERATION, "federation")
        for uid, facets in (body["federation"].get("facetsByIndex") or {}).items():
            if not (isinstance(facets, list) and all(isinstance(f, str) for f in facets)):
                problems.append(f"federation.facetsByIndex.{uid}: a list of attributes expected")
    for i, query in enumerate(body["queries"]):
        where = f"queries[{i}]"
        if not isinstance(query, dict):
            problems.append(f"{where}: an object expected")
            continue
        problems += [f"{where}: undocumented key {k!r}" for k in sorted(set(query) - SEARCH_QUERY)]
        if "indexUid" not in query:
            problems.append(f"{where}: indexUid is required")
        if federated:
            bad = sorted(NOT_IN_FEDERATED_QUERY & set(query))
            problems += [f"{where}: {k!r} is not allowed in a federated query" for k in bad]
        elif "federationOptions" in query:
            problems.append(f"{where}: federationOptions needs federation")
        if "federationOptions" in query:
            options = query["federationOptions"]
            problems += _object(options, FEDERATION_OPTIONS, f"{where}.federationOptions")
            if isinstance(options, dict) and options.get("weight", 1.0) < 0:
                problems.append(f"{where}.federationOptions.weight: must be positive")
        if query.get("matchingStrategy", "last") not in MATCHING_STRATEGIES:
            problems.append(f"{where}.matchingStrategy: {query['matchingStrategy']!r}")
        for name in ("attributesToRetrieve", "sort", "attributesToSearchOn"):
            if name in query:
                problems += _typed(query[name], LIST_OF_STRINGS, f"{where}.{name}")
        if "filter" in query and not isinstance(query["filter"], (str, list)):
            problems.append(f"{where}.filter: a string or an array expected")
        if "q" in query and not isinstance(query["q"], (str, type(None))):
            problems.append(f"{where}.q: a string expected")
    return problems
