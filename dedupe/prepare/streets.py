"""The street part of an address: which of its parts names the street, and the words street
types and directions are written with.

Sources write one address many ways: "Lawnmarket, 304" and "304 Lawnmarket", a district or a
site beside the street ("11 Crichton St, Newington", "Gyle Shopping Centre, Gyle Ave"), a unit
("Unit 8", "Ste B"), ranges and lists of house numbers ("25-27-29", "7; 9").
:mod:`dedupe.prepare.values` folds what this keeps.
"""

from __future__ import annotations

import re

from dedupe.prepare.text import fold

#: Street-type abbreviations, expanded when they start the street part of an address.
STREET_TYPES: dict[str, str] = {
    "r": "rue", "bd": "boulevard", "bld": "boulevard", "bvd": "boulevard", "boul": "boulevard",
    "av": "avenue", "ave": "avenue", "avn": "avenue", "pl": "place", "chem": "chemin",
    "ch": "chemin", "che": "chemin", "chm": "chemin", "rte": "route", "rt": "route",
    "imp": "impasse", "all": "allee", "allees": "allee", "fg": "faubourg", "fbg": "faubourg",
    "crs": "cours", "qu": "quai", "qai": "quai", "sq": "square", "lot": "lotissement",
    "res": "residence", "resid": "residence", "pass": "passage", "prom": "promenade",
    "esp": "esplanade", "ham": "hameau", "carr": "carrefour", "rpt": "rond point",
    "za": "zone artisanale", "zac": "zone d activite", "zi": "zone industrielle",
    "mte": "montee", "vla": "villa", "sen": "sentier", "tra": "traverse",
    # Spanish and Portuguese types, folded onto the same words: "Av. de la Estación" /
    # "Avenida de la Estación", "R. Santos Dumont" / "Rua Santos Dumont".
    "avenida": "avenue", "avda": "avenue", "rua": "rue", "cl": "calle",
    # Indonesian and Malay "Jl. Karet" / "Jalan Karet"; a numbered highway ("Hwy 97").
    "jl": "jalan", "jln": "jalan", "hwy": "highway",
}  # fmt: skip
#: Abbreviations expanded anywhere in the street ("Rue St Rome", "rue du Fbg Bonnefoy").
STREET_WORDS: dict[str, str] = {
    "st": "saint", "ste": "sainte", "sts": "saints", "fg": "faubourg", "fbg": "faubourg",
    "gal": "general", "gen": "general", "mal": "marechal", "pdt": "president",
    "allees": "allee", "dr": "docteur", "prof": "professeur", "cdt": "commandant",
    "lt": "lieutenant", "cpt": "capitaine", "n": "notre", "nd": "notre dame",
    # Turkish: "Muradiye Mh. 100. Yıl Cd." is "Muradiye Mahallesi 100. Yıl Caddesi".
    "cad": "caddesi", "cd": "caddesi", "sok": "sokak", "sk": "sokak", "sokagi": "sokak",
    "mah": "mahallesi", "mh": "mahallesi", "bulv": "bulvari", "blv": "bulvari",
    # American: "7015 Village Ctr Dr" / "7025 Village Center Dr"; Mexican numbered streets
    # ("31 Pte", "3 Ote").
    "ctr": "center", "pte": "poniente", "ote": "oriente", "nte": "norte",
}  # fmt: skip
#: Street types written after the name (English and most countries using Latin script),
#: expanded when they end the street: "W. 47th St." -> "west 47th street".
TRAILING_TYPES: dict[str, str] = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "rd": "road",
    "dr": "drive", "ln": "lane", "pl": "place", "sq": "square", "ter": "terrace",
    "terr": "terrace", "blvd": "boulevard", "bd": "boulevard", "ct": "court", "cres": "crescent",
    "pkwy": "parkway", "hwy": "highway", "cir": "circle", "wy": "way", "gdns": "gardens",
    "trl": "trail", "ctr": "center", "expy": "expressway", "fwy": "freeway",
    "tpke": "turnpike", "xing": "crossing", "hts": "heights",
}  # fmt: skip
#: Compass directions, expanded when they start or end the street ("358 W 47th St").
DIRECTIONS: dict[str, str] = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "nw": "northwest", "ne": "northeast", "sw": "southwest", "se": "southeast",
}  # fmt: skip


