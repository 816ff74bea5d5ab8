"""Meilisearch's official OpenAPI document (v1.15.2) as the judge of requests and answers.

``MeiliOpenAPI.load()`` reads ``shared/data/meilisearch/open-api-1.15.2.json`` beside the
repository (the nearest ancestor directory holding it), or returns None when it is absent.
``request_problems`` checks a request's route, path and query parameters and JSON body;
``response_problems`` checks an answer against the schema of its status; ``actions`` gives the
key actions a route needs (its ``security`` scopes).

The document is generated from the server's code and is right about shapes, but a few of its
statements contradict the server and its reference pages; each is corrected below, with the
reason, rather than weakening the checks as a whole:

- fields the server gives a default are listed as ``required`` (``DEFAULTED``);
- request objects are left open, while the server refuses unknown fields (deserr's
  ``deny_unknown_fields``): request bodies are checked as closed objects;
- several 2xx codes are wrong (an enqueued task answers 202; a created key 201): a success
  answer is checked against the document's one success schema, whatever its 2xx code;
- a task's ``startedAt``/``finishedAt`` are null until it starts/finishes;
- two routes carry the wrong scopes (``ACTIONS``);
- ``SearchQuery`` (the body of ``POST /indexes/{uid}/search``) is spelled in snake_case, while
  the server, its reference and the document's own ``SearchQueryWithIndex`` (the same query
  plus ``indexUid``) use camelCase: it is checked as ``SearchQueryWithIndex`` without
  ``indexUid`` and ``federationOptions``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path("shared") / "data" / "meilisearch" / "open-api-1.15.2.json"
BASE = "urn:meilisearch-openapi"

#: Marked required in the document, defaulted by the server (reference: "optional").
DEFAULTED: dict[str, set[str]] = {
    "SearchQueryWithIndex": {
        "retrieveVectors",
        "cropLength",
        "showRankingScore",
        "showRankingScoreDetails",
        "showMatchesPosition",
        "highlightPreTag",
        "highlightPostTag",
        "cropMarker",
        "matchingStrategy",
    },
    "Federation": {"limit", "offset", "facetsByIndex"},
    "FederationOptions": {"weight"},
    "CreateApiKey": {"uid"},
    "BrowseQuery": {"offset", "limit", "retrieveVectors"},
}
#: Query parameters marked required in the document that the server defaults.
DEFAULTED_PARAMETERS = {"csvDelimiter", "offset", "limit"}
#: Scopes the document gets wrong; the reference's list of key actions says these.
ACTIONS = {
    ("post", "/swap-indexes"): {"indexes.swap", "indexes.*", "*"},
    ("post", "/indexes/{indexUid}/documents/fetch"): {"documents.get", "documents.*", "*"},
}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation: dict[str, Any]
    params: dict[str, str]


class MeiliOpenAPI:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.requests = _request_side(document)
        self.responses = _response_side(document)
        self._routes = [
            (method, template, _pattern(template), operation)
            for template, operations in document["paths"].items()
            for method, operation in operations.items()
        ]

    @classmethod
    def load(cls, start: Path | None = None) -> MeiliOpenAPI | None:
        path = find_document(start)
        return None if path is None else _load(path)

    @property
    def version(self) -> str:
        return str(self.document["info"]["version"])

    def route(self, method: str, path: str) -> Route | None:
        for verb, template, pattern, operation in self._routes:
            found = pattern.fullmatch(path)
            if verb == method.lower() and found:
                return Route(verb, template, operation, found.groupdict())
        return None

    def actions(self, method: str, path: str) -> set[str]:
        """The key actions that may call this route (any one of them suffices)."""
        route = self.route(method, path)
        if route is None:
            return set()
        fixed = ACTIONS.get((route.method, route.template))
        if fixed is not None:
            return set(fixed)
        scopes = [s for need in route.operation.get("security", []) for s in need.get("Bearer", [])]
        return set(scopes)

    def request_problems(
        self, method: str, path: str, params: dict[str, str], body: Any
    ) -> list[str]:
        route = self.route(method, path)
        where = f"{method} {path}"
        if route is None:
            return [f"{where}: no such route in the OpenAPI document {self.version}"]
        problems = []
        declared = {
            p["name"]: p for p in route.operation.get("parameters", []) if p.get("in") == "query"
        }
        problems += [
            f"{where}: undocumented query parameter {p!r}" for p in params if p not in declared
        ]
        for name, parameter in declared.items():
            if name not in params:
                if parameter.get("required") and name not in DEFAULTED_PARAMETERS:
                    problems.append(f"{where}: missing query parameter {name!r}")
                continue
            problems += _parameter_problems(params[name], parameter.get("schema", {}), where, name)
        content = route.operation.get("requestBody", {}).get("content", {})
        if body is None:
            if route.operation.get("requestBody", {}).get("required"):
                problems.append(f"{where}: a body is required")
            return problems
        if "application/json" not in content:
            return [*problems, f"{where}: the route takes no JSON body"]
        pointer = _pointer(route, "requestBody", "content", "application/json", "schema")
        problems += _validate(self.requests, pointer, body, f"{where} body")
        return problems

    def response_problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        route = self.route(method, path)
        where = f"{method} {path} -> {status}"
        if route is None:
            return [f"{where}: no such route"]
        responses = route.operation["responses"]
        if 200 <= status < 300:
            codes = [c for c in responses if c.startswith("2")]
        else:  # errors: the documented error object, whichever code the document lists
            codes = [c for c in responses if not c.startswith("2")][:1]
            if not codes:
                return _validate(self.responses, "#/components/schemas/ResponseError", body, where)
        if not codes:
            return [f"{where}: the document lists no such answer"]
        schema = responses[codes[0]].get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if body is None else [f"{where}: the document lists no body"]
        pointer = _pointer(route, "responses", codes[0], "content", "application/json", "schema")
        return _validate(self.responses, pointer, body, where)


def find_document(start: Path | None = None) -> Path | None:
    """The OpenAPI document in the nearest ancestor's ``shared/data/meilisearch``."""
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        if (folder / DOCUMENT).is_file():
            return folder / DOCUMENT
    return None


