"""Schema.org shops and products in one page (JSON-LD, microdata, RDFa through extruct), turned into
shop and offer candidates for kind ``schema_org``: pure functions, HTML and URL in, dicts out.

Example::

    page = extract_page(html_bytes, "https://toutoulouse.fr/boutique/fournil")
    page.shops[0].fields  # {"source_id": "https://...", "name": "Le Fournil", "phone": ...}
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from extruct.jsonld import JsonLdExtractor
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_html, parse_xmldom_html
from extruct.w3cmicrodata import MicrodataExtractor

from connectors.schema_org.hours import opening_hours
from connectors.schema_org.values import SCHEMA_PREFIX as _SCHEMA_PREFIX
from connectors.schema_org.values import as_list as _as_list
from connectors.schema_org.values import defrag as _defrag
from connectors.schema_org.values import first as _first
from connectors.schema_org.values import get as _get
from connectors.schema_org.values import key as _key
from connectors.schema_org.values import number as _number
from connectors.schema_org.values import same_host as _same_host
from connectors.schema_org.values import text as _text
from connectors.schema_org.values import url as _url

SYNTAXES = ("json-ld", "microdata", "rdfa")
#: LocalBusiness subtypes (and farm-like types) whose names do not end in ``BUSINESS_SUFFIXES``.
BUSINESS_TYPES = frozenset(
    (  # noqa: SIM905 (a word list reads better than 50 quoted names)
        "LocalBusiness Bakery BarOrPub Brewery CafeOrCoffeeShop Distillery FastFoodRestaurant "
        "Winery IceCreamShop Pharmacy Optician Florist Farm FarmStand FarmersMarket Market "
        "Producer Dentist BeautySalon DaySpa HairSalon NailSalon TattooParlor Locksmith Plumber "
        "Electrician Notary HousePainter Physician VeterinaryCare Hotel BedAndBreakfast "
        "Campground GasStation AutoRepair AutoDealer AutoWash DryCleaningOrLaundry ChildCare "
        "TravelAgency RealEstateAgent Library ShoppingCenter SportsActivityLocation ExerciseGym "
        "FinancialService BankOrCreditUnion FoodEstablishment EntertainmentBusiness "
        "ProfessionalService LegalService Attorney"
    ).split()
)
BUSINESS_SUFFIXES = ("Store", "Shop", "Business", "Agency", "Restaurant", "Salon", "Dealer")
PRODUCT_TYPES = frozenset({"Product", "ProductModel", "IndividualProduct", "SomeProducts"})
OFFER_TYPES = frozenset({"Offer", "AggregateOffer"})
#: Properties walked to find shops and products nested in pages, lists and catalogues.
CONTAINER_KEYS = (  # noqa: SIM905
    "@graph mainEntity about itemListElement item hasPart makesOffer hasOfferCatalog department "
    "hasVariant itemOffered"
).split()
_SPACES = re.compile(r"\s+")
_JSON_LD = '//script[@type="application/ld+json"]'
_PRICE = re.compile(r"\d[\d\s.,]*")
_GENERIC = frozenset({"LocalBusiness"})
_COUNTRIES = {"france": "FR", "belgique": "BE", "espagne": "ES", "spain": "ES", "españa": "ES"}


@dataclass
class Candidate:
    """A shop or offer found in a page: fields of ``ShopRecord``/``OfferRecord`` (without
    ``platform``) and the schema.org item as extracted (kept as the raw record)."""

    fields: dict[str, Any]
    raw: dict[str, Any]


@dataclass
class PageExtraction:
    url: str  #: the canonical URL: source ids derive from it
    shops: list[Candidate] = field(default_factory=list)
    offers: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  #: e.g. a JSON-LD block that is not JSON


def extract_page(
    html: bytes, url: str, encoding: str = "utf-8", syntaxes: Sequence[str] = SYNTAXES
) -> PageExtraction:
    """Shops and offers of a page. Source ids are the canonical URL, ``#1``, ``#2``... appended
    when the page holds several of one kind; offers name their shop when it is known."""
    try:
        tree = parse_html(html, encoding=encoding)
    except Exception as exc:  # lxml: empty or undecodable document
        return PageExtraction(url=_defrag(url), problems=[f"cannot parse the page: {exc}"])
    page = PageExtraction(url=canonical_url(tree, url))
    things = list(_things(tree, url, syntaxes, page.problems))
    if "rdfa" in syntaxes and tree.xpath("//*[@typeof]"):  # RDFa is slow: only when typed
        nodes = RDFaExtractor().extract_items(parse_xmldom_html(html, encoding), base_url=url)
        things.extend(_from_rdfa(nodes))
    shops: list[tuple[dict[str, Any], dict[str, Any]]] = []
    products: dict[Any, tuple[dict[str, Any], int | None]] = {}
    geos: list[dict[str, Any]] = []
    add_shop = functools.partial(_add_shop, shops, page_url=url)
    for kind, thing, owner in _walk(things, None, set(), add_shop, 0):
        if kind == "geo":
            geos.append(thing)
            continue
        key = thing["@id"] if isinstance(thing.get("@id"), str) else id(thing)
        if key not in products or products[key][1] is None:
            products[key] = (thing, owner)
    _assign_page_geo(shops, geos)
    for index, (fields, raw) in enumerate(shops, 1):
        fields["source_id"] = page.url if len(shops) == 1 else f"{page.url}#{index}"
        fields["url"] = listing_url(raw, page.url)
        page.shops.append(Candidate(fields, raw))
    offers, kept = [], set()
    for product, owner in products.values():  # one product met in two syntaxes counts once
        fields = _offer_fields(product, url)
        if repr(sorted(fields.items())) not in kept:
            kept.add(repr(sorted(fields.items())))
            offers.append((fields, product, owner))
    for index, (fields, raw, owner) in enumerate(offers, 1):
        fields["source_id"] = page.url if len(offers) == 1 else f"{page.url}#{index}"
        shop = _owner(page, owner, raw, url)
        fields.update({"shop_source_id": shop} if shop else {})
        fields.setdefault("url", page.url)
        page.offers.append(Candidate(fields, raw))
    return page


def listing_url(thing: dict[str, Any], page_url: str) -> str:
    """Where a customer finds the shop on the platform: its ``url`` when that stays on the
    page's host (its own page there), else the page it was read from (canonical URL). A ``url``
    on another host is the shop's own website, read as such."""
    own = _url(thing.get("url"), page_url)
    if own and _same_host(own, page_url):
        return _defrag(own)
    return page_url


