"""The tantivy index layout: analyzers, schema, and a search document as a tantivy document.

Fields:
  ``title``     shop names (every spelling) or offer title, French-stemmed: worth a bonus
  ``text``      everything searchable, titles included, French-stemmed (exact and synonym clauses)
  ``text_fold`` the same words folded but not stemmed (typo and prefix clauses, counted on the
                word as written, like Meilisearch)
  ``title_fold`` the titles folded, not stemmed: a typo or a prefix found in a name outranks
                one found only in a category or a description (Meilisearch's attribute rule)
  ``filters``   folded exact values for filters, one term each (``city=saint_orens``, see
                ``filter_term``); on shops, ``city``/``category``/``platforms``/``services``
                keep the display value as a fast field for facet counts (offers have none:
                facets count shops, and a missing value costs nothing to aggregate)
  ``doc_type``  shop or offer, a fast field too: one aggregation splits totals and facets by kind
  ``schedule``  the shop's week of opening hours as one term (offers carry their shop's),
                see ``search.opening_hours``; "open now" lists the schedules open now
  ``topics``    a shop's plural-merged words (category, services, names, description): interests
  ``geo``       the grid cells holding the place, see ``search.embedded_geo``
  ``lat``/``lon`` fast f64 for distances; ``key`` a u64 per document (and ``key_term``, the same
                as a term) so an exact set of documents (those near the edge of a radius and
                inside it) can be named in one query
  ``payload``   the document as JSON: a shop's whole (``get`` returns it), an offer's hit fields
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import tantivy

from search.analysis import MAX_TOPICS, key, light_stems
from search.documents import SHOP
from search.embedded_geo import cell_tokens
from search.opening_hours import schedule_token

#: Bumped when the fields change: an index built with another version is not reused.
SCHEMA_VERSION = 3
#: tantivy's built-in whitespace tokenizer: for fields written as space-separated tokens.
TOKENS = "whitespace"

#: Names must not collide with tantivy's built-ins, which would silently win.
STEM_ANALYZER = "fr_fold_stem"
FOLD_ANALYZER = "fr_fold_only"

FACET_FIELDS = ("city", "category", "platforms", "services")
#: What an offer's payload keeps: the fields of an ``OfferHit`` (shops keep their whole document,
#: which ``get`` returns). Smaller payloads are cheaper to store and to read back.
OFFER_PAYLOAD = (
    "id",
    "doc_type",
    "entity_id",
    "source_id",
    "platform",
    "title",
    "price",
    "currency",
    "availability",
    "url",
    "shop_name",
    "city",
)


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
    for name in ("id", "entity_id"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc_type", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("key", fast=True)
    # The same number as a term: a set of terms of a text field is a cheap query, a set of
    # values of a number field is a scan of the whole column.
    builder.add_text_field("key_term", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name=STEM_ANALYZER, index_option="freq")
    builder.add_text_field("text", tokenizer_name=STEM_ANALYZER, index_option="freq")
    builder.add_text_field("text_fold", tokenizer_name=FOLD_ANALYZER, index_option="basic")
    builder.add_text_field("title_fold", tokenizer_name=FOLD_ANALYZER, index_option="basic")
    builder.add_text_field("filters", tokenizer_name=TOKENS, index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("schedule", tokenizer_name="raw", index_option="basic")
    for name in ("topics", "geo"):
        builder.add_text_field(name, tokenizer_name=TOKENS, index_option="basic")
    builder.add_float_field("lat", fast=True)
    builder.add_float_field("lon", fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def doc_key(doc_id: str) -> int:
    """A stable 63-bit number per document id."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def to_tantivy(document: dict[str, Any]) -> tantivy.Document:
    """Index one search document (from ``search.documents``).

    Written for speed (a rebuild calls it a million times): one ``add_text`` per text field,
    the pieces joined by a line break (the analyzers split on it; nothing here relies on word
    positions across pieces), and cached folding of the repeated values."""
    doc = tantivy.Document()
    doc.add_text("id", document["id"])
    doc.add_text("doc_type", document["doc_type"])
    doc.add_text("entity_id", document["entity_id"])
    number = doc_key(document["id"])
    doc.add_unsigned("key", number)
    doc.add_text("key_term", str(number))
    shop = document["doc_type"] == SHOP
    services = document["services"]
    if shop:
        titles = document["names"] or [document["name"]]
        platforms = document["platforms"]
        category = document.get("category")
        extra = [_slug_words(category), document.get("description"), document.get("address")]
        words = _topics(category, services, titles, document.get("description"))
        if words:
            doc.add_text("topics", " ".join(words))
    else:
        titles = [document["title"]]
        platforms = [document["platform"]]
        extra = [document.get("description"), document.get("offer_category")]
    title = "\n".join(titles)
    text = "\n".join(
        filter(None, [title, *services, *extra, document.get("city"), document.get("postcode")])
    )
    doc.add_text("title", title)
    doc.add_text("text", text)
    doc.add_text("text_fold", text)
    doc.add_text("title_fold", title)
    terms, facets = _filter_values(
        shop,
        document.get("city"),
        document.get("postcode"),
        document.get("category"),
        tuple(platforms),
        tuple(services),
    )
    doc.add_text("filters", terms)
    for field, value in facets:
        doc.add_text(field, value)
    schedule = schedule_token(document.get("opening_hours"))
    if schedule:
        doc.add_text("schedule", schedule)
    lat, lon = document.get("lat"), document.get("lon")
    if lat is not None and lon is not None:
        doc.add_float("lat", float(lat))
        doc.add_float("lon", float(lon))
        doc.add_text("geo", cell_tokens(float(lat), float(lon)))
    if not shop:  # an offer is only ever shown as a hit: keep what a hit shows
        document = {k: document[k] for k in OFFER_PAYLOAD if document.get(k) is not None}
    doc.add_bytes("payload", _payload(document))
    return doc


