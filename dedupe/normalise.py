"""Normalised forms of shop names, street addresses, postcodes and towns, for comparing only.

The original text stays on the record for display; these forms exist so that
"SARL Boulangerie du Centre" meets "boulangerie du centre" and "12 bis av. Jean Jaurès" meets
"12B avenue Jean-Jaures".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dedupe.text import fold

#: French legal forms that are dropped wherever they stand in a name.
LEGAL_FORMS: frozenset[str] = frozenset(
    [
        "sarl",
        "sas",
        "sasu",
        "eurl",
        "eirl",
        "earl",
        "scea",
        "gaec",
        "selarl",
        "selas",
        "selafa",
        "snc",
        "scop",
        "scic",
        "sarlu",
        "sci",
    ]
)
#: Legal forms that are also ordinary words or initials: dropped only at either end of a name.
EDGE_LEGAL_FORMS: frozenset[str] = frozenset(["sa", "ei", "scp", "scm", "ets"])
#: Leading articles that platforms add or drop at will ("L'Épicerie" / "Epicerie"), and what is
#: left at the start once a legal form is gone ("GAEC de la Ferme" -> "ferme").
LEADING_ARTICLES: frozenset[str] = frozenset(
    ["le", "la", "les", "l", "chez", "de", "du", "des", "d"]
)

#: Street-type abbreviations, expanded when they start the street part of an address.
STREET_TYPES: dict[str, str] = {
    "r": "rue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "boul": "boulevard",
    "av": "avenue",
    "ave": "avenue",
    "pl": "place",
    "chem": "chemin",
    "ch": "chemin",
    "che": "chemin",
    "rte": "route",
    "imp": "impasse",
    "all": "allee",
    "allees": "allee",
    "fg": "faubourg",
    "fbg": "faubourg",
    "crs": "cours",
    "qu": "quai",
    "sq": "square",
    "lot": "lotissement",
    "res": "residence",
    "resid": "residence",
    "pass": "passage",
    "prom": "promenade",
    "esp": "esplanade",
    "ham": "hameau",
    "carr": "carrefour",
    "rpt": "rond point",
}
#: Abbreviations expanded anywhere in the street ("Rue St Rome", "rue du Fbg Bonnefoy").
STREET_WORDS: dict[str, str] = {
    "st": "saint",
    "ste": "sainte",
    "fg": "faubourg",
    "fbg": "faubourg",
    "gal": "general",
    "gen": "general",
    "mal": "marechal",
    "pdt": "president",
    "allees": "allee",
}
#: What trails a house number: "12 bis", "12bis", "12 B", "12-14" (the first number is kept).
_NUMBER = re.compile(
    r"^(\d{1,5})(?:\s*(bis|ter|quater|quinquies|[a-d])\b)?(?:\s*(?:et\s+)?\d{1,5}\b)?\s*"
)
_SUFFIXES = {"b": "bis", "t": "ter", "a": "a", "c": "c", "d": "d"}
_CEDEX = re.compile(r"\bcedex\b(\s*\d{1,2}\b)?")
_POSTCODE_IN_TEXT = re.compile(r"\b(\d{5})\b")
_BOITE_POSTALE = re.compile(r"\b(?:bp|cs|tsa)\s*\d+\b")
_LIEU_DIT = re.compile(r"\blieu\s*dit\b|\bld\b")


def normalise_name(name: str | None) -> str:
    """A shop name folded for comparing: no legal form, no leading article.

    >>> normalise_name("SARL Boulangerie du Centre")
    'boulangerie du centre'
    >>> normalise_name("L'Épicerie de Léa")
    'epicerie de lea'
    """
    words = fold(name).split()
    words = [w for w in words if w not in LEGAL_FORMS]
    while len(words) > 1 and words[-1] in EDGE_LEGAL_FORMS:
        words.pop()
    while len(words) > 1 and (words[0] in EDGE_LEGAL_FORMS or words[0] in LEADING_ARTICLES):
        words.pop(0)
    return " ".join(words)


def display_name(name: str | None) -> str:
    """The name as written, minus its legal form: ``"SARL Boulangerie du Centre"`` ->
    ``"Boulangerie du Centre"`` (for golden records; search keeps every spelling)."""
    words = (name or "").split()
    kept = [w for w in words if fold(w) not in LEGAL_FORMS]
    while len(kept) > 1 and fold(kept[-1]) in EDGE_LEGAL_FORMS:
        kept.pop()
    while len(kept) > 1 and fold(kept[0]) in EDGE_LEGAL_FORMS:
        kept.pop(0)
    if words and kept and kept[0] != words[0]:
        # "GAEC de la Ferme du Moulin": the "de" belonged to the legal form.
        while len(kept) > 1 and fold(kept[0]) in ("de", "du", "des", "d"):
            kept.pop(0)
        if kept[0][:2].lower() in ("d'", "d’") and len(kept[0]) > 2:
            kept[0] = kept[0][2:]
        kept[0] = kept[0][:1].upper() + kept[0][1:]
    text = " ".join(kept).strip(" -,")
    return text or (name or "").strip()


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """A street address split for comparing: ``number`` ("12 bis") and ``street``."""

    number: str | None
    street: str
    #: A postcode found inside the address text (used when the record has none).
    postcode: str | None = None

    @property
    def full(self) -> str:
        return f"{self.number} {self.street}" if self.number else self.street


def parse_address(address: str | None) -> ParsedAddress | None:
    """Split and normalise a French street address; ``None`` when nothing is left.

    >>> parse_address("12 bis av. Jean Jaurès")
    ParsedAddress(number='12 bis', street='avenue jean jaures', postcode=None)
    >>> parse_address("Bd de Strasbourg, 31000 Toulouse CEDEX 6").full
    'boulevard de strasbourg'
    """
    text = fold(address)
    if not text:
        return None
    text = _CEDEX.sub(" ", text)
    text = _BOITE_POSTALE.sub(" ", text)
    text = _LIEU_DIT.sub(" ", text).strip()
    postcode = None
    found = _POSTCODE_IN_TEXT.search(text)
    if found and found.start() > 0:
        # "12 rue X 31000 Toulouse": the postcode ends the street part; the town is dropped.
        postcode = found.group(1)
        text = text[: found.start()].strip()
    number = None
    match = _NUMBER.match(text)
    if match and match.end() < len(text):
        suffix = match.group(2)
        number = match.group(1).lstrip("0") or "0"
        if suffix:
            number = f"{number} {_SUFFIXES.get(suffix, suffix)}"
        text = text[match.end() :]
    words = text.split()
    if words and words[0] in STREET_TYPES:
        words[0] = STREET_TYPES[words[0]]
    words = [words[0], *(STREET_WORDS.get(w, w) for w in words[1:])] if words else []
    street = " ".join(words)
    if not street and not number:
        return None
    return ParsedAddress(number=number, street=street, postcode=postcode)


def normalise_postcode(postcode: str | None) -> str | None:
    """Five digits, or ``None``. ``"1000"`` (a spreadsheet ate the zero) reads ``"01000"``."""
    if not postcode:
        return None
    digits = re.sub(r"\D", "", postcode)
    if len(digits) == 4:
        digits = "0" + digits
    return digits if len(digits) == 5 else None


def normalise_city(city: str | None) -> str:
    """A town folded for comparing: ``"Saint-Puy CEDEX"`` -> ``"saint puy"``."""
    words = _CEDEX.sub(" ", fold(city)).split()
    return " ".join(STREET_WORDS.get(w, w) for w in words if not w.isdigit())
