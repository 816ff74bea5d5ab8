"""How Meilisearch matches and ranks, as its documentation says, for the loopback stand-in.

- Words: lower-cased, accents folded, split on anything not a letter or digit; stop words out.
- Only the last query word is a prefix, and only while it is being typed (no trailing space);
  a quoted phrase matches exactly.
- Typos (Damerau-Levenshtein, a typo on the first letter counting two): none under
  ``oneTypo`` letters (5), one from there, two from ``twoTypos`` (9); none on the attributes of
  ``disableOnAttributes``.
- Synonyms: a query word or phrase that is a key of ``synonyms`` also matches its alternatives.
- ``matchingStrategy``: ``all`` keeps documents holding every word; ``last`` drops words from
  the end until something matches.
- Ranking is a bucket sort in ``rankingRules`` order (words, typo, proximity, attribute, sort,
  exactness); ``_rankingScore`` nests each rule's rank inside the previous one's, so it orders
  documents the way the rules do (sort rules do not count in it, as documented).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
GEO_POINT = re.compile(r"_geoPoint\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\):(asc|desc)")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


@dataclass
class Term:
    """One query word (or a synonym key phrase) and what may stand for it."""

    words: list[str]
    prefix: bool = False
    exact: bool = False
    alternatives: list[list[str]] = field(default_factory=list)


def parse_query(q: str, settings: dict[str, Any]) -> list[Term]:
    stop = {fold(w) for w in settings.get("stopWords") or []}
    typing = bool(q) and not q[-1].isspace() and not q.rstrip().endswith('"')
    terms: list[Term] = []
    for phrase, loose in re.findall(r'"([^"]*)"|([^"]+)', q):
        if phrase:
            terms += [Term([w], exact=True) for w in words(phrase)]
        else:
            terms += [Term([w]) for w in words(loose) if w not in stop]
    if terms and typing and not terms[-1].exact:
        terms[-1].prefix = True
    return _with_synonyms(terms, settings.get("synonyms") or {})


def _with_synonyms(terms: list[Term], synonyms: dict[str, list[str]]) -> list[Term]:
    table = {tuple(words(k)): [words(v) for v in vs] for k, vs in synonyms.items()}
    longest = max((len(k) for k in table), default=0)
    out: list[Term] = []
    i = 0
    while i < len(terms):
        for size in range(min(longest, len(terms) - i), 0, -1):
            key = tuple(w for t in terms[i : i + size] for w in t.words)
            if key in table and not any(t.exact for t in terms[i : i + size]):
                joined = Term(list(key), prefix=terms[i + size - 1].prefix)
                joined.alternatives = table[key]
                out.append(joined)
                i += size
                break
        else:
            out.append(terms[i])
            i += 1
    return out


def typo_budget(word: str, typo: dict[str, Any]) -> int:
    if not typo.get("enabled", True):
        return 0
    sizes = typo.get("minWordSizeForTypos") or {}
    one, two = sizes.get("oneTypo", 5), sizes.get("twoTypos", 9)
    return 2 if len(word) >= two else 1 if len(word) >= one else 0


def typos(query: str, word: str, budget: int, prefix: bool) -> int | None:
    """Typos from ``query`` to ``word`` (to a prefix of it when ``prefix``), None if over."""
    if query == word or (prefix and word.startswith(query)):
        return 0
    if budget == 0:
        return None
    candidates = [word[:n] for n in range(max(1, len(query) - budget), len(query) + budget + 1)]
    best = min((_distance(query, c) for c in (candidates if prefix else [word]) if c), default=None)
    return best if best is not None and best <= budget else None


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment); a first-letter change counts two."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    distance = rows[len(a)][len(b)]
    return distance + 1 if distance and a[:1] != b[:1] else distance


@dataclass
class Match:
    typos: int
    attribute: int
    exact: int


def match_document(
    document: dict[str, Any], terms: list[Term], settings: dict[str, Any]
) -> list[Match | None]:
    """For each term, its best match in the document's searchable attributes (or None)."""
    searchable = settings.get("searchableAttributes") or ["*"]
    names = [k for k in document if not k.startswith("_")] if searchable == ["*"] else searchable
    typo = settings.get("typoTolerance") or {}
    no_typo = set(typo.get("disableOnAttributes") or [])
    attribute_words = [
        (rank, name, _field_words(document.get(name))) for rank, name in enumerate(names)
    ]
    found: list[Match | None] = []
    for term in terms:
        best: Match | None = None
        for rank, name, held in attribute_words:
            budget = 0 if term.exact or name in no_typo else 1
            candidate = _term_in(term, held, typo if budget else {"enabled": False})
            if candidate is not None:
                here = Match(candidate, rank, int(candidate == 0 and not term.prefix))
                if best is None or (here.typos, here.attribute) < (best.typos, best.attribute):
                    best = here
        found.append(best)
    return found


