"""How values look when shown: casing ranks and French title case for shouted text.

Platforms write "BOULANGERIE ANGE", "boulangerie ange" and "Boulangerie Ange" for one shop;
golden records show the properly cased spelling when a member has one, and recase shouted text
(``smart_title``) when none does. Towns are shown without "Cedex" and postcodes.

>>> smart_title("PHARMACIE DE LA BOUQUERIE")
'Pharmacie de la Bouquerie'
>>> display_city("MONTREAL-DU-GERS CEDEX 2")
'Montreal-du-Gers'
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Small words kept lowercase inside a title ("Place de la Halle", "Saint-Jean-de-Luz").
SMALL_WORDS: frozenset[str] = frozenset(
    "de du des la le les l d et en sur sous aux au a à ou par pour".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CITY_NOISE = re.compile(r"\s*\bcedex\b.*$|^\s*\d{5}\s+|\s+\d{5}\s*$", re.IGNORECASE)
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæ")
_ELISIONS = frozenset(["l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"])


def casing_rank(text: str) -> int:
    """0 for mixed case ("Boulangerie Ange"), 1 for all lowercase, 2 for ALL CAPITALS; text
    without letters ranks 0. Survivorship prefers the lowest rank."""
    if text.isupper():
        return 2
    if text.islower():
        return 1
    return 0


def _title_word(word: str, first: bool) -> str:
    lower = word.lower()
    if not first and lower in SMALL_WORDS:
        return lower
    if len(word) <= 4 and word.isupper() and _VOWELS.isdisjoint(lower):
        return word  # an acronym without vowels: "SNCF", "BNP"
    return lower[:1].upper() + lower[1:]


def smart_title(text: str) -> str:
    """French title case for text written in capitals or in lowercase: small words stay
    lowercase except first, elisions keep their apostrophe ("l'Union", "d'Artagnan")."""
    out: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        start, end = match.span()
        out.append(text[position:start])
        before = text[start - 1] if start else ""
        first = not out or not "".join(out).strip()
        word = match.group(0)
        elided = re.search(r"(\w+)['’]$", text[:start]) if before in "'’" else None
        if elided and elided.group(1).lower() in _ELISIONS:
            # After an elided article the word is capitalised: "L'Union", "d'Artagnan".
            out.append(word[:1].upper() + word[1:].lower())
        elif elided:
            out.append(word.lower())  # "P'tit", "Aujourd'hui"
        else:
            out.append(_title_word(word, first))
        position = end
    out.append(text[position:])
    return "".join(out)


def tidy(text: str) -> str:
    """Shouted or flat text recased; properly cased text unchanged."""
    return smart_title(text) if casing_rank(text) else text


@lru_cache(maxsize=1 << 13)
def display_city(city: str | None) -> str | None:
    """A town as shown: no "Cedex n", no postcode, properly cased (remembered: golden records
    show the same few thousand towns again and again)."""
    text = _CITY_NOISE.sub("", (city or "").strip()).strip(" ,-")
    return tidy(text) if text else None
