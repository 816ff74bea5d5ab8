"""Normalised forms of shop names, street addresses, postcodes and towns, for comparing only.

The original text stays on the record for display; these forms exist so that
"SARL Boulangerie du Centre" meets "boulangerie du centre", "12 bis av. Jean Jaurès" meets
"12B avenue Jean-Jaures" and "3 r. des Filatiers 31000 Toulouse Cedex 6" (all in one field)
meets "3 rue des Filatiers", postcode "31000", town "TOULOUSE".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dedupe.prepare.streets import (
    DIRECTIONS,
    STREET_TYPES,
    STREET_WORDS,
    TRAILING_TYPES,
    street_segment,
)
from dedupe.prepare.text import STOPWORDS, fold, with_prefix

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
        "sca",
        "gie",
        "sel",
        "selurl",
        # Elsewhere: "Enrico Ferezi Inc" is "Enrico Ferezi".
        "inc",
        "llc",
        "ltd",
        "plc",
        "gmbh",
        "corp",
        "incorporated",
        "limited",
    ]  # noqa: SIM905
)
#: Legal forms that are also ordinary words or initials: dropped only at either end of a name.
EDGE_LEGAL_FORMS: frozenset[str] = frozenset(["sa", "ei", "scp", "scm", "ets", "ets.", "me"])
#: Leading articles that platforms add or drop at will ("L'Épicerie" / "Epicerie", "The
#: Bonnington" / "Bonnington"), "chez", and what is left at the start once a legal form is
#: gone ("GAEC de la Ferme" -> "ferme").
LEADING_ARTICLES: frozenset[str] = frozenset(
    ["le", "la", "les", "l", "chez", "de", "du", "des", "d", "the"]
)

#: Street words too generic to tell streets apart (skipped for blocking keys).
STREET_TYPE_WORDS: frozenset[str] = frozenset(
    [
        "rue",
        "avenue",
        "boulevard",
        "place",
        "chemin",
        "route",
        "impasse",
        "allee",
        "faubourg",
        "cours",
        "quai",
        "square",
        "lotissement",
        "residence",
        "passage",
        "promenade",
        "esplanade",
        "hameau",
        "saint",
        "sainte",
        "grande",
        "grand",
        "zone",
        "street",
        "road",
        "lane",
        "drive",
        "terrace",
        "court",
        "crescent",
        "way",
        "north",
        "south",
        "east",
        "west",
    ]  # noqa: SIM905
)
#: Number suffixes: "12 bis", "12bis", "12 B", "12-14" (a range keeps its first number).
_NUMBER = re.compile(
    r"^(\d{1,5})"
    r"(?:\s+(?:a|au|et)\s+\d{1,5}\b"  # 12 a 14, 12 et 14
    r"|\s*(bis|ter|quater|quinquies|[a-d])\b(?:\s+(?:(?:a|au|et)\s+)?\d{1,5}\b)?"  # 12 bis
    r"|\s+\d{1,5}(?:\s*(?:bis|ter|quater|[a-d]))?\b)?"  # 12-14
    r"\s*"
)
_SUFFIXES = {"b": "bis", "t": "ter", "q": "quater", "a": "a", "c": "c", "d": "d"}
_ZIP_PLUS = re.compile(r"\d{5}[\s\-]\d{3,4}$")
_CEDEX = re.compile(r"\bcedex\b(\s*\d{1,2}\b)?")
#: A postcode after the street part, what follows is the town: "… 31000 Toulouse (Cedex 6)".
_POSTCODE_IN_TEXT = re.compile(r"\s(?:f\s)?(\d{5})(?:\s+(.*))?$")
_BOITE_POSTALE = re.compile(r"\b(?:bp|cs|tsa|cp)\s*\d+\b")
_LIEU_DIT = re.compile(r"\blieu\s*dit\b|\bld\b")
#: The same in the original text, to show an address without its postcode and town.
_TAIL_IN_ORIGINAL = re.compile(
    r"[\s,;\-]+(?:F-?\s?)?\d{2}\s?\d{3}(?:\s+\D.*)?$|[\s,]+cedex(?:\s*\d{1,2})?\s*$",
    re.IGNORECASE,
)


def normalise_name(name: str | None) -> str:
    """A shop name folded for comparing: no legal form, no leading article or "chez".

    >>> normalise_name("SARL Boulangerie du Centre")
    'boulangerie du centre'
    >>> normalise_name("L'Épicerie de Léa")
    'epicerie de lea'
    >>> normalise_name("Fruits & Légumes Dupont EURL")
    'fruits et legumes dupont'
    """
    return " ".join(_name_words(name))


def name_and_words(name: str | None) -> tuple[str, list[str]]:
    """The normalised name and its distinct words worth blocking on (no stopwords, no single
    letters), in one pass."""
    words = _name_words(name)
    keys = [w for w in dict.fromkeys(words) if len(w) > 1 and w not in STOPWORDS]
    return " ".join(words), with_prefix(keys)


def _name_words(name: str | None) -> list[str]:
    words = fold(name).split()
    if not words:
        return words
    if "s" in words[1:]:
        words = _possessives(words)
    if "and" in words[1:-1] or "und" in words[1:-1]:
        # "Toni and Guy" is "Toni & Guy" ("&" folds to "et").
        words = ["et" if w in ("and", "und") else w for w in words]
    if not LEGAL_FORMS.isdisjoint(words):
        words = [w for w in words if w not in LEGAL_FORMS] or words
    while len(words) > 1 and words[-1] in EDGE_LEGAL_FORMS:
        words.pop()
    while len(words) > 1 and (words[0] in EDGE_LEGAL_FORMS or words[0] in LEADING_ARTICLES):
        words.pop(0)
    return words


def _possessives(words: list[str]) -> list[str]:
    """A possessive joined to its word: "Jenny's" folds to "jenny s", read "jennys" as the
    platforms that drop the apostrophe write it."""
    out: list[str] = []
    for word in words:
        if word == "s" and out:
            out[-1] += "s"
        else:
            out.append(word)
    return out


#: ``fold`` of one word of a name, remembered: names share their words ("Boulangerie", "de").
_fold_word = lru_cache(maxsize=1 << 15)(fold)


def display_name(name: str | None) -> str:
    """The name as written, minus its legal form: ``"SARL Boulangerie du Centre"`` ->
    ``"Boulangerie du Centre"`` (for golden records; search keeps every spelling)."""
    words = (name or "").split()
    kept = [w for w in words if _fold_word(w) not in LEGAL_FORMS]
    while len(kept) > 1 and _fold_word(kept[-1]) in EDGE_LEGAL_FORMS:
        kept.pop()
    while len(kept) > 1 and _fold_word(kept[0]) in EDGE_LEGAL_FORMS:
        kept.pop(0)
    if words and kept and kept[0] != words[0]:
        # "GAEC de la Ferme du Moulin": the "de" belonged to the legal form.
        while len(kept) > 1 and _fold_word(kept[0]) in ("de", "du", "des", "d"):
            kept.pop(0)
        if kept[0][:2].lower() in ("d'", "d’") and len(kept[0]) > 2:
            kept[0] = kept[0][2:]
        kept[0] = kept[0][:1].upper() + kept[0][1:]
    text = " ".join(kept).strip(" -,")
    return text or (name or "").strip()


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """A street address split for comparing: ``number`` ("12 bis") and ``street``; the
    ``postcode`` and ``city`` found in the text when the source wrote them in one field."""

    number: str | None
    street: str
    postcode: str | None = None
    city: str | None = None
    #: The last number of a range ("39-41 George St": 41), else None.
    number_to: int | None = None

    def __repr__(self) -> str:
        shown = (self.number, self.street, self.postcode, self.city)
        return "ParsedAddress(number={!r}, street={!r}, postcode={!r}, city={!r}, ...)".format(
            *shown
        )

    @property
    def full(self) -> str:
        return f"{self.number} {self.street}" if self.number else self.street


def parse_address(address: str | None) -> ParsedAddress | None:
    """Split and normalise a French street address; ``None`` when nothing is left.

    >>> parse_address("12 bis av. Jean Jaurès")
    ParsedAddress(number='12 bis', street='avenue jean jaures', postcode=None, city=None, ...)
    >>> parse_address("3 r. des Filatiers 31000 Toulouse CEDEX 6")
    ParsedAddress(number='3', street='rue filatiers', postcode='31000', city='toulouse', ...)
    """
    if not fold(address):
        return None
    segment, number_to = street_segment(address or "")
    number, rest = split_number(fold(segment))
    street, postcode, city = parse_street_part(rest)
    if segment != address and postcode is None:
        # "12 rue X, 31000 Toulouse": the postcode and town are in another part.
        _, postcode, city = parse_street_part(split_number(fold(address))[1])
    if not street and not number:
        return None
    return ParsedAddress(number, street, postcode, city, number_to or None)


def split_number(folded: str) -> tuple[str | None, str]:
    """``"12 b av jean jaures"`` -> ``("12 bis", "av jean jaures")``; ranges keep their first
    number ("12-14"), a lone number is not a house number."""
    if _IDEOGRAPHS.search(folded):
        return _block_number(folded)
    head, _, rest = folded.partition(" ")
    if not head.isdigit() or len(head) > 5 or not rest:
        if not head[:1].isdigit():
            return _trailing_number(folded)
        return _split_number_slowly(folded)
    # "12 rue x" (most addresses): no suffix, no range.
    second = rest.partition(" ")[0]
    if second in _NUMBERED_STREET_WORDS:
        street, _, last = rest.rpartition(" ")
        if street and last.isdigit() and len(last) <= 5:
            # "31 Pte 2519": Mexican numbered streets ("31 Poniente"), the number after.
            return last.lstrip("0") or "0", f"{head} {street}"
    if second in _SUFFIX_WORDS or second.isdigit() or second in ("a", "au", "et"):
        return _split_number_slowly(folded)
    return head.lstrip("0") or "0", rest


#: The word after a street's number in Mexican numbered streets: "31 Pte", "3 Norte", "2 Sur".
_NUMBERED_STREET_WORDS = frozenset(["pte", "poniente", "ote", "oriente", "nte", "norte", "sur"])
#: Kana and CJK ideographs: an address written the Japanese (or Chinese) way.
_IDEOGRAPHS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: What Japanese and Chinese addresses write before the district, each part optional and
#: written by one source, left out by the other: the prefecture or province, the city or
#: county, the ward ("京都府京都市上京区天秤丸町182-1" / "上京区天秤丸町182-1").
_ADMINISTRATIVE = re.compile(
    r"^(?:東京都|北海道|京都府|大阪府|[^\d\s]{2,3}?[県省])?(?:[^\d\s]{1,5}?市(?!場))?"
    r"(?:[^\d\s]{1,4}?郡)?(?:[^\d\s]{1,4}?区)?"
)
#: Numbers before a Japanese district: "4-8七日町2".
_LEADING_BLOCK = re.compile(r"^(\d+(?:-\d+)*)(\D.*)$")
#: The words between a Japanese address's numbers: block (丁目), lot (番地, 番), house (号).
_BLOCK_WORDS = re.compile(r"丁目|番地|番|号")


def _block_number(folded: str) -> tuple[str | None, str]:
    """``"京都府京都市上京区天秤丸町182 1"`` -> ``("1", "天秤丸町182")``: a Japanese address
    from its district on, its numbers joined by dashes ("赤坂1丁目12-32" = "赤坂1-12-32"), the
    last one the house number. Sources write the prefecture, city and ward or not, full-width
    digits or not, spaces or not."""
    text = _BLOCK_WORDS.sub(" ", folded)
    out = ""
    for word in text.split():
        out += "-" + word if out[-1:].isdigit() and word[0].isdigit() else word
    leading = _LEADING_BLOCK.match(out)
    if leading:
        # "4-8 七日町2丁目": the lot and house written first, "七日町2丁目4-8" elsewhere.
        head, tail = leading.group(2), leading.group(1)
        out = head + ("-" if head[-1].isdigit() else "") + tail
    out = _ADMINISTRATIVE.sub("", out) or out
    street, dash, number = out.rpartition("-")
    if dash and street and number.isdigit() and len(number) <= 4:
        return number.lstrip("0") or "0", street
    return None, out


def _trailing_number(folded: str) -> tuple[str | None, str]:
    """``"easter road 139"`` -> ``("139", "easter road")``: the number written after the
    street (OpenStreetMap, much of Europe); "58 59" keeps its first number, and five digits
    are a postcode, not a house number."""
    words = folded.split()
    if len(words) >= 3 and len(words[-1]) == 1 and words[-1] in "abcd" and words[-2].isdigit():
        words[-2:] = [words[-2] + words[-1]]  # "Hauptstraße 12 B"
    if len(words) >= 2 and _LETTERED.fullmatch(words[-1]):
        # "Hauptstraße 12B": the number and its letter.
        number, letter = words[-1][:-1].lstrip("0") or "0", words[-1][-1]
        return f"{number} {_SUFFIXES.get(letter, letter)}", " ".join(words[:-1])
    if len(words) < 2 or not words[-1].isdigit() or len(words[-1]) > 4:
        return None, folded
    if words[-2] in _BOX_WORDS:  # "BP 1234": a post-office box, not a house
        return None, folded
    end = len(words) - 1
    if end >= 2 and words[end - 1].isdigit() and len(words[end - 1]) <= 4:
        end -= 1
    street = words[:end]
    if len(street) >= 2 and street[-1] in _NUMBER_WORDS:
        street.pop()  # "Calle Granada No. 30", "Corso Allamano N. 195", "Cad. No:82"
    return words[end].lstrip("0") or "0", " ".join(street)


_LETTERED = re.compile(r"\d{1,4}[a-d]")
_BOX_WORDS = frozenset(["bp", "cs", "tsa", "cp", "cedex", "po", "box"])
#: Words that announce the house number after the street: "No. 30", "Nº 118", "N. 195".
_NUMBER_WORDS = frozenset(["no", "n", "nr", "nro", "num", "numero"])
_SUFFIX_WORDS = frozenset(["bis", "ter", "quater", "quinquies", "b", "c", "d"])


def _split_number_slowly(folded: str) -> tuple[str | None, str]:
    match = _NUMBER.match(folded)
    if not match or match.end() >= len(folded):
        return None, folded
    number = match.group(1).lstrip("0") or "0"
    suffix = match.group(2)
    if suffix:
        number = f"{number} {_SUFFIXES.get(suffix, suffix)}"
    return number, folded[match.end() :]


def parse_street_part(text: str) -> tuple[str, str | None, str | None]:
    """What follows the house number, folded: ``(street, postcode, city)``. Boîtes postales,
    CEDEX and "lieu-dit" go; a postcode and the town after it are split off (one-field
    addresses)."""
    if "cedex" in text:
        text = _CEDEX.sub(" ", text)
    if "bp" in text or "cs" in text or "tsa" in text or "cp" in text:
        text = _BOITE_POSTALE.sub(" ", text)
    if "l" in text:
        text = _LIEU_DIT.sub(" ", text)
    text = " " + " ".join(text.split())
    postcode = city = None
    found = _POSTCODE_IN_TEXT.search(text)
    if found:
        # "12 rue X 31000 Toulouse": the postcode ends the street part, the town follows.
        postcode = found.group(1)
        city = normalise_city(found.group(2)) or None
        text = text[: found.start()]
    return normalise_street(text), postcode, city


def normalise_street(text: str) -> str:
    """Folded street words with the street type and common words spelled out."""
    words = text.split()
    if not words:
        return ""
    if "str" in text:
        # German streets: "Hauptstraße" / "Hauptstr.", "Lange Straße" / "Lange Str.".
        words = [w[:-4] if w.endswith("strasse") else w for w in words]
    if words[0] in ("ul", "ulica", "calle", "cl") and len(words) > 1 and not words[1].isdigit():
        # Polish "ul. Fabryczna" is written "Fabryczna" as often, Spanish "Calle Salvador
        # Galván" "Salvador Galván" (a numbered "Calle 9 Sur" keeps its word).
        words = words[1:]
    if len(words) > 2:
        # "Via della Cava" / "Via Cava", "Carrer de Sant Bartomeu" / "Carrer Sant Bartomeu",
        # "rue du Dr Roux" / "rue Dr Roux": the articles and prepositions inside a street's
        # name are written or left out; its first word stays ("La Canebière").
        kept = [w for w in words[1:] if w not in _PARTICLES]
        if kept:
            words = [words[0], *kept]
    if words[0] in ("us", "u") and len(words) > 1:
        words = _us_route(words)  # "US-97", "U S 2", "US Highway 301": "Highway 97"
    if words[0] in STREET_TYPES and not (len(words) == 2 and words[1] in TRAILING_TYPES):
        words[0] = STREET_TYPES[words[0]]
    elif words[0] in DIRECTIONS and len(words) > 1:
        words[0] = DIRECTIONS[words[0]]
    last = words[-1] if len(words) > 1 else ""
    tail = TRAILING_TYPES.get(last) or DIRECTIONS.get(last)
    if tail is None and len(words) > 2 and words[-2] in _TYPE_BEFORE_DISTRICT:
        # "Brougham Pl. Tollcross": the type, then the district after it.
        words[-2] = TRAILING_TYPES[words[-2]]
    body = [words[0], *(STREET_WORDS.get(w, w) for w in words[1:-1])] if tail else None
    if body is not None and tail is not None:
        if tail in DIRECTIONS.values() and len(words) > 2 and words[-2] in TRAILING_TYPES:
            body[-1] = TRAILING_TYPES[words[-2]]  # "broadway st w"
        return " ".join([*body, tail])
    return " ".join([words[0], *(STREET_WORDS.get(w, w) for w in words[1:])])


#: Articles and prepositions inside street names (French, Italian, Spanish, Portuguese).
_PARTICLES = frozenset(
    ["de", "del", "della", "delle", "dei", "degli", "di", "do", "da", "dos", "das", "la",
     "las", "los", "le", "les", "du", "des", "d", "l"]
)  # fmt: skip


def _us_route(words: list[str]) -> list[str]:
    """A United States numbered highway written as "highway N": "us 97", "u s 2", "us
    highway 301", "us hwy 1"."""
    if words[0] == "u" and words[1] != "s":
        return words
    rest = words[2:] if words[0] == "u" else words[1:]
    if len(rest) > 1 and rest[0] in ("highway", "hwy", "route", "rte"):
        rest = rest[1:]
    return ["highway", *rest] if rest and rest[0].isdigit() else words


