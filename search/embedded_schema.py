"""The tantivy index layout: analyzers, schema, and a search document as a tantivy document.

Fields:
  ``title``     shop names (every spelling) or offer title, French-stemmed, boosted at query time
  ``text``      everything searchable, French-stemmed (exact and synonym clauses)
  ``*_fold``    the same words folded but not stemmed (typo and prefix clauses, counted on the
                word as written, like Meilisearch)
  ``*_key``     folded exact values for filters; ``city``/``category``/``platforms``/``services``
                keep the display value as a fast field for facet counts
  ``lat``/``lon`` fast f64 for the bounding box and distances; ``key`` a u64 per document so an
                exact set of documents (those inside a radius) can be named in one query
  ``payload``   the document itself, JSON, returned by ``get`` and used to build hits
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import tantivy

from search.analysis import key
from search.documents import SHOP

#: Bumped when the fields change: an index built with another version is not reused.
SCHEMA_VERSION = 1

#: Names must not collide with tantivy's built-ins, which would silently win.
STEM_ANALYZER = "fr_fold_stem"
FOLD_ANALYZER = "fr_fold_only"

FACET_FIELDS = ("city", "category", "platforms", "services")


def stem_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("french"))
        .build()
    )


def fold_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def register_analyzers(index: tantivy.Index) -> None:
    """Analyzers are not saved with the index: call on every open."""
    index.register_tokenizer(STEM_ANALYZER, stem_analyzer())
    index.register_tokenizer(FOLD_ANALYZER, fold_analyzer())


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("id", "doc_type", "entity_id"):
        builder.add_text_field(name, stored=name != "doc_type", tokenizer_name="raw")
    builder.add_unsigned_field("key", indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name=STEM_ANALYZER, index_option="freq")
    builder.add_text_field("text", tokenizer_name=STEM_ANALYZER, index_option="freq")
    builder.add_text_field("title_fold", tokenizer_name=FOLD_ANALYZER, index_option="basic")
    builder.add_text_field("text_fold", tokenizer_name=FOLD_ANALYZER, index_option="basic")
    for name in ("city_key", "postcode_key", "category_key", "platforms_key", "services_key"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_float_field("lat", indexed=True, fast=True)
    builder.add_float_field("lon", indexed=True, fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def doc_key(doc_id: str) -> int:
    """A stable 63-bit number per document id."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def to_tantivy(document: dict[str, Any]) -> tantivy.Document:
    """Index one search document (from ``search.documents``)."""
    doc = tantivy.Document()
    doc.add_text("id", document["id"])
    doc.add_text("doc_type", document["doc_type"])
    doc.add_text("entity_id", document["entity_id"])
    doc.add_unsigned("key", doc_key(document["id"]))
    if document["doc_type"] == SHOP:
        titles = document["names"] or [document["name"]]
        platforms = document["platforms"]
        extra = [*_slug_words(document.get("category")), document.get("description")]
        extra.append(document.get("address"))
    else:
        titles = [document["title"]]
        platforms = [document["platform"]]
        extra = [document.get("description"), document.get("offer_category")]
    searchable = [
        *titles,
        *document["services"],
        *extra,
        document.get("city"),
        document.get("postcode"),
    ]
    for title in titles:
        doc.add_text("title", title)
        doc.add_text("title_fold", title)
    for text in filter(None, searchable):
        doc.add_text("text", text)
        doc.add_text("text_fold", text)
    _add_values(doc, "city", [document.get("city")])
    _add_values(doc, "postcode", [document.get("postcode")], facet=False)
    _add_values(doc, "category", [document.get("category")])
    _add_values(doc, "platforms", platforms)
    _add_values(doc, "services", document["services"])
    if document.get("lat") is not None and document.get("lon") is not None:
        doc.add_float("lat", float(document["lat"]))
        doc.add_float("lon", float(document["lon"]))
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    doc.add_bytes("payload", payload.encode("utf-8"))
    return doc


def _add_values(doc: tantivy.Document, name: str, values: list[Any], facet: bool = True) -> None:
    """One value per key and document ("Livraison" and "livraison" count once)."""
    by_key: dict[str, str] = {}
    for value in values:
        if value and key(value):
            by_key.setdefault(key(value), str(value))
    for folded, value in by_key.items():
        doc.add_text(f"{name}_key", folded)
        if facet:
            doc.add_text(name, value)


def _slug_words(slug: str | None) -> list[str]:
    return [slug.replace("-", " ").replace("_", " ")] if slug else []


def payload_of(doc: tantivy.Document) -> dict[str, Any]:
    raw = doc.get_first("payload")
    return json.loads(bytes(raw).decode("utf-8")) if raw is not None else {}
