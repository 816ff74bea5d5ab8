"""Values as shop catalogues write them: prices with currency, availability spellings, HTML.

Shared by the ``merchant_feed``, ``shopify`` and ``woocommerce`` kinds. Example::

    parse_price("1,27 EUR")            # Price(amount=1.27, currency='EUR')
    normalise_availability("en stock") # 'in_stock'
    html_to_text("<p>Pain <b>bio</b></p>")  # 'Pain bio'
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import NamedTuple

#: The four availability values records carry, and the spellings seen in the wild for each
#: (compared lowercased, accents dropped, runs of spaces, dashes and underscores as one ``_``).
AVAILABILITY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "in_stock": (
        "in_stock", "instock", "available", "available_for_order", "limited_availability",
        "limitedavailability", "limited_stock", "in_store_only", "instoreonly", "online_only",
        "onlineonly", "en_stock", "disponible", "stock_limite",
    ),
    "out_of_stock": (
        "out_of_stock", "outofstock", "sold_out", "soldout", "discontinued", "unavailable",
        "not_available", "not_in_stock", "rupture", "rupture_de_stock", "en_rupture",
        "en_rupture_de_stock", "epuise", "indisponible", "hors_stock",
    ),
    "preorder": ("preorder", "pre_order", "precommande", "pre_commande", "en_precommande"),
    "backorder": (
        "backorder", "back_order", "backordered", "on_backorder", "onbackorder", "sur_commande",
        "en_reapprovisionnement", "en_cours_de_reapprovisionnement",
    ),
}  # fmt: skip
_AVAILABILITY = {
    spelling: value for value, spellings in AVAILABILITY_SPELLINGS.items() for spelling in spellings
}
_SCHEMA_ORG = re.compile(r"^https?://schema\.org/", re.IGNORECASE)
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "₹": "INR"}
_PRICE = re.compile(
    r"^(?:(?P<before>[A-Za-z]{3}|[€$£₹])\s*)?"
    r"(?P<number>\d[\d\s.,'\u00a0\u202f]*)"
    r"(?:\s*(?P<after>[A-Za-z]{3}|[€$£₹]))?$"
)
_LOOKS_LIKE_HTML = re.compile(r"<\s*[a-zA-Z/!]|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
        "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_INVISIBLE = frozenset({"script", "style", "template", "noscript", "head", "iframe", "object"})


class Price(NamedTuple):
    amount: float
    currency: str | None


def parse_price(text: str, default_currency: str | None = None) -> Price:
    """``"63.60 EUR"``, ``"1,27 EUR"``, ``"INR 250.00"``, ``"12,50 €"``, ``"1 234,56 EUR"``.

    ``ValueError`` says why a text is no price. A price without currency takes
    ``default_currency``.
    """
    found = _PRICE.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a price like '12.50 EUR'")
    before, after = found["before"], found["after"]
    if before and after:
        raise ValueError(f"{text!r} names two currencies")
    symbol = before or after
    currency = _SYMBOLS.get(symbol, symbol.upper()) if symbol else default_currency
    return Price(parse_amount(found["number"]), currency)


def parse_amount(text: str) -> float:
    """A decimal number written with ``.`` or ``,`` as decimal mark and any thousands marks.

    When both marks appear the last one is the decimal mark; a mark that repeats
    (``1.234.567``, ``1,27,000``) or a lone ``,`` followed by exactly three digits (``1,270``)
    groups thousands.
    """
    digits = re.sub(r"[\s'\u00a0\u202f]", "", text)
    if not re.fullmatch(r"\d[\d.,]*", digits):
        raise ValueError(f"{text!r} is not a number")
    if "." in digits and "," in digits:
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
        if digits.count(decimal) > 1:
            raise ValueError(f"{text!r} is not a number")
        digits = digits.replace("," if decimal == "." else ".", "").replace(decimal, ".")
    elif "." in digits or "," in digits:
        mark = "." if "." in digits else ","
        decimals = len(digits) - digits.rfind(mark) - 1
        if digits.count(mark) > 1 or (mark == "," and decimals == 3):
            digits = digits.replace(mark, "")
        else:
            digits = digits.replace(mark, ".")
    try:
        return float(Decimal(digits))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None


def minor_units(amount: str | int, minor_unit: int) -> float:
    """An amount given in minor units: ``("1290", 2)`` -> 12.90."""
    text = str(amount).strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"{amount!r} is not an amount in minor units")
    return float(Decimal(text).scaleb(-minor_unit))


def selling_price(
    price: Price | None,
    sale: Price | None,
    effective: str | None = None,
    now: datetime | None = None,
) -> Price | None:
    """The price a customer pays now: the sale price when it is lower than the regular price, in
    the same currency, and ``effective`` (``start/end``, ISO 8601) is absent or covers ``now``."""
    if sale is None or (price is not None and (sale.currency != price.currency)):
        return price
    if price is not None and sale.amount >= price.amount:
        return price
    if effective and not _covers(effective, now or datetime.now(UTC)):
        return price
    return sale


def normalise_availability(text: str) -> str | None:
    """One of ``in_stock``, ``out_of_stock``, ``preorder``, ``backorder``; None when unknown."""
    key = _SCHEMA_ORG.sub("", text.strip())
    key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[\s_\-]+", "_", key).strip("_")
    return _AVAILABILITY.get(key)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, scripts and styles dropped with their
    content, entities decoded, one line per block, spaces collapsed. Never raises."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = ("".join(parser.parts)).split("\n")
    return "\n".join(filter(None, (" ".join(line.split()) for line in lines)))


def text_of(value: str) -> str:
    """``value`` stripped, as plain text when it holds HTML tags or entities."""
    return html_to_text(value) if _LOOKS_LIKE_HTML.search(value) else value.strip()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _covers(interval: str, now: datetime) -> bool:
    start_text, _, end_text = interval.partition("/")
    try:
        start = _instant(start_text)
        end = _instant(end_text) if end_text.strip() else None
    except ValueError:
        return False  # an unreadable window: the regular price is the safe one
    return start <= now and (end is None or now < end)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
