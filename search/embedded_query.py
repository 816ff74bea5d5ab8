"""SearchQuery -> tantivy queries: words with typos, prefix and synonyms; filters; interests; box.

Every query word must match (Must), each one exactly (stemmed, boosted; in a title more), as a
prefix when it is the last word, through a synonym, or with typos (folded, unstemmed, low boost).
Two versions are built: ``exact`` (no typo clause) and ``full``; the ranker shows the documents
matched by ``exact`` first, which is Meilisearch's "fewer typos first".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import tantivy
from rapidfuzz.distance import Levenshtein
from tantivy import Occur, Query

from search.analysis import Synonyms, Unit, key, typo_budget
from search.query import SearchQuery

TITLE_BOOST = 3.0
SYNONYM_BOOST = 0.9
PREFIX_BOOST = 0.6
TYPO_BOOST = 0.3
#: A prefix clause on a one-letter word would match most of the index.
MIN_PREFIX_CHARS = 2
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class TextQueries:
    """The word part of a query; both None when the query has no words (match all)."""

    exact: Query | None
    full: Query | None
    is_match: Callable[[str], bool]


class QueryBuilder:
    """Builds queries against one schema with the index's own stemmer and the synonyms."""

    def __init__(self, schema: tantivy.Schema, stemmer: tantivy.TextAnalyzer, synonyms: Synonyms):
        self.schema = schema
        self.stemmer = stemmer
        self.synonyms = synonyms

    def stem(self, word: str) -> str:
        tokens = self.stemmer.analyze(word)
        return tokens[0] if tokens else word

    def text(self, text: str) -> TextQueries:
        units = self.synonyms.segment(text)
        if not units:
            return TextQueries(None, None, lambda word: False)
        prefix_last = bool(text) and not text[-1].isspace()
        exact, full = [], []
        for position, unit in enumerate(units):
            last = prefix_last and position == len(units) - 1
            exact.append(self._unit(unit, last, typos=False))
            full.append(self._unit(unit, last, typos=True))
        return TextQueries(_all(exact), _all(full), self._matcher(units, prefix_last))

    def _unit(self, unit: Unit, last: bool, typos: bool) -> Query:
        words = [
            self._word(w, last and i == len(unit.words) - 1, typos)
            for i, w in enumerate(unit.words)
        ]
        own = _all(words)
        if not unit.alternatives:
            return own
        alternatives = [
            Query.boost_query(self._phrase(a), SYNONYM_BOOST) for a in unit.alternatives
        ]
        return _any([own, *alternatives])

    def _word(self, word: str, last: bool, typos: bool) -> Query:
        clauses = [self._exact(word)]
        if last and len(word) >= MIN_PREFIX_CHARS:
            clauses += self._folded(word, 0, True, PREFIX_BOOST)
        budget = typo_budget(word)
        if typos and budget:
            clauses += self._folded(word, budget, last, TYPO_BOOST)
        return _any(clauses)

    def _folded(self, word: str, distance: int, prefix: bool, boost: float) -> list[Query]:
        """Typo or prefix clauses on the unstemmed words, a title match worth more."""
        return [
            Query.boost_query(
                Query.fuzzy_term_query(self.schema, field, word, distance=distance, prefix=prefix),
                boost * weight,
            )
            for field, weight in (("title_fold", TITLE_BOOST), ("text_fold", 1.0))
        ]

    def _exact(self, word: str) -> Query:
        stem = self.stem(word)
        title = Query.boost_query(Query.term_query(self.schema, "title", stem), TITLE_BOOST)
        return _any([title, Query.term_query(self.schema, "text", stem)])

    def _phrase(self, words: tuple[str, ...]) -> Query:
        return _all([self._exact(w) for w in words])

    def _matcher(self, units: list[Unit], prefix_last: bool) -> Callable[[str], bool]:
        """Which folded words of a text the query matched, for highlighting."""
        stems = {
            self.stem(w) for u in units for w in (*u.words, *(x for a in u.alternatives for x in a))
        }
        fuzzy = [(w, typo_budget(w)) for u in units for w in u.words if typo_budget(w)]
        prefix = units[-1].words[-1] if prefix_last else None

        def is_match(word: str) -> bool:
            if self.stem(word) in stems:
                return True
            if prefix and len(prefix) >= MIN_PREFIX_CHARS and word.startswith(prefix):
                return True
            return any(Levenshtein.distance(word, w, score_cutoff=b) <= b for w, b in fuzzy)

        return is_match

    def filters(self, query: SearchQuery) -> list[Query]:
        """Exact filters on folded keys; they do not change scores."""
        wanted = [
            ("city_key", query.city),
            ("postcode_key", query.postcode),
            ("category_key", query.category),
            ("platforms_key", query.platform),
            *(("services_key", service) for service in query.services),
        ]
        return [
            Query.const_score_query(Query.term_query(self.schema, field, key(value)), 0.0)
            for field, value in wanted
            if value is not None and value.strip()
        ]

    def doc_type(self, doc_type: str) -> Query:
        return Query.const_score_query(Query.term_query(self.schema, "doc_type", doc_type), 0.0)

    def interests(self, interests: list[str]) -> Query | None:
        """Documents of the interests' categories, services or words (synonyms included)."""
        clauses: list[Query] = []
        for interest in interests:
            for unit in self.synonyms.segment(interest):
                for phrase in (unit.words, *unit.alternatives):
                    slug = key(" ".join(phrase))
                    clauses.append(Query.term_query(self.schema, "category_key", slug))
                    clauses.append(Query.term_query(self.schema, "services_key", slug))
                    clauses.append(
                        _all([Query.term_query(self.schema, "text", self.stem(w)) for w in phrase])
                    )
        return _any(clauses) if clauses else None

    def bbox(self, lat: float, lon: float, radius_m: float) -> Query:
        """The box around a circle; the ranker drops the corners with the exact distance."""
        dlat = math.degrees(radius_m / EARTH_RADIUS_M)
        cos_lat = max(math.cos(math.radians(lat)), 1e-6)
        dlon = min(180.0, dlat / cos_lat)
        lat_q = Query.range_query(
            self.schema, "lat", tantivy.FieldType.Float, lat - dlat, lat + dlat
        )
        lon_q = Query.range_query(
            self.schema, "lon", tantivy.FieldType.Float, lon - dlon, lon + dlon
        )
        return Query.const_score_query(_all([lat_q, lon_q]), 0.0)

    def keys(self, keys: list[int]) -> Query:
        return Query.term_set_query(self.schema, "key", keys)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _all(queries: list[Query]) -> Query:
    return (
        queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Must, q) for q in queries])
    )


def _any(queries: list[Query]) -> Query:
    return (
        queries[0]
        if len(queries) == 1
        else Query.boolean_query([(Occur.Should, q) for q in queries])
    )


def combine(must: list[Query], must_not: list[Query] | None = None) -> Query:
    """All of ``must`` and none of ``must_not`` (match-all when ``must`` is empty)."""
    clauses = [(Occur.Must, q) for q in must] or [(Occur.Must, Query.all_query())]
    clauses += [(Occur.MustNot, q) for q in must_not or []]
    return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)