try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - an optional accelerator
    _orjson = None  # type: ignore[assignment]

#: ``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``, its C encoder built
#: once instead of once a document (a rebuild encodes a million).
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encoder = _make_encoder and _make_encoder(
    None,
    json.JSONEncoder().default,
    json.encoder.encode_basestring,
    None,
    ":",
    ",",
    False,
    False,
    True,
)


def _payload(document: dict[str, Any]) -> bytes:
    """The document's JSON as UTF-8: by orjson when every value is one it writes as
    ``json.dumps`` does (tests/test_search_embedded_feed.py compares both on the demo's
    shops), else by the C encoder."""
    if _orjson is not None and _plain_document(document):
        try:
            return _orjson.dumps(document)
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate
            pass
    if _encoder is None:  # a Python built without the C accelerator
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "".join(_encoder(document, 0)).encode("utf-8")


def _plain_document(document: dict[str, Any]) -> bool:
    """Text, None, floats that both write in the same notation (zero, or from 1e-4 to below
    1e16 in size), lists of texts and of dictionaries of texts (listings)."""
    for value in document.values():
        kind = type(value)
        if kind is str or value is None:
            continue
        if kind is float:
            if value != 0.0 and not 1e-4 <= abs(value) < 1e16:
                return False
        elif kind is list:
            for item in value:
                if type(item) is dict:
                    if not all(type(v) is str or v is None for v in item.values()):
                        return False
                elif type(item) is not str:
                    return False
        else:
            return False
    return True


def _topics(
    category: str | None, services: list[str], titles: list[str], description: str | None
) -> list[str]:
    """``topics([category, *services, *titles, description])``, the stems of the category and
    services (a few values shared by many shops) worked out once each."""
    found: dict[str, None] = {}
    for stems in (
        _known_stems(category),
        *map(_known_stems, services),
        *map(_title_stems, titles),
        _stems(description),
    ):
        for stem in stems:
            found[stem] = None
            if len(found) >= MAX_TOPICS:
                return list(found)
    return list(found)


def _stems(text: str | None) -> list[str]:
    """The stems ``topics`` takes from one text."""
    return light_stems(text.replace("_", " ").replace("-", " ") if text else "")


@lru_cache(maxsize=4096)
def _known_stems(text: str | None) -> tuple[str, ...]:
    return tuple(_stems(text))


@lru_cache(maxsize=16_384)  # names repeat: chains, and the same trades in many towns
def _title_stems(text: str) -> tuple[str, ...]:
    return tuple(_stems(text))


@lru_cache(maxsize=4096)  # a shop's offers share its values, and come right after it
def _filter_values(
    shop: bool,
    city: str | None,
    postcode: str | None,
    category: str | None,
    platforms: tuple[str, ...],
    services: tuple[str, ...],
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The filter terms (one per distinct folded value: "Livraison" and "livraison" count once)
    as one whitespace-separated text, and on shops the (field, display value) pairs for facets.

    Shops rarely share all five values, so each part is worked out (and cached) on its own:
    a town, a postcode, a category, a set of platforms or of services repeats a lot."""
    terms: list[str] = []
    facets: list[tuple[str, str]] = []
    for name, value, facet in (
        ("city", city, shop),
        ("postcode", postcode, False),
        ("category", category, shop),
    ):
        if value:
            folded, term = _term(name, str(value))
            if folded:
                terms.append(term)
                if facet:
                    facets.append((name, str(value)))
    for name, values in (("platforms", platforms), ("services", services)):
        if values:
            listed, pairs = _list_values(name, values)
            if listed:
                terms.append(listed)
                if shop:
                    facets.extend(pairs)
    return " ".join(terms), tuple(facets)


@lru_cache(maxsize=4096)
def _list_values(name: str, values: tuple[str, ...]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``_filter_values``'s part for one field of several values: the terms as one text, and
    the (field, display value) facet pairs."""
    seen: set[str] = set()
    terms: list[str] = []
    facets: list[tuple[str, str]] = []
    for value in values:
        if not value:
            continue
        folded, term = _term(name, str(value))
        if folded and folded not in seen:  # the first spelling of a folded value shows
            seen.add(folded)
            terms.append(term)
            facets.append((name, str(value)))
    return " ".join(terms), tuple(facets)


@lru_cache(maxsize=65_536)  # towns, postcodes, categories, platforms and services repeat
def _term(name: str, value: str) -> tuple[str, str]:
    """The folded value and its ``filters`` term."""
    folded = _key(value)
    return folded, filter_term(name, folded) if folded else ""


def filter_term(name: str, folded: str) -> str:
    """The term of the ``filters`` field for one folded value: ``city=saint_orens``."""
    return f"{name}={folded.replace(' ', '_')}"


@lru_cache(maxsize=65_536)
def _key(value: str) -> str:
    return key(value)


def _slug_words(slug: str | None) -> str | None:
    return slug.replace("-", " ").replace("_", " ") if slug else None


def payload_of(doc: tantivy.Document) -> dict[str, Any]:
    raw = doc.get_first("payload")
    return json.loads(bytes(raw).decode("utf-8")) if raw is not None else {}