def _field_words(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {w for v in values if isinstance(v, (str, int, float)) for w in words(str(v))}


def _term_in(term: Term, held: set[str], typo: dict[str, Any]) -> int | None:
    for alternative in term.alternatives:  # synonyms match exactly
        if alternative and all(w in held for w in alternative):
            return 0
    total = 0
    for i, query_word in enumerate(term.words):
        prefix = term.prefix and i == len(term.words) - 1
        budget = 0 if term.exact else typo_budget(query_word, typo)
        best = min(
            (t for w in held if (t := typos(query_word, w, budget, prefix)) is not None),
            default=None,
        )
        if best is None:
            return None
        total += best
    return total


@dataclass
class Ranked:
    document: dict[str, Any]
    key: tuple[Any, ...]
    score: float
    geo_distance: float | None = None


def rank(
    documents: list[dict[str, Any]],
    q: str,
    settings: dict[str, Any],
    strategy: str = "last",
    sort: list[str] | None = None,
) -> list[Ranked]:
    """The documents matching ``q``, best first, with their ranking score."""
    terms = parse_query(q or "", settings)
    rules = settings.get("rankingRules") or DEFAULT_RULES
    geo = _geo_sort(sort or [])
    out: list[Ranked] = []
    for document in documents:
        matches = match_document(document, terms, settings) if terms else []
        kept = _kept(matches, strategy)
        if kept is None:
            continue
        distance = _geo_distance(document, geo)
        key, score = _key_and_score(kept, len(terms), rules, settings, distance, geo)
        out.append(Ranked(document, key, score, distance))
    out.sort(key=lambda r: r.key)
    return out


def _kept(matches: list[Match | None], strategy: str) -> list[Match] | None:
    if not matches:
        return []
    if strategy == "all":
        return None if any(m is None for m in matches) else [m for m in matches if m]
    for size in range(len(matches), 0, -1):  # "last": drop words from the end
        if all(m is not None for m in matches[:size]):
            return [m for m in matches[:size] if m]
    return None


def _key_and_score(
    kept: list[Match],
    n_terms: int,
    rules: list[str],
    settings: dict[str, Any],
    distance: float | None,
    geo: tuple[float, float, str] | None,
) -> tuple[tuple[Any, ...], float]:
    n_attributes = max(1, len(settings.get("searchableAttributes") or ["*"]))
    key: list[Any] = []
    low, width = 0.0, 1.0
    for rule in rules:
        if rule == "sort":
            if geo is not None:
                far = math.inf if distance is None else distance
                key.append(far if geo[2] == "asc" else -far)
            continue
        if not n_terms:
            continue
        if rule == "words":
            rank_, most = len(kept), n_terms
        elif rule == "typo":
            most = 2 * n_terms + 1
            rank_ = most - sum(m.typos for m in kept)
        elif rule == "attribute":
            most = n_attributes
            rank_ = most - min((m.attribute for m in kept), default=most - 1)
        elif rule == "exactness":
            rank_, most = 1 + sum(m.exact for m in kept), n_terms + 1
        else:  # proximity: words are not positioned here; every document ties
            continue
        key.append(-rank_)
        width /= most
        low += (rank_ - 1) * width
    return tuple(key), (low + width if n_terms else 1.0)


def _geo_sort(sort: list[str]) -> tuple[float, float, str] | None:
    for rule in sort:
        found = GEO_POINT.fullmatch(rule.replace(" ", ""))
        if found:
            return float(found[1]), float(found[2]), found[3]
    return None


def _geo_distance(document: dict[str, Any], geo: tuple[float, float, str] | None) -> float | None:
    point = document.get("_geo")
    if geo is None or not point:
        return None
    return haversine(geo[0], geo[1], float(point["lat"]), float(point["lng"]))


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def distinct(ranked: list[Ranked], attribute: str | None) -> list[Ranked]:
    """The best document of each value of ``attribute``; documents without it all stay."""
    if not attribute:
        return ranked
    seen: set[str] = set()
    out = []
    for item in ranked:
        value = item.document.get(attribute)
        if value is not None:
            marker = repr(value)
            if marker in seen:
                continue
            seen.add(marker)
        out.append(item)
    return out
