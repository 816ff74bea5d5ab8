"""The Meilisearch side of the index layout: index settings, and a search document as sent.

Meilisearch does not stem French, so each document also carries a plural-merged copy of its
words (``*_stem``) and the query is plural-merged the same way (``query``): "boulangeries"
finds "boulangerie" without counting a typo, as it does in the embedded backend. Filters use
folded keys (``*_key``, the same values the embedded backend filters on), "open now" uses the
week's slot tokens and interests the shop's topic words; both come from the same functions the
embedded backend indexes with, so both backends keep the same documents.
"""

from __future__ import annotations

import hashlib
from typing import Any

from search.analysis import STOP_WORDS, Synonyms, key, light_stems, topics
from search.documents import SHOP
from search.opening_hours import slot_tokens
from search.query import MAX_FACET_VALUES, MAX_HITS

#: The fields of ``search.documents`` documents: what searches retrieve and ``get`` returns.
SHOP_FIELDS = (
    "id",
    "doc_type",
    "entity_id",
    "name",
    "names",
    "category",
    "description",
    "address",
    "postcode",
    "city",
    "phone",
    "website",
    "opening_hours",
    "services",
    "platforms",
    "listings",
    "lat",
    "lon",
)
OFFER_FIELDS = (
    "id",
    "doc_type",
    "entity_id",
    "product_key",
    "source_id",
    "platform",
    "title",
    "description",
    "price",
    "currency",
    "availability",
    "offer_category",
    "url",
    "image_url",
    "shop_name",
    "category",
    "postcode",
    "city",
    "services",
    "opening_hours",
    "lat",
    "lon",
)
PRIMARY_KEY = "uid"
#: Attribute order is Meilisearch's attribute rank: names and titles first.
SHOP_SEARCHABLE = [
    "names",
    "names_stem",
    "category_words",
    "services_words",
    "description",
    "text_stem",
    "address",
    "city",
    "postcode",
]
OFFER_SEARCHABLE = [
    "title",
    "title_stem",
    "offer_category",
    "description",
    "text_stem",
    "services_words",
    "city",
    "postcode",
]
FILTER_KEYS = ["city_key", "postcode_key", "category_key", "platforms_key", "services_key"]
#: Facets are counted on the display values (shops only): see ``search.query.FACET_NAMES``.
SHOP_FILTERABLE = [
    "doc_type",
    "entity_id",
    *FILTER_KEYS,
    "city",
    "category",
    "platforms",
    "services",
    "open_slots",
    "topics",
    "_geo",
]
OFFER_FILTERABLE = ["doc_type", "entity_id", *FILTER_KEYS, "open_slots", "_geo"]
#: Words, then fewer typos, then a distance sort when asked for, then the rest of relevance:
#: the order the embedded backend ranks in. Both indexes need the same rules to be federated.
RANKING_RULES = ["words", "typo", "sort", "proximity", "attribute", "exactness"]
#: Deep pages are not a customer's use; a low ceiling keeps every search fast. Each query of
#: a federated search is cut at this many hits, so ``query`` never asks past it.
MAX_TOTAL_HITS = MAX_HITS


def settings(kind: str, synonyms: Synonyms) -> dict[str, Any]:
    """The full settings of the shops (``kind == "shop"``) or the offers index."""
    shop = kind == SHOP
    return {
        "searchableAttributes": SHOP_SEARCHABLE if shop else OFFER_SEARCHABLE,
        "filterableAttributes": SHOP_FILTERABLE if shop else OFFER_FILTERABLE,
        "sortableAttributes": ["_geo"],
        "rankingRules": RANKING_RULES,
        "synonyms": synonym_map(synonyms),
        "stopWords": sorted(STOP_WORDS),
        # Meilisearch's own defaults, written out: the embedded backend applies the same.
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnAttributes": ["postcode"],
        },
        "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        # One product per shop in the answers, however many platforms list it.
        "distinctAttribute": None if shop else "product_key",
        # Proximity within an attribute only: much faster indexing, same answers for names.
        "proximityPrecision": "byAttribute",
    }


def synonym_map(synonyms: Synonyms) -> dict[str, list[str]]:
    """Every phrase of a group -> the group's other phrases, plural-merged like the query."""
    mapping: dict[str, list[str]] = {}
    for group in synonyms.groups:
        phrases = [" ".join(light_stems(" ".join(p))) for p in group]
        for phrase in phrases:
            others = [o for o in phrases if o != phrase]
            if phrase and others:
                mapping.setdefault(phrase, [])
                mapping[phrase] += [o for o in others if o not in mapping[phrase]]
    return mapping


def document_uid(doc_id: str) -> str:
    """Meilisearch ids allow only letters, digits, - and _: offer ids hold slashes."""
    return hashlib.blake2b(doc_id.encode(), digest_size=16).hexdigest()


def to_meili(document: dict[str, Any]) -> dict[str, Any]:
    """A ``search.documents`` document with the fields Meilisearch searches and filters on."""
    out = dict(document)
    out[PRIMARY_KEY] = document_uid(document["id"])
    shop = document["doc_type"] == SHOP
    platforms = document["platforms"] if shop else [document["platform"]]
    out["city_key"] = key(document["city"]) if document.get("city") else None
    out["postcode_key"] = key(document["postcode"]) if document.get("postcode") else None
    out["category_key"] = key(document["category"]) if document.get("category") else None
    out["platforms_key"] = _keys(platforms)
    out["services_key"] = _keys(document["services"])
    out["services_words"] = [s.replace("_", " ").replace("-", " ") for s in document["services"]]
    out["open_slots"] = list(slot_tokens(document.get("opening_hours")))
    if shop:
        names = document["names"] or [document["name"]]
        out["names_stem"] = [" ".join(light_stems(n)) for n in names]
        category = document.get("category") or ""
        out["category_words"] = category.replace("-", " ").replace("_", " ")
        stemmed = [document.get("description"), document.get("address")]
        out["topics"] = topics([category, *document["services"], *names, document["description"]])
    else:
        out["title_stem"] = " ".join(light_stems(document["title"]))
        stemmed = [document.get("description"), document.get("offer_category")]
    out["text_stem"] = " ".join(light_stems(" ".join(t for t in stemmed if t)))
    if document.get("lat") is not None and document.get("lon") is not None:
        out["_geo"] = {"lat": float(document["lat"]), "lng": float(document["lon"])}
    return out


def _keys(values: list[Any]) -> list[str]:
    return list(dict.fromkeys(k for k in (key(v) for v in values if v) if k))