#: A part of an address that is only a house number or a list of them: "304", "25-27-29",
#: "6A/8", "12 bis" (four digits at most: five are a postcode).
_ONLY_NUMBER = re.compile(
    r"\s*\d{1,4}\s*(?:bis|ter|quater|[a-dtq])?(?:\s*[-/&;]\s*\d{1,4}\s*[a-d]?)*\s*", re.IGNORECASE
)
#: A house number and a letter that is no number suffix (bis, ter, A-D): "1E", "12F".
_FLAT_LETTER = re.compile(r"^\s*(\d{1,4})[e-pr-su-z]\s*$", re.IGNORECASE)
#: A house number, a dash and what is not another number: "61 - Sala 409", "97 - Centro".
_NUMBER_THEN_MORE = re.compile(r"^\s*(\d{1,5}[a-zA-Z]?)\s+[-–]\s+(?!\d{1,4}\s*$)\S.*$")
#: A house number, then a unit without a dash: "529 lj 2", "1005 sala 3" (Brazil).
_NUMBER_THEN_UNIT = re.compile(
    r"^\s*(\d{1,5}[a-zA-Z]?)\s+(?:lj|loja|sl|sala|cj|conjunto|apto|bloco|piso|local|depto|dpto)"
    r"\b\.?\s*[\w/-]{0,6}\s*$",
    re.IGNORECASE,
)
#: A leading house number and the rest of its range: "39-41", "9/11", "25-27-29", "6A/8", and
#: OpenStreetMap's lists of numbers ("7; 9": one shop across two doors).
_LEADING_RANGE = re.compile(
    r"^\s*(\d{1,4})(\s*(?:bis|ter|quater|[a-d])\b)?((?:\s*[-/&;]\s*\d{1,4}[a-d]?\b)+)",
    re.IGNORECASE,
)
#: A part naming a unit within a building or site, not the street: "Unit 8", "Bât. B".
_SUB_PREMISE = re.compile(
    r"\s*(?:(?:ground|first|second|third|upper|lower|top|\d+(?:st|nd|rd|th|er|e|eme))\s+)?"
    r"(?:unit|suite|flat|apt|apartment|floor|level|shop|stall|kiosk|b[aâ]t|b[aâ]timent|"
    r"appt|appartement|[eé]tage|escalier|porte|lot|local|sala|sl|loja|lj|conjunto|cj|bloco|"
    r"apto|piso|depto|dpto|interior|int)\b\.?\s*[\w-]{0,4}\s*$",
    re.IGNORECASE,
)


def street_segment(address: str) -> tuple[str, int]:
    """The part of an address that holds the street, with a range of house numbers reduced to
    its first, and the range's last number (0 when there is no range).

    Sources write one address many ways: "Lawnmarket, 304" and "304 Lawnmarket"; "11 Crichton
    St, Newington" (a district after a comma); "Unit 8, Gyle Ave."; "Caledonian Crescent,
    25-27-29" and "25-29 Caledonian Crescent"; "12, rue X".

    >>> street_segment("Caledonian Crescent, 25-27-29")
    ('25 Caledonian Crescent', 29)
    >>> street_segment("11 Crichton St, Newington")
    ('11 Crichton St', 0)
    >>> street_segment("12, rue des Filatiers")
    ('12 rue des Filatiers', 0)
    """
    if "/" in address and _NO_NUMBER.search(address):
        # "Av. Américas y Vallarta S/N": sin número, no house number (Spanish, Portuguese).
        address = _NO_NUMBER.sub(" ", address).strip(" ,")
    segment = address
    if "," in address:
        parts = [p.strip() for p in address.split(",") if p.strip()]
        merged: list[str] = []
        for i, part in enumerate(parts):
            # "Ashley Terrace, 1E": a flat's letter after the number, not a street.
            part = _FLAT_LETTER.sub(r"\1", part)
            # "Rua Benjamin Constant, 61 - Sala 409", "Estr. da Boiada, 97 - Jardim Casa
            # Verde": the number, then a unit or district after a dash (Brazil).
            part = _NUMBER_THEN_MORE.sub(r"\1", part)
            part = _NUMBER_THEN_UNIT.sub(r"\1", part)  # "Rua X da Silva, 529 lj 2"
            if _ONLY_NUMBER.fullmatch(part):
                if merged and i == len(parts) - 1 or merged and not _has_number(merged[-1]):
                    merged[-1] = f"{part} {merged[-1]}"  # "Lawnmarket, 304"
                    continue
                if i + 1 < len(parts):
                    parts[i + 1] = f"{part} {parts[i + 1]}"  # "12, rue X"
                    continue
            merged.append(part)
        streets = [p for p in merged if not _SUB_PREMISE.fullmatch(p)] or merged
        segment = _street_part(streets)
    if "#" in segment:
        if segment.lstrip()[:1].isdigit():
            segment = _UNIT_AT_END.sub("", segment)  # "239 Main Ave E # 60"
        else:
            segment = segment.replace("#", " ")  # "Altamirano #140": the house number
    else:
        segment = _FLOOR_AT_END.sub("", segment)  # "165 King St 1st Floor"
        words = segment.rsplit(None, 2)  # "1325 W 1st Ave Ste 204", "6363 Main St Ste E"
        if len(words) == 3 and words[1].lower() in _UNIT_WORDS and _UNIT_ID.fullmatch(words[2]):
            segment = words[0]
    if not segment.lstrip()[:1].isdigit():
        if "/" in segment:
            # "Štefánikova 320/42": a building's register number, then its number on the
            # street (Czech, Slovak), which other sources write alone ("Štefánikova 42").
            segment = _REGISTER_THEN_NUMBER.sub(_number_on_street, segment)
        return segment, 0
    if "-" not in segment and "/" not in segment and "&" not in segment and ";" not in segment:
        return segment, 0
    if _KANA_OR_IDEOGRAPH.search(segment):
        return segment, 0  # "4-8 七日町2丁目": a lot and a house, read with the district
    found = _LEADING_RANGE.match(segment)
    if not found:
        return segment, 0
    first = int(found.group(1))
    last = max((int(n) for n in re.findall(r"\d+", found.group(3))), default=0)
    head = found.group(1) + (found.group(2) or "")
    return head + segment[found.end() :], last if last > first else 0


