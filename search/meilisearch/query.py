"""SearchQuery -> one federated ``POST /multi-search`` body, and its response -> SearchAnswer.

One request answers everything: the shops query and the offers query are federated (Meilisearch
>= 1.10) into one list ranked by weighted score and paged by ``federation.offset/limit``; facet
counts and both totals come from ``federation.facetsByIndex`` (>= 1.11), the totals as the count
of the one ``doc_type`` value. Interests split the shops query in two, the shops matching them
(``topics``) weighted up and the others not: they move up, nothing is hidden.

The query text is plural-merged and stop-word-free, as the ``*_stem`` fields are
(``settings``); numbers are sent as one-word phrases, which Meilisearch matches exactly
(the embedded backend allows no typo in numbers either).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aggregator.models import Listing
from search.analysis import (
    Synonyms,
    content_words,
    highlight,
    interest_phrases,
    key,
    light_stem,
    merge_spellings,
    word_matcher,
)
from search.documents import SHOP
from search.embedded_geo import haversine_m
from search.meilisearch.settings import MAX_TOTAL_HITS, OFFER_FIELDS, SHOP_FIELDS
from search.opening_hours import tokens_at
from search.query import OFFER_WEIGHT, OfferHit, SearchAnswer, SearchQuery, ShopHit

#: Shops matching an interest; the weight multiplies Meilisearch's ranking score (0 to 1).
INTEREST_WEIGHT = 2.0
SHOP_WEIGHT = 1.0


@dataclass(frozen=True)
class IndexNames:
    shops: str
    offers: str


def meili_text(text: str) -> str:
    """The query as sent: words folded, plurals merged, stop words out, numbers as phrases;
    a trailing space is kept (the last word is then finished, not a prefix)."""
    found = content_words(text)
    typing = bool(text) and not text[-1].isspace()
    out = []
    for i, word in enumerate(found):
        last = i == len(found) - 1
        if any(c.isdigit() for c in word) and not (typing and last):
            out.append(f'"{word}"')
        else:
            out.append(light_stem(word))
    return " ".join(out) + ("" if typing or not out else " ")


def filters(query: SearchQuery) -> list[str]:
    """Filter expressions, all required (a filter array is an AND)."""
    wanted = [
        ("city_key", query.city),
        ("postcode_key", query.postcode),
        ("category_key", query.category),
        ("platforms_key", query.platform),
        *(("services_key", service) for service in query.services),
    ]
    out = [f"{field} = {_quote(key(v))}" for field, v in wanted if v is not None and v.strip()]
    if query.open_now:
        out.append(f"open_slots IN [{', '.join(_quote(t) for t in tokens_at(query.at))}]")
    if query.radius_m is not None and query.lat is not None and query.lon is not None:
        out.append(f"_geoRadius({query.lat}, {query.lon}, {query.radius_m})")
    return out


def interest_filter(query: SearchQuery, synonyms: Synonyms) -> str | None:
    phrases = interest_phrases(query.interests, synonyms)
    if not phrases:
        return None
    parts = [" AND ".join(f"topics = {_quote(w)}" for w in phrase) for phrase in phrases]
    return " OR ".join(f"({p})" for p in parts)


def multi_search_body(
    query: SearchQuery, names: IndexNames, synonyms: Synonyms
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(queries, federation) for ``Client.multi_search``."""
    text = meili_text(query.text)
    common: dict[str, Any] = {"q": text, "matchingStrategy": "all"}
    if query.sort == "distance" and query.lat is not None and query.lon is not None:
        common["sort"] = [f"_geoPoint({query.lat}, {query.lon}):asc"]
    base = filters(query)
    shop_query = {**common, "indexUid": names.shops, "attributesToRetrieve": list(SHOP_FIELDS)}
    interests = interest_filter(query, synonyms)
    queries: list[dict[str, Any]] = []
    if interests is None:
        queries.append(_with(shop_query, base, SHOP_WEIGHT))
    else:
        queries.append(_with(shop_query, [*base, interests], INTEREST_WEIGHT))
        queries.append(_with(shop_query, [*base, f"NOT ({interests})"], SHOP_WEIGHT))
    facets_by_index = {names.shops: [*query.facets, "doc_type"]}
    if text.strip():  # offers only for words, as in the embedded backend
        offer_query = {
            **common,
            "indexUid": names.offers,
            "attributesToRetrieve": list(OFFER_FIELDS),
        }
        queries.append(_with(offer_query, base, OFFER_WEIGHT))
        facets_by_index[names.offers] = ["doc_type"]
    # Each query is cut at maxTotalHits: a page past it would come back empty while the totals
    # count it, so the page is clamped there (limit 0 still answers totals and facets).
    offset = min((query.page - 1) * query.per_page, MAX_TOTAL_HITS)
    federation = {
        "offset": offset,
        "limit": min(query.per_page, MAX_TOTAL_HITS - offset),
        "facetsByIndex": facets_by_index,
    }
    return queries, federation