@cache
def _load(path: Path) -> MeiliOpenAPI:
    return MeiliOpenAPI(json.loads(path.read_text(encoding="utf-8")))


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )
    return re.compile(regex)


def _pointer(route: Route, *keys: str) -> str:
    escaped = [k.replace("~", "~0").replace("/", "~1") for k in ("paths", route.template)]
    escaped.append(route.method)
    escaped += [k.replace("~", "~0").replace("/", "~1") for k in keys]
    return "#/" + "/".join(escaped)


def _validate(registry: Registry, pointer: str, value: Any, where: str) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{BASE}{pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '.'}: {e.message}" for e in errors]


def _parameter_problems(value: str, schema: dict[str, Any], where: str, name: str) -> list[str]:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and not re.fullmatch(r"\d+", value):
        return [f"{where}: query parameter {name!r} must be an integer, got {value!r}"]
    if "boolean" in kinds and value not in ("true", "false"):
        return [f"{where}: query parameter {name!r} must be true or false, got {value!r}"]
    return []


def _registry(document: dict[str, Any]) -> Registry:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(BASE, resource)


def _request_side(document: dict[str, Any]) -> Registry:
    fixed = copy.deepcopy(document)
    schemas = fixed["components"]["schemas"]
    query = copy.deepcopy(schemas["SearchQueryWithIndex"])
    for name in ("indexUid", "federationOptions"):
        query["properties"].pop(name)
    query["required"] = [r for r in query["required"] if r != "indexUid"]
    schemas["SearchQuery"] = {**query, "description": "SearchQueryWithIndex less indexUid"}
    DEFAULTED.setdefault("SearchQuery", DEFAULTED["SearchQueryWithIndex"])
    for name, schema in schemas.items():
        if name in DEFAULTED:
            schema["required"] = [r for r in schema.get("required", []) if r not in DEFAULTED[name]]
    _close_objects(fixed["components"]["schemas"])
    return _registry(fixed)


def _close_objects(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for child in node.values():
            _close_objects(child)
    elif isinstance(node, list):
        for child in node:
            _close_objects(child)


def _response_side(document: dict[str, Any]) -> Registry:
    fixed = copy.deepcopy(document)
    task = fixed["components"]["schemas"]["TaskView"]["properties"]
    for name in ("startedAt", "finishedAt"):
        task[name]["type"] = ["string", "null"]
    return _registry(fixed)
