"""SearchQuery -> tantivy queries: words with typos, prefix and synonyms; filters; interests; geo.

Every query word must match (Must): exactly (stemmed), as a prefix when it is the last word and
still being typed, through a synonym, or with typos (folded, unstemmed). Meilisearch ranks by
buckets (fewer typos first, then the rest); to get the same order from one tantivy search, the
score is built in bands of constants: each word matched without a typo adds ``BAND`` (plus a
little when it is in a name or title: Meilisearch's attribute rule), a word matched only with
typos adds a small constant, a shop matching the customer's interests adds ``INTEREST``. So
``score // BAND`` is the number of words matched without a typo, and one search read in score
order gives the buckets in order. Constants instead of BM25 are also what keeps a word found in
a hundred thousand documents cheap: nothing is computed per document but a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import tantivy
from rapidfuzz.distance import Levenshtein
from tantivy import Occur, Query

from search.analysis import Synonyms, Unit, key, typo_budget
from search.embedded_geo import EARTH_RADIUS_M, Cover, haversine_m
from search.embedded_schema import filter_term
from search.embedded_vocab import Vocabulary
from search.query import SearchQuery

__all__ = ["EARTH_RADIUS_M", "QueryBuilder", "TextQueries", "combine", "haversine_m"]

#: One word matched without a typo. Everything else added stays far below it (and ``INTEREST``).
BAND = 10_000.0
INTEREST = BAND / 2
#: A word found in a name (shops) or a title (offers) rather than elsewhere.
TITLE_BONUS = 2.0
TYPO_SCORE = 1.0
#: A word matched with typos in a name or title: still far below a word matched without one.
TYPO_TITLE = 0.5
#: A prefix clause on a one-letter word would match most of the index.
MIN_PREFIX_CHARS = 2


@dataclass(frozen=True)
class TextQueries:
    """The word part of a query; None when the query has no words (match all).

    ``scored`` ranks in bands (see the module); ``exact`` matches the documents needing no typo
    (the first bucket), for distance sorts; ``words`` is how many words a band counts.
    """

    scored: Query | None
    exact: Query | None
    words: int
    is_match: Callable[[str], bool]

    def typo_tier(self, score: float) -> int:
        """0 when every word matched without a typo, else how many words needed typos."""
        return max(0, self.words - int(score // BAND)) if self.words else 0


class QueryBuilder:
    """Builds queries against one schema with the index's own stemmer and the synonyms."""

    def __init__(self, schema: tantivy.Schema, stemmer: tantivy.TextAnalyzer, synonyms: Synonyms):
        self.schema = schema
        self.stemmer = stemmer
        self.synonyms = synonyms
        self._stems: dict[str, str] = {}
        #: The generation's words, once ``use`` has read them; see ``embedded_vocab``.
        self.vocabulary: Vocabulary | None = None
        self._version: object = None

    def use(self, searcher: tantivy.Searcher, version: object) -> None:
        """Read the vocabulary of ``searcher`` unless already read for ``version``."""
        if version != self._version:
            self.vocabulary = Vocabulary(searcher)
            self._version = version

    def stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            tokens = self.stemmer.analyze(word)
            stem = tokens[0] if tokens else word
            if len(self._stems) < 100_000:
                self._stems[word] = stem
        return stem

    def text(self, text: str, with_exact: bool = True) -> TextQueries:
        """The word queries; ``exact`` only ``with_exact`` (a distance sort needs it)."""
        units = self.synonyms.segment(text)
        if not units:
            return TextQueries(None, None, 0, lambda word: False)
        prefix_last = bool(text) and not text[-1].isspace()
        scored, exact = [], []
        for position, unit in enumerate(units):
            last = prefix_last and position == len(units) - 1
            scored.append(self._unit(unit, last, typos=True))
            if with_exact:
                exact.append(self._unit(unit, last, typos=False))
        count = sum(len(u.words) for u in units)
        matcher = self._matcher(units, prefix_last)
        return TextQueries(_all(scored), _all(exact) if exact else None, count, matcher)

    def _unit(self, unit: Unit, last: bool, typos: bool) -> Query:
        own = _all(
            [
                self._word(w, last and i == len(unit.words) - 1, typos)
                for i, w in enumerate(unit.words)
            ]
        )
        if not unit.alternatives:
            return own
        band = BAND * len(unit.words)  # a synonym counts as all the unit's words, no typo
        alternatives = [Query.const_score_query(self._phrase(a), band) for a in unit.alternatives]
        return Query.disjunction_max_query([own, *alternatives], 0.0)

    def _word(self, word: str, last: bool, typos: bool) -> Query:
        stem = self.stem(word)
        clauses = [
            Query.const_score_query(
                Query.term_query(self.schema, "title", stem), BAND + TITLE_BONUS
            ),
            Query.const_score_query(Query.term_query(self.schema, "text", stem), BAND),
        ]
        prefix = last and len(word) >= MIN_PREFIX_CHARS
        budget = typo_budget(word) if typos else 0
        vocabulary = self.vocabulary
        if vocabulary is not None and vocabulary.is_frequent(word):
            # See embedded_vocab: only the variants the stem does not already cover. A frequent
            # word is a whole word: its typos are looked up as whole words too.
            extensions = self._uncovered(vocabulary.with_prefix(word), stem) if prefix else []
            if extensions:
                clauses.append(self._terms(extensions, BAND))
                clauses.append(self._terms(extensions, BAND + TITLE_BONUS, "title_fold"))
            if budget:
                variants = self._uncovered(vocabulary.within(word, budget), stem)
                variants = [v for v in variants if v not in extensions]
                if variants:
                    clauses.append(self._terms(variants, TYPO_SCORE))
                    clauses.append(self._terms(variants, TYPO_SCORE + TYPO_TITLE, "title_fold"))
        else:
            if prefix:
                clauses.append(Query.const_score_query(self._fuzzy(word, 0, True), BAND))
                clauses.append(
                    Query.const_score_query(
                        self._fuzzy(word, 0, True, "title_fold"), BAND + TITLE_BONUS
                    )
                )
            if budget:
                clauses.append(Query.const_score_query(self._fuzzy(word, budget, last), TYPO_SCORE))
                clauses.append(
                    Query.const_score_query(
                        self._fuzzy(word, budget, last, "title_fold"), TYPO_SCORE + TYPO_TITLE
                    )
                )
        return Query.disjunction_max_query(clauses, 0.0)

    def _uncovered(self, terms: Sequence[str], stem: str) -> list[str]:
        return [t for t in terms if self.stem(t) != stem]

    def _terms(self, terms: list[str], score: float, field: str = "text_fold") -> Query:
        return Query.const_score_query(Query.term_set_query(self.schema, field, terms), score)

    def _fuzzy(self, word: str, distance: int, prefix: bool, field: str = "text_fold") -> Query:
        """Typo and prefix clauses on the folded words (``title_fold``: the titles alone)."""
        return Query.fuzzy_term_query(self.schema, field, word, distance=distance, prefix=prefix)

    def _phrase(self, words: tuple[str, ...]) -> Query:
        return _all([Query.term_query(self.schema, "text", self.stem(w)) for w in words])

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
        """Exact filters on folded keys, and "open now"; they do not change scores."""
        wanted = [
            ("city", query.city),
            ("postcode", query.postcode),
            ("category", query.category),
            ("platforms", query.platform),
            *(("services", service) for service in query.services),
        ]
        filters = [
            _filter(Query.term_query(self.schema, "filters", filter_term(name, key(value))))
            for name, value in wanted
            if value is not None and value.strip()
        ]
        if query.open_now:
            filters.append(_filter(self.open_at(query.at)))
        return filters

    def open_at(self, at: datetime | None) -> Query:
        """Documents whose shop is open during ``at``'s 5 minutes (now when None): those of the
        index's schedules that are (``use`` must have read them)."""
        schedules = self.vocabulary.open_schedules(at) if self.vocabulary is not None else []
        if not schedules:
            return Query.empty_query()
        return Query.term_set_query(self.schema, "schedule", schedules)

    def doc_type(self, doc_type: str) -> Query:
        return _filter(Query.term_query(self.schema, "doc_type", doc_type))

    def interests(self, phrases: list[tuple[str, ...]]) -> Query | None:
        """Shops whose topics hold every word of one of the phrases."""
        clauses = [_all([Query.term_query(self.schema, "topics", w) for w in p]) for p in phrases]
        return _any(clauses) if clauses else None

    def boosted(self, scored: Query, interests: Query | None) -> Query:
        """``scored`` with ``INTEREST`` added for the documents matching the interests."""
        if interests is None:
            return scored
        boost = Query.const_score_query(interests, INTEREST)
        return Query.boolean_query([(Occur.Must, scored), (Occur.Should, boost)])

    def cells(self, cells: list[str]) -> Query:
        return Query.term_set_query(self.schema, "geo", cells)

    def within(self, cover: Cover, boundary_keys: list[int]) -> Query:
        """Documents in the cells wholly inside a circle, or named as inside it by key."""
        parts = []
        if cover.inside:
            parts.append(self.cells(cover.inside))
        if boundary_keys:
            parts.append(self.keys(boundary_keys))
        return _filter(_any(parts)) if parts else Query.empty_query()

    def keys(self, keys: list[int]) -> Query:
        return Query.term_set_query(self.schema, "key_term", [str(k) for k in keys])


def _filter(query: Query) -> Query:
    return Query.const_score_query(query, 0.0)


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