def canonical_url(tree: Any, url: str) -> str:
    """``<link rel=canonical>`` when it stays on the page's host, else the URL itself."""
    rel = "contains(concat(' ', translate(@rel, 'CANONIL', 'canonil'), ' '), ' canonical ')"
    for href in tree.xpath(f"//link[{rel}]/@href")[:1]:
        target = urljoin(url, href.strip())
        if urlsplit(target).scheme in ("http", "https") and _same_host(target, url):
            return _defrag(target)
    return _defrag(url)


def type_names(thing: Any) -> list[str]:
    """``@type`` as local names: ``http://schema.org/Bakery`` and ``schema:Bakery`` -> Bakery."""
    types = thing.get("@type", []) if isinstance(thing, dict) else []
    types = types if isinstance(types, list) else [types]
    return [_SCHEMA_PREFIX.sub("", t) for t in types if isinstance(t, str)]


def is_business(types: Sequence[str]) -> bool:
    return any(t in BUSINESS_TYPES or t.endswith(BUSINESS_SUFFIXES) for t in types)


# -- from the three syntaxes to JSON-LD-like dicts ---------------------------------------------
def _things(tree: Any, url: str, syntaxes: Sequence[str], problems: list[str]) -> Iterator[Any]:
    if "json-ld" in syntaxes:
        nodes: list[Any] = []
        for number, script in enumerate(tree.xpath(_JSON_LD), 1):
            try:
                nodes.extend(JsonLdExtractor().extract_items(script))
            except Exception as exc:
                problems.append(f"JSON-LD block {number} is not valid JSON: {exc}")
        flat = [n for item in nodes for n in [item, *_as_list(_get(item, "@graph"))]]
        ids = {n["@id"]: n for n in flat if isinstance(n, dict) and isinstance(n.get("@id"), str)}
        yield from (_resolve(node, ids, ()) for node in nodes)
    if "microdata" in syntaxes:
        for item in MicrodataExtractor().extract_items(tree, base_url=url):
            yield _from_microdata(item)


def _resolve(value: Any, ids: dict[str, Any], path: tuple[str, ...]) -> Any:
    """JSON-LD with ``{"@id": ...}`` references replaced by the nodes they name (cycle-safe)."""
    if isinstance(value, list):
        return [_resolve(v, ids, path) for v in value]
    if not isinstance(value, dict) or len(path) > 8:
        return value
    ref = value.get("@id")
    if set(value) == {"@id"} and isinstance(ref, str) and ref in ids and ref not in path:
        return _resolve(ids[ref], ids, (*path, ref))
    inner = (*path, ref) if isinstance(ref, str) else path
    return {k: _resolve(v, ids, inner) for k, v in value.items() if k != "@context"}