_NO_NUMBER = re.compile(r"(?<![\w/])s\s*/\s*n(?![\w/])\.?", re.IGNORECASE)
_KANA_OR_IDEOGRAPH = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: A number written after the street as two, the second smaller: "Sokolovská 192/79".
_REGISTER_THEN_NUMBER = re.compile(r"(?<!\S)(\d{1,5})\s*/\s*(\d{1,4})([a-zA-Z]?)\s*$")


def _number_on_street(found: re.Match[str]) -> str:
    register, number = int(found.group(1)), int(found.group(2))
    return found.group(2) + found.group(3) if number < register else found.group(0)


def _street_part(parts: list[str]) -> str:
    """The part naming the street: the first with a house number, then the first that reads
    as a street, else the first. A site before its street ("Gyle Shopping Centre, Gyle Ave",
    "Quartermile 1, 15 Lauriston Place") is not the street; a street before its district is.
    """
    if not parts:
        return ""
    numbered = [p for p in parts if _has_number(p)]
    for candidates in (numbered, parts):
        if len(candidates) > 1:
            return next((p for p in candidates if _reads_as_street(p)), candidates[0])
        if candidates:
            return candidates[0]
    return parts[0]


def _reads_as_street(part: str) -> bool:
    """Whether a part's first or last word is a street type ("Gyle Ave", "rue X", "Via Y")."""
    words = fold(part).replace(".", " ").split()
    if not words:
        return False
    last, first = words[-1], words[0]
    return (
        last in TRAILING_TYPES or last in _STREET_TYPE_NAMES or first in STREET_TYPES
        or first in _STREET_TYPE_NAMES or last.endswith(("strasse", "str", "weg", "gasse"))
    )  # fmt: skip


#: Street types written in full, first ("rue", "via", "calle") or last ("street", "road").
_STREET_TYPE_NAMES = frozenset(
    [*STREET_TYPES.values(), *TRAILING_TYPES.values(), "via", "viale", "calle", "rua", "avenida"]
)


#: A unit at the end of a street address: "Ste 204", "Suite 100", "Apt 5", "# 60".
_UNIT_WORDS = frozenset(
    f"{w}{end}"
    # Spanish and Portuguese too: "Paseo de Duraznos 127 Piso 4", "Av. X 100 Local 3".
    for w in ("ste", "suite", "apt", "unit", "bldg", "fl", "rm", "room", "piso", "int", "local",
              "depto", "dpto", "apto", "sala", "loja", "lj", "oficina")
    for end in ("", ".")
)  # fmt: skip
_UNIT_AT_END = re.compile(r"\s*#\s*\w[\w-]*\s*$")
#: A floor at the end of a street address: "1st Floor", "Ground Floor", "2nd Fl.".
_FLOOR_AT_END = re.compile(
    r"\s+(?:\d{1,2}(?:st|nd|rd|th)|ground|first|second|third|upper|lower|top)\s+(?:floor|fl)\.?\s*$",
    re.IGNORECASE,
)
#: What names the unit after such a word: a number ("Ste 204"), a letter or a letter and a
#: number ("Unit C", "Ste B1"). A word ("Ste Anne": Sainte Anne) is the street's.
_UNIT_ID = re.compile(r"\d[\w-]*|[A-Za-z](?:-?\d{1,4}[A-Za-z]?)?")


def _has_number(part: str) -> bool:
    """Whether a part holds a house number (four digits at most, first or last): a postcode
    and its town ("31000 Toulouse") do not."""
    return _HOUSE_NUMBER.search(part) is not None


_HOUSE_NUMBER = re.compile(r"^\s*\d{1,4}(?!\d)|(?<!\w)\d{1,4}[a-zA-Z]?\s*$")
