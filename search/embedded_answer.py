"""One query on one tantivy searcher: the shop page, the offer page, facets, hits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tantivy

from aggregator.models import Listing
from search.analysis import highlight
from search.documents import OFFER, SHOP
from search.embedded_query import QueryBuilder, combine
from search.embedded_rank import Ranked, Ranker
from search.embedded_schema import payload_of
from search.query import OfferHit, SearchAnswer, SearchQuery, ShopHit


def answer(
    searcher: tantivy.Searcher, builder: QueryBuilder, query: SearchQuery, started: float
) -> SearchAnswer:
    """Shops and offers both match the words and the filters; ``total`` and facets count shops.
    Offers are listed only when there are words to look for."""
    ranker = Ranker(searcher, builder)
    text = builder.text(query.text)
    filters = builder.filters(query)
    start = (query.page - 1) * query.per_page
    stop = start + query.per_page

    shop_base = [builder.doc_type(SHOP), *filters]
    buckets = ranker.buckets(shop_base, text, builder.interests(query.interests))
    page = ranker.page(buckets, query, start, stop)
    matching = combine([*shop_base, *([text.full] if text.full is not None else [])])
    facets = ranker.facets(matching, query.facets, page.inside)
    hits = [_shop_hit(payload_of(searcher.doc(i.address)), i, text.is_match) for i in page.items]

    offers: list[OfferHit] = []
    if text.full is not None:
        offer_buckets = ranker.buckets([builder.doc_type(OFFER), *filters], text, None)
        offer_page = ranker.page(offer_buckets, query, start, stop)
        offers = [_offer_hit(payload_of(searcher.doc(i.address)), i) for i in offer_page.items]

    took_ms = (time.perf_counter() - started) * 1000
    return SearchAnswer(
        hits=hits, offers=offers, facets=facets, total=page.total, took_ms=took_ms, query=query
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