def _from_microdata(item: Any) -> Any:
    if isinstance(item, list):
        return [_from_microdata(v) for v in item]
    if not isinstance(item, dict) or "properties" not in item:
        return item
    thing: dict[str, Any] = {"@type": item.get("type", [])}
    if item.get("id"):
        thing["@id"] = item["id"]
    thing.update({k: _from_microdata(v) for k, v in item["properties"].items()})
    return thing


def _from_rdfa(nodes: list[dict[str, Any]]) -> list[Any]:
    """Flattened RDFa nodes as nested dicts (schema.org terms only); top-level nodes are those no
    other node refers to, sorted by content so blank-node names do not reorder them."""
    by_id = {n.get("@id"): n for n in nodes}
    referred = {v.get("@id") for n in nodes for vs in n.values() if isinstance(vs, list)
                for v in vs if isinstance(v, dict) and "@id" in v}  # fmt: skip

    def convert(node: dict[str, Any], depth: int) -> dict[str, Any]:
        thing: dict[str, Any] = {"@type": [t for t in node["@type"] if _SCHEMA_PREFIX.match(t)]}
        if not str(node.get("@id", "_:")).startswith("_:"):
            thing["@id"] = node["@id"]
        for key, values in node.items():
            if _SCHEMA_PREFIX.match(key) and isinstance(values, list):
                out = [value(v, depth) for v in values]
                thing[_SCHEMA_PREFIX.sub("", key)] = out[0] if len(out) == 1 else out
        return thing

    def value(v: dict[str, Any], depth: int) -> Any:
        target = by_id.get(v.get("@id"))
        if target is not None and "@type" in target and depth < 6:
            return convert(target, depth + 1)
        return v.get("@value", v.get("@id"))

    typed = [n for n in nodes if any(_SCHEMA_PREFIX.match(t) for t in n.get("@type", []))]
    tops = [convert(n, 0) for n in typed if n.get("@id") not in referred]
    return sorted(tops, key=repr)


# -- walking the things: shops, products and the business each product belongs to ---------------
def _walk(
    value: Any, owner: int | None, seen: set[int], add_shop: Callable[..., int], depth: int
) -> Iterator[tuple[str, dict[str, Any], int | None]]:
    """Products (with the index of the shop they are nested in) and coordinates found under
    ``value``; shops are handed to ``add_shop`` on the way."""
    if isinstance(value, list):
        for v in value:
            yield from _walk(v, owner, seen, add_shop, depth)
        return
    if not isinstance(value, dict) or id(value) in seen or depth > 10:
        return
    seen.add(id(value))
    types = type_names(value)
    if is_business(types):
        owner = add_shop(value, types)
    elif PRODUCT_TYPES.intersection(types):
        yield "product", value, owner
        return
    elif OFFER_TYPES.intersection(types) and isinstance(_first(value.get("itemOffered")), dict):
        product = dict(_first(value["itemOffered"]))
        product.setdefault("offers", {k: v for k, v in value.items() if k != "itemOffered"})
        product.setdefault("@type", "Product")
        yield "product", product, owner
        return
    elif "GeoCoordinates" in types or isinstance(_first(value.get("geo")), dict):
        yield "geo", value, owner
    for key in CONTAINER_KEYS:
        yield from _walk(value.get(key), owner, seen, add_shop, depth + 1)


def _add_shop(shops: list[Any], thing: dict[str, Any], types: list[str], page_url: str) -> int:
    """Index of the shop ``thing`` describes; one met again in another syntax (same name) is
    merged into the first, each field kept from where it was first found."""
    fields = _shop_fields(thing, types, page_url)
    raw = {k: v for k, v in thing.items() if k not in ("makesOffer", "hasOfferCatalog")}
    for index, (known, _) in enumerate(shops):
        if _key(known.get("name")) == _key(fields.get("name")):
            shops[index] = ({**fields, **known}, shops[index][1])
            return index
    shops.append((fields, raw))
    return len(shops) - 1


def _assign_page_geo(shops: list[Any], geos: list[dict[str, Any]]) -> None:
    """A page with one shop and one coordinate pair elsewhere (a map block): they go together."""
    lacking = [fields for fields, _ in shops if fields.get("lat") is None]
    if len(shops) == 1 and lacking and len(geos) == 1:
        lacking[0].update(_coordinates(geos[0]))


def _owner(page: PageExtraction, owner: int | None, product: dict[str, Any], url: str) -> Any:
    if owner is not None:
        return page.shops[owner].fields["source_id"]
    if len(page.shops) == 1:
        return page.shops[0].fields["source_id"]
    offer = _first(product.get("offers"))
    seller = _first(_get(offer, "seller") or _get(offer, "offeredBy") or {})
    for shop in page.shops:
        if seller and _key(shop.fields.get("name")) == _key(_text(_get(seller, "name"))):
            return shop.fields["source_id"]
    link = _url(_get(seller, "url") or _get(seller, "@id"), url)
    return _defrag(link) if link and _same_host(link, url) and not page.shops else None


