"""One query on one tantivy searcher: the page of shops and offers, totals, facets, hits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tantivy

from aggregator.models import Listing
from search.analysis import highlight, interest_phrases
from search.documents import SHOP
from search.embedded_query import QueryBuilder
from search.embedded_rank import Ranked, Ranker
from search.embedded_schema import payload_of
from search.query import OfferHit, SearchAnswer, SearchQuery, ShopHit


def answer(
    searcher: tantivy.Searcher, builder: QueryBuilder, query: SearchQuery, started: float
) -> SearchAnswer:
    """Shops and offers both match the words and the filters, ranked as one list; ``total`` and
    facets count shops. Offers are listed only when there are words to look for."""
    text = builder.text(query.text, with_exact=query.sort == "distance")
    interests = builder.interests(interest_phrases(query.interests, builder.synonyms))
    page = Ranker(searcher, builder).page(query, text, builder.filters(query), interests)
    hits: list[ShopHit] = []
    offers: list[OfferHit] = []
    for item in page.items:
        doc = payload_of(searcher.doc(item.address))
        if doc.get("doc_type") == SHOP:
            hits.append(_shop_hit(doc, item, text.is_match))
        else:
            offers.append(_offer_hit(doc, item))
    took_ms = (time.perf_counter() - started) * 1000
    return SearchAnswer(
        hits=hits,
        offers=offers,
        facets=page.facets,
        total=page.shops,
        offers_total=page.offers,
        took_ms=took_ms,
        query=query,
    )


def _shop_hit(doc: dict[str, Any], item: Ranked, is_match: Callable[[str], bool]) -> ShopHit:
    fields: dict[str, Any] = {name: doc[name] for name in ShopHit.model_fields if name in doc}
    fields.update(
        listings=[Listing.model_validate(listing) for listing in doc.get("listings", [])],
        distance_m=item.distance,
        score=item.score,
        highlight=highlight(doc.get("description"), is_match),
    )
    return ShopHit.model_validate(fields)


def _offer_hit(doc: dict[str, Any], item: Ranked) -> OfferHit:
    fields: dict[str, Any] = {name: doc[name] for name in OfferHit.model_fields if name in doc}
    fields.update(distance_m=item.distance, score=item.score)
    return OfferHit.model_validate(fields)
