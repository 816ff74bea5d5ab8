"""Meilisearch's filter expressions, parsed and evaluated, for the loopback stand-in.

The grammar of the documentation (``attr = value``, ``attr != value``, ``attr IN [..]``,
``_geoRadius(lat, lng, metres)``, ``NOT``, ``AND``, ``OR``, parentheses; an array is an AND of its
items, a nested array an OR) as far as our backend uses it. Parsing is the check: an expression
Meilisearch would refuse, or an attribute that is not filterable, raises ``ValueError``.
"""

from __future__ import annotations

import math
import re
from typing import Any


class Filter:
    """Meilisearch filter expressions: ``attr = value``, ``attr != value``, ``attr IN [..]``,
    ``_geoRadius(lat, lng, metres)``, ``NOT``, ``AND``, ``OR``, parentheses; an array means
    AND of its items, a nested array OR. Attributes must be filterable."""

    TOKEN = re.compile(r'\s*(?:([()\[\],])|"((?:[^"\\]|\\.)*)"|([^\s()\[\],"]+))')

    def __init__(self, expression: Any, filterable: set[str]):
        self.filterable = filterable
        self.tree = self._parse_any(expression)

    def match(self, document: dict[str, Any]) -> bool:
        return _evaluate(self.tree, document)

    def _parse_any(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return ("AND", [self._item(item) for item in expression])
        self.tokens: list[tuple[str, str]] = []
        for punct, quoted, word in self.TOKEN.findall(expression):
            if punct:
                self.tokens.append((punct, punct))
            elif word:
                self.tokens.append(("word", word))
            else:
                self.tokens.append(("str", _unescape(quoted)))
        self.at = 0
        tree = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"cannot parse filter {expression!r}")
        return tree

    def _item(self, item: Any) -> Any:
        if isinstance(item, list):
            return ("OR", [self._parse_any(x) for x in item])
        return self._parse_any(item)

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def _take(self, kind: str | None = None) -> str:
        token = self._peek()
        if token[0] == "end" or (kind is not None and token[0] != kind):
            raise ValueError(f"expected {kind or 'more'}, found {token[1]!r}")
        self.at += 1
        return token[1]

    def _or(self) -> Any:
        parts = [self._and()]
        while self._peek() == ("word", "OR"):
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else ("OR", parts)

    def _and(self) -> Any:
        parts = [self._not()]
        while self._peek() == ("word", "AND"):
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else ("AND", parts)

    def _not(self) -> Any:
        if self._peek() == ("word", "NOT"):
            self._take()
            return ("NOT", self._not())
        if self._peek()[0] == "(":
            self._take("(")
            inner = self._or()
            self._take(")")
            return inner
        return self._condition()

    def _condition(self) -> Any:
        name = self._take("word")
        if name == "_geoRadius":
            self._take("(")
            args = [float(self._take("word"))]
            while self._peek()[0] == ",":
                self._take(",")
                args.append(float(self._take("word")))
            self._take(")")
            if len(args) != 3 or "_geo" not in self.filterable:
                raise ValueError("_geoRadius(lat, lng, distance) needs a filterable _geo")
            return ("GEO", tuple(args))
        if name not in self.filterable:
            raise ValueError(f"attribute `{name}` is not filterable")
        operator = self._take("word")
        if operator == "IN":
            self._take("[")
            values = [self._value()]
            while self._peek()[0] == ",":
                self._take(",")
                values.append(self._value())
            self._take("]")
            return ("IN", name, values)
        if operator not in ("=", "!="):
            raise ValueError(f"unsupported operator {operator!r}")
        return ("EQ" if operator == "=" else "NE", name, [self._value()])

    def _value(self) -> str:
        kind, value = self._peek()
        if kind not in ("str", "word"):
            raise ValueError(f"expected a value, found {value!r}")
        self.at += 1
        return value


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _evaluate(tree: Any, document: dict[str, Any]) -> bool:
    kind = tree[0]
    if kind == "AND":
        return all(_evaluate(t, document) for t in tree[1])
    if kind == "OR":
        return any(_evaluate(t, document) for t in tree[1])
    if kind == "NOT":
        return not _evaluate(tree[1], document)
    if kind == "GEO":
        lat, lng, radius = tree[1]
        geo = document.get("_geo")
        return bool(geo) and _haversine(lat, lng, geo["lat"], geo["lng"]) <= radius
    _, name, values = tree
    present = document.get(name)
    held = {
        str(v).lower()
        for v in (present if isinstance(present, list) else [present])
        if v is not None
    }
    hit = bool(held & {v.lower() for v in values})
    return not hit if kind == "NE" else hit


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))