def _with(search: dict[str, Any], expressions: list[str], weight: float) -> dict[str, Any]:
    out = {**search, "federationOptions": {"weight": weight}}
    if expressions:
        out["filter"] = expressions
    return out


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_answer(
    response: dict[str, Any],
    query: SearchQuery,
    names: IndexNames,
    synonyms: Synonyms,
    started: float,
) -> SearchAnswer:
    is_match = word_matcher(query.text, synonyms)
    hits: list[ShopHit] = []
    offers: list[OfferHit] = []
    for hit in response.get("hits", []):
        origin = hit.get("_federation", {})
        score = float(origin.get("weightedRankingScore", 0.0))
        distance = _distance(hit, query)
        if origin.get("indexUid") == names.shops or hit.get("doc_type") == SHOP:
            hits.append(_shop_hit(hit, score, distance, is_match))
        else:
            offers.append(_offer_hit(hit, score, distance))
    by_index = response.get("facetsByIndex", {})
    shops = by_index.get(names.shops, {}).get("distribution", {})
    offer_counts = by_index.get(names.offers, {}).get("distribution", {})
    return SearchAnswer(
        hits=hits,
        offers=offers,
        facets={name: merge_spellings(shops.get(name, {}).items()) for name in query.facets},
        total=int(sum(shops.get("doc_type", {}).values())),
        offers_total=int(sum(offer_counts.get("doc_type", {}).values())),
        took_ms=(time.perf_counter() - started) * 1000,
        query=query,
    )


def empty_answer(query: SearchQuery, started: float) -> SearchAnswer:
    facets: dict[str, dict[str, int]] = {name: {} for name in query.facets}
    took_ms = (time.perf_counter() - started) * 1000
    return SearchAnswer(facets=facets, took_ms=took_ms, query=query)


def _distance(hit: dict[str, Any], query: SearchQuery) -> float | None:
    if query.lat is None or query.lon is None or hit.get("lat") is None or hit.get("lon") is None:
        return None
    return haversine_m(query.lat, query.lon, float(hit["lat"]), float(hit["lon"]))


def _shop_hit(
    hit: dict[str, Any], score: float, distance: float | None, is_match: Callable[[str], bool]
) -> ShopHit:
    fields: dict[str, Any] = {name: hit[name] for name in ShopHit.model_fields if name in hit}
    fields.update(
        listings=[Listing.model_validate(listing) for listing in hit.get("listings") or []],
        distance_m=distance,
        score=score,
        highlight=highlight(hit.get("description"), is_match),
    )
    return ShopHit.model_validate(fields)


def _offer_hit(hit: dict[str, Any], score: float, distance: float | None) -> OfferHit:
    fields: dict[str, Any] = {name: hit[name] for name in OfferHit.model_fields if name in hit}
    fields.update(distance_m=distance, score=score)
    return OfferHit.model_validate(fields)