#: Trailing street types also read before a district; "st" and "dr" are Saint and Docteur
#: there ("Rue St Rome").
_TYPE_BEFORE_DISTRICT = frozenset(TRAILING_TYPES) - {"st", "dr"}


def street_display(address: str | None) -> str | None:
    """The address as written, without the postcode and town written after it in one field:
    ``"12 rue X 31000 Toulouse"`` -> ``"12 rue X"``."""
    text = (address or "").strip()
    if not text:
        return None
    head = _TAIL_IN_ORIGINAL.sub("", text).strip(" ,;-")
    return head or text


def normalise_postcode(postcode: str | None) -> str | None:
    """Five digits, or ``None``. ``"1000"`` (a spreadsheet ate the zero) reads ``"01000"``."""
    if not postcode:
        return None
    digits = postcode if postcode.isdigit() else re.sub(r"\D", "", postcode)
    if len(digits) > 5 and _ZIP_PLUS.match(postcode.strip()):
        digits = digits[:5]  # "32547-3002" (ZIP+4), "57140-000" (CEP): the first five
    if len(digits) == 4:
        digits = "0" + digits
    return digits if len(digits) == 5 else None


def normalise_city(city: str | None) -> str:
    """A town folded for comparing: ``"Saint-Puy CEDEX"`` -> ``"saint puy"``."""
    folded = fold(city)
    if "cedex" in folded:
        folded = _CEDEX.sub(" ", folded)
    return " ".join(STREET_WORDS.get(w, w) for w in folded.split() if not w.isdigit())
