"""One "buy local" search over every shop and offer: the backend protocol, query and answer models.

from search import SearchQuery, open_backend
backend = open_backend(settings)
answer = backend.search(SearchQuery(text="boulangerie", city="Blagnac"))
"""

from __future__ import annotations

from search.analysis import Synonyms
from search.backend import ConfigurationError, SearchBackend, open_backend
from search.documents import entity_documents, offer_document, shop_document
from search.embedded import EmbeddedBackend
from search.meilisearch import MeiliBackend, MeiliReadOnlyError, MeiliTaskError
from search.opening_hours import OpeningHours
from search.query import FACET_NAMES, OfferHit, SearchAnswer, SearchQuery, ShopHit

__all__ = [
    "FACET_NAMES",
    "ConfigurationError",
    "EmbeddedBackend",
    "MeiliBackend",
    "MeiliReadOnlyError",
    "MeiliTaskError",
    "OfferHit",
    "OpeningHours",
    "SearchAnswer",
    "SearchBackend",
    "SearchQuery",
    "ShopHit",
    "Synonyms",
    "entity_documents",
    "offer_document",
    "open_backend",
    "shop_document",
]