# -- field mapping ------------------------------------------------------------------------------
def _shop_fields(thing: dict[str, Any], types: list[str], page_url: str) -> dict[str, Any]:
    address, contact = _first(thing.get("address")), _first(thing.get("contactPoint"))
    postal = address if isinstance(address, dict) else {}
    website = _url(thing.get("url"), page_url)  # on the platform's host: its page, not a site
    fields = {
        "name": _text(thing.get("name")) or _text(thing.get("legalName")),
        "address": _text(postal.get("streetAddress")) if postal else _text(address),
        "postcode": _text(postal.get("postalCode")),
        "city": _text(postal.get("addressLocality")),
        "country": _country(postal.get("addressCountry")),
        "phone": _contact(thing, postal, contact, "telephone", "tel:"),
        "email": _contact(thing, postal, contact, "email", "mailto:"),
        "website": website if website and not _same_host(website, page_url) else None,
        "siret": _siret(thing),
        "category": next((t for t in types if is_business([t]) and t not in _GENERIC), None),
        "description": _text(thing.get("description")),
        "opening_hours": opening_hours(thing),
        **_coordinates(thing),
    }
    return {k: v for k, v in fields.items() if v is not None}


def _offer_fields(product: dict[str, Any], page_url: str) -> dict[str, Any]:
    offers = [o for o in _as_list(product.get("offers")) if isinstance(o, dict)]
    priced = [(p, o) for o in offers for p in _prices(o) if p is not None]
    cheapest = min(priced, key=lambda x: (x[0], not x[1].get("availability")), default=None)
    price, offer = cheapest or (None, _first(offers) or {})  # the "from" price, as shops show it
    currency = _text(_get(offer, "priceCurrency")) or _text(
        _get(_first(_get(offer, "priceSpecification")), "priceCurrency")
    )
    fields = {
        "title": _text(product.get("name")) or _text(_get(offer, "name")),
        "description": _text(product.get("description")),
        "price": price,
        "currency": currency.upper() if currency else None,
        "availability": _availability(_get(offer, "availability")),
        "category": _text(product.get("category")),
        "url": _url(product.get("url"), page_url),
        "image_url": _url(
            _get(_first(product.get("image")), "url") or product.get("image"), page_url
        ),
    }
    return {k: v for k, v in fields.items() if v is not None}


def _prices(offer: dict[str, Any]) -> Iterator[float | None]:
    specification = _first(offer.get("priceSpecification"))
    for value in (offer.get("price"), _get(specification, "price"), offer.get("lowPrice")):
        yield parse_price(value)


def parse_price(value: Any) -> float | None:
    """``12,50 €``, ``1 234.56``, ``1.234,56`` or a number; None when there is no price."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value >= 0 else None
    match = _PRICE.search(_text(value) or "")
    if not match:
        return None
    digits = re.sub(r"\s", "", match.group()).rstrip(".,")
    decimal = max(digits.rfind(","), digits.rfind("."))
    if decimal >= 0 and len(digits) - decimal - 1 in (1, 2):
        digits = re.sub(r"[.,]", "", digits[:decimal]) + "." + digits[decimal + 1 :]
    else:
        digits = re.sub(r"[.,]", "", digits)
    return float(digits)


def _availability(value: Any) -> str | None:
    """``http://schema.org/InStock`` or ``in stock`` -> ``in_stock``."""
    text = _SCHEMA_PREFIX.sub("", _text(value) or "")
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).strip().lower()
    return re.sub(r"[\s-]+", "_", text) or None


def _coordinates(thing: dict[str, Any]) -> dict[str, float]:
    geo = _first(thing.get("geo"))
    source = geo if isinstance(geo, dict) else thing
    lat, lon = (_number(source.get(k)) for k in ("latitude", "longitude"))
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else {}


def _contact(thing: Any, postal: Any, contact: Any, key: str, scheme: str) -> str | None:
    """A telephone or e-mail on the business, else nested in its address or contact point."""
    for holder in (thing, postal, contact):
        value = _text(_get(holder, key))
        if value:
            return value.removeprefix(scheme).strip() or None
    return None


def _siret(thing: dict[str, Any]) -> str | None:
    for value in _as_list(thing.get("taxID")) + _as_list(thing.get("identifier")):
        digits = re.sub(r"\D", "", _text(_get(value, "value") or value) or "")
        if len(digits) == 14:
            return digits
    return None


def _country(value: Any) -> str | None:
    text = _text(_get(value, "name") or value)
    if not text:
        return None
    return text.upper() if len(text) == 2 and text.isalpha() else _COUNTRIES.get(text.lower())


# -- opening hours -----------------------------------------------------------------------------
