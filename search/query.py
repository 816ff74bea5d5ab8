"""What a customer asks (``SearchQuery``) and what every backend answers (``SearchAnswer``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aggregator.models import Listing

#: Facets a query may ask for: shop fields with a bounded set of values.
FACET_NAMES: tuple[str, ...] = ("city", "category", "platforms", "services")

MAX_PER_PAGE = 100
#: Hits a query can page through, shops and offers together: Meilisearch's ``maxTotalHits``
#: default. ``SearchAnswer.pages`` counts no page beyond it.
MAX_HITS = 1000
#: Most values listed per facet (counts stay exact); Meilisearch's ``maxValuesPerFacet``.
MAX_FACET_VALUES = 1000
#: Offers rank a little below shops that match as well: a customer first looks for a shop.
OFFER_WEIGHT = 0.9


class SearchQuery(BaseModel):
    """One "buy local" query: words, filters, a place, interests and a page.

    Filters (``city``, ``postcode``, ``category``, ``platform``, every one of ``services``) match
    exactly, whatever the case, accents or punctuation. ``open_now`` keeps shops whose opening
    hours say open at ``at`` (default: now, Paris time; unreadable hours are never open).
    ``radius_m`` keeps shops within that distance of ``lat``/``lon``; ``sort="distance"`` orders
    by distance from it (shops that match the words without typos still come first, as in
    Meilisearch). ``interests`` (taxonomy themes, or any words) move shops of those categories,
    services or words up without hiding the others. An empty ``text`` lists shops.

    Shops and offers are ranked together, as one list (Meilisearch's federated search); ``page``
    and ``per_page`` page through that list, and the answer splits each page into its shops and
    its offers. Offers are only looked for when there are words.
    """

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=500)
    city: str | None = None
    postcode: str | None = None
    category: str | None = None
    platform: str | None = None
    services: list[str] = Field(default_factory=list)
    open_now: bool = False
    #: The moment ``open_now`` refers to; None means the current time.
    at: datetime | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0)
    sort: Literal["relevance", "distance"] = "relevance"
    interests: list[str] = Field(default_factory=list)
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)
    facets: list[str] = Field(default_factory=lambda: list(FACET_NAMES))

    @field_validator("facets")
    @classmethod
    def _known_facets(cls, facets: list[str]) -> list[str]:
        unknown = sorted(set(facets) - set(FACET_NAMES))
        if unknown:
            raise ValueError(
                f"unknown facet(s) {', '.join(unknown)}; facets are: {', '.join(FACET_NAMES)}"
            )
        return list(dict.fromkeys(facets))

    @model_validator(mode="after")
    def _place_is_complete(self) -> SearchQuery:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        if self.lat is None and (self.radius_m is not None or self.sort == "distance"):
            raise ValueError("radius_m and sort='distance' need lat and lon")
        return self

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lon is not None


class ShopHit(BaseModel):
    """A shop in an answer. ``highlight`` is HTML: escaped merchant text with ``<mark>`` tags."""

    entity_id: str
    name: str
    category: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    phone: str | None = None
    website: str | None = None
    opening_hours: str | None = None
    services: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)
    listings: list[Listing] = Field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    distance_m: float | None = None
    score: float = 0.0
    highlight: str | None = None


class OfferHit(BaseModel):
    """A product or service in an answer, with the shop that sells it."""

    entity_id: str
    source_id: str
    platform: str
    title: str
    price: float | None = None
    currency: str | None = None
    availability: str | None = None
    url: str | None = None
    shop_name: str
    city: str | None = None
    distance_m: float | None = None
    score: float = 0.0


class SearchAnswer(BaseModel):
    """One page of shops and offers. ``total`` counts matching shops, ``offers_total`` matching
    offers; ``facets`` maps each requested facet to value -> number of matching shops."""

    hits: list[ShopHit] = Field(default_factory=list)
    offers: list[OfferHit] = Field(default_factory=list)
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)
    total: int = 0
    offers_total: int = 0
    took_ms: float = 0.0
    query: SearchQuery

    @property
    def pages(self) -> int:
        """Pages of ``query.per_page`` a customer can reach: the matches, shops and offers,
        up to ``MAX_HITS`` (a page past them answers no hits, only the totals and facets)."""
        reachable = min(self.total + self.offers_total, MAX_HITS)
        return -(-reachable // self.query.per_page)
