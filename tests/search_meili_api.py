"""Is a request one Meilisearch accepts? The OpenAPI document first, then what it cannot say.

``check(method, path, params, body)`` returns what is wrong with one request: everything the
official OpenAPI document (``search_meili_openapi``) finds (route, query parameters, body
shape and types, unknown keys), plus the rules the reference states in prose and the schema
cannot express: a federated query carries no pagination or facets (they belong to
``federation``), ``federationOptions`` needs ``federation``, weights are positive, a swap names
exactly two indexes and each index once, ranking rules are known names or ``attr:asc|desc``,
index uids and document ids use the documented characters. Checks that need an index's
settings (filters on filterable attributes, sorts on sortable ones) live in the stand-in.
"""

from __future__ import annotations

import re
from typing import Any

try:
    from tests.search_meili_openapi import MeiliOpenAPI
except ImportError:  # tests/ on sys.path rather than as a package
    from search_meili_openapi import MeiliOpenAPI  # type: ignore[no-redef]

INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,511}$")
RANKING_RULES = ("words", "typo", "proximity", "attribute", "sort", "exactness")
NOT_IN_FEDERATED_QUERY = {"offset", "limit", "page", "hitsPerPage", "facets"}


def check(
    method: str, path: str, params: dict[str, str], body: Any, api: MeiliOpenAPI | None = None
) -> list[str]:
    """What is wrong with one request (empty when nothing)."""
    api = api or MeiliOpenAPI.load()
    problems = api.request_problems(method, path, params, body) if api else []
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "indexes" and not INDEX_UID.match(parts[1]):
        problems.append(f"{method} {path}: invalid index uid {parts[1]!r}")
    if method == "POST" and parts == ["indexes"] and isinstance(body, dict):
        if not INDEX_UID.match(str(body.get("uid", ""))):
            problems.append(f"create index: invalid uid {body.get('uid')!r}")
    elif method == "PATCH" and parts[-1:] == ["settings"] and isinstance(body, dict):
        for rule in body.get("rankingRules") or []:
            if rule not in RANKING_RULES and not re.fullmatch(r"[\w.]+:(asc|desc)", str(rule)):
                problems.append(f"settings.rankingRules: unknown rule {rule!r}")
    elif method == "POST" and parts == ["swap-indexes"]:
        problems += _swap(body)
    elif method == "POST" and parts == ["multi-search"] and isinstance(body, dict):
        problems += _multi_search(body)
    elif (
        method == "POST"
        and parts == ["keys"]
        and isinstance(body, dict)
        and "expiresAt" not in body
    ):
        problems.append("create key: expiresAt is required (null for no expiry)")
    return problems


def _swap(body: Any) -> list[str]:
    if not isinstance(body, list) or not body:
        return ["swap-indexes: the body must be a non-empty array of {'indexes': [a, b]}"]
    problems = []
    seen: set[str] = set()
    for i, pair in enumerate(body):
        names = pair.get("indexes") if isinstance(pair, dict) else None
        if not (isinstance(names, list) and len(names) == 2):
            problems.append(f"swap-indexes[{i}].indexes: exactly two index uids expected")
            continue
        if seen & set(names):
            problems.append(f"swap-indexes[{i}]: an index may appear in one pair only")
        seen |= set(names)
    return problems


def _multi_search(body: dict[str, Any]) -> list[str]:
    problems = []
    federated = body.get("federation") is not None
    for i, query in enumerate(body.get("queries") or []):
        if not isinstance(query, dict):
            continue
        where = f"queries[{i}]"
        if federated:
            bad = sorted(NOT_IN_FEDERATED_QUERY & set(query))
            problems += [f"{where}: {k!r} is not allowed in a federated query" for k in bad]
        elif "federationOptions" in query:
            problems.append(f"{where}: federationOptions needs federation")
        weight = (query.get("federationOptions") or {}).get("weight", 1.0)
        if isinstance(weight, (int, float)) and weight < 0:
            problems.append(f"{where}.federationOptions.weight: must be positive")
    return problems
