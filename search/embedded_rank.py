"""Ranking on one tantivy searcher: relevance buckets, pages, radius, distance sort, facets.

Relevance is a bucket sort, like Meilisearch's ranking rules: documents that match every word
without a typo come first, then those that need typos; inside each, documents matching the
customer's interests first; then tantivy's BM25 score (exact words and titles are boosted). The
buckets are disjoint queries, so a page is read bucket by bucket with exact counts.

Radius: a lat/lon box narrows the query, the exact distance drops the corners. Distance sort:
(typo bucket, distance), over growing rings until the page is certainly the nearest one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tantivy
from tantivy import Query

from search.analysis import key
from search.embedded_query import QueryBuilder, TextQueries, combine, haversine_m
from search.query import SearchQuery

#: Most documents examined per bucket for one radius or distance query: beyond it only the
#: best-scoring ones inside the box are placed and counted (a radius over most of a region).
CANDIDATE_CAP = 20_000
#: Distinct values counted per facet; above it counts would be approximate.
FACET_SIZE = 10_000
RINGS_M = (2_000.0, 10_000.0, 50_000.0, 250_000.0)


def hit_count(result: tantivy.SearchResult) -> int:
    """The number of matching documents (tantivy-py's stub omits ``count``)."""
    return int(result.count)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Bucket:
    query: Query
    tier: int  # 0: every word without typo; 1: with typos


@dataclass(frozen=True)
class Ranked:
    address: tantivy.DocAddress
    score: float
    distance: float | None
    tier: int
    rank: int  # bucket position: tier then interests


@dataclass
class Page:
    items: list[Ranked]
    total: int
    #: When a radius decides membership: the keys of every matching document inside it.
    inside: list[int] | None = None


class Ranker:
    def __init__(self, searcher: tantivy.Searcher, builder: QueryBuilder):
        self.searcher = searcher
        self.builder = builder

    def buckets(
        self, base: list[Query], text: TextQueries, interests: Query | None
    ) -> list[Bucket]:
        """Disjoint queries in relevance order: (typo tier, interest) pairs."""
        tiers: list[tuple[list[Query], list[Query]]] = (
            [([], [])]
            if text.exact is None or text.full is None
            else [([text.exact], []), ([text.full], [text.exact])]
        )
        buckets = []
        for tier, (must, must_not) in enumerate(tiers):
            if interests is None:
                buckets.append(Bucket(combine([*base, *must], must_not), tier))
                continue
            boost = Query.const_score_query(interests, 0.0)
            buckets.append(Bucket(combine([*base, *must, boost], must_not), tier))
            buckets.append(Bucket(combine([*base, *must], [*must_not, interests]), tier))
        return buckets

    def page(self, buckets: list[Bucket], query: SearchQuery, start: int, stop: int) -> Page:
        if query.radius_m is not None and query.lat is not None and query.lon is not None:
            return self._within(buckets, query, query.radius_m, start, stop)
        if query.sort == "distance":
            return self._nearest(buckets, query, start, stop)
        return self._by_relevance(buckets, query, start, stop)

    def _by_relevance(
        self, buckets: list[Bucket], query: SearchQuery, start: int, stop: int
    ) -> Page:
        items: list[Ranked] = []
        seen = 0
        for rank, bucket in enumerate(buckets):
            offset, limit = max(0, start - seen), stop - max(seen, start)
            if limit > 0:
                result = self.searcher.search(bucket.query, limit, count=True, offset=offset)
                items += [Ranked(a, s, None, bucket.tier, rank) for s, a in result.hits]
            else:
                result = self.searcher.search(bucket.query, 1, count=True)
            seen += hit_count(result)
        return Page(self._with_distances(items, query), seen)

    def _within(
        self, buckets: list[Bucket], query: SearchQuery, radius: float, start: int, stop: int
    ) -> Page:
        items = self._collect(buckets, query, radius)
        items.sort(key=self._sort_key(query))
        keys = self.searcher.fast_field_values("key", [i.address for i in items]) if items else []
        return Page(items[start:stop], len(items), [int(k) for k in keys if k is not None])

    def _nearest(self, buckets: list[Bucket], query: SearchQuery, start: int, stop: int) -> Page:
        totals = [hit_count(self.searcher.search(b.query, 1, count=True)) for b in buckets]
        for ring in (*RINGS_M, None):
            items = self._collect(buckets, query, ring)
            items.sort(key=self._sort_key(query))
            if ring is None or self._settled(items, buckets, totals, stop):
                break
        return Page(items[start:stop], sum(totals))

    @staticmethod
    def _settled(items: list[Ranked], buckets: list[Bucket], totals: list[int], stop: int) -> bool:
        """Whether the ring's first ``stop`` documents are the global first: every bucket ranked
        before the last one shown must lie wholly inside the ring (farther documents of the
        same tier rank after, being farther)."""
        inside = [0] * len(buckets)
        for item in items:
            inside[item.rank] += 1
        if len(items) < stop:
            return inside == totals
        last_tier = items[stop - 1].tier
        return all(inside[i] == totals[i] for i, b in enumerate(buckets) if b.tier < last_tier)

    def _collect(
        self, buckets: list[Bucket], query: SearchQuery, radius: float | None
    ) -> list[Ranked]:
        assert query.lat is not None and query.lon is not None
        box = [self.builder.bbox(query.lat, query.lon, radius)] if radius is not None else []
        items: list[Ranked] = []
        for rank, bucket in enumerate(buckets):
            hits = self.searcher.search(
                combine([bucket.query, *box]), CANDIDATE_CAP, count=False
            ).hits
            distances = self._distances([a for _, a in hits], query)
            for (score, address), distance in zip(hits, distances, strict=True):
                if radius is None or (distance is not None and distance <= radius):
                    items.append(Ranked(address, score, distance, bucket.tier, rank))
        return items

    @staticmethod
    def _sort_key(query: SearchQuery) -> Callable[[Ranked], tuple[float, ...]]:
        if query.sort == "distance":
            return lambda i: (i.tier, math.inf if i.distance is None else i.distance, -i.score)
        return lambda i: (i.rank, -i.score)

    def _with_distances(self, items: list[Ranked], query: SearchQuery) -> list[Ranked]:
        if not query.has_place or not items:
            return items
        distances = self._distances([i.address for i in items], query)
        return [
            Ranked(i.address, i.score, d, i.tier, i.rank)
            for i, d in zip(items, distances, strict=True)
        ]

    def _distances(
        self, addresses: list[tantivy.DocAddress], query: SearchQuery
    ) -> list[float | None]:
        if not addresses or query.lat is None or query.lon is None:
            return [None] * len(addresses)
        lats = self.searcher.fast_field_values("lat", addresses)
        lons = self.searcher.fast_field_values("lon", addresses)
        return [
            None
            if la is None or lo is None
            else haversine_m(query.lat, query.lon, float(la), float(lo))
            for la, lo in zip(lats, lons, strict=True)
        ]

    def facets(
        self, matching: Query, names: list[str], inside: list[int] | None
    ) -> dict[str, dict[str, int]]:
        """Exact counts of matching shops per value (size above the number of distinct values)."""
        if not names:
            return {}
        if inside is not None:
            if not inside:
                return {name: {} for name in names}
            matching = combine([matching, Query.const_score_query(self.builder.keys(inside), 0.0)])
        spec = {
            n: {"terms": {"field": n, "size": FACET_SIZE, "segment_size": FACET_SIZE}}
            for n in names
        }
        result = self.searcher.aggregate(matching, spec)
        return {name: _merge(result.get(name, {}).get("buckets", [])) for name in names}


def _merge(buckets: list[dict[str, Any]]) -> dict[str, int]:
    """Values spelled differently but filtering alike ("Toulouse", "TOULOUSE") count as one,
    under their most frequent spelling. Exact: a document holds one spelling per key."""
    spellings: dict[str, list[tuple[str, int]]] = {}
    for bucket in buckets:
        label = str(bucket["key"])
        spellings.setdefault(key(label), []).append((label, int(bucket["doc_count"])))
    merged = {
        max(variants, key=lambda v: v[1])[0]: sum(count for _, count in variants)
        for variants in spellings.values()
    }
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))
