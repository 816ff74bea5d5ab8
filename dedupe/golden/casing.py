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
import unicodedata
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


@lru_cache(maxsize=1 << 12)
def _bare(char: str) -> str:
    """One character without case or accent, still one character: "É" -> "e", "œ" -> "œ"."""
    return unicodedata.normalize("NFD", char)[0].lower()


class _Bare(dict[int, str]):
    """Code point -> :func:`_bare` of its character, filled as characters are met (a
    ``str.translate`` table: one look-up a character, in C)."""

    def __missing__(self, point: int) -> str:
        self[point] = bare = _bare(chr(point))
        return bare


_BARE = _Bare()


def spelling_fold(text: str) -> str:
    """Two spellings of one text fold alike when they differ only by case, accents or spacing:
    "Rue de la République", "RUE DE LA REPUBLIQUE" and "rue de la  republique". One character
    of the fold per character of the text, spaces collapsed (see ``recase_like``).

    >>> spelling_fold("Rue de la  République") == spelling_fold("RUE DE LA REPUBLIQUE")
    True
    """
    return " ".join(text.split()).translate(_BARE)


def recase_like(text: str, model: str) -> str:
    """``text``'s letters (its accents) in ``model``'s case, when the two fold alike; else
    ``text``. "RUE DE LA RÉPUBLIQUE" cased like "Rue de la Republique" is "Rue de la République".
    """
    letters, cases = " ".join(text.split()), " ".join(model.split())
    if len(letters) != len(cases) or spelling_fold(letters) != spelling_fold(cases):
        return text
    out = []
    for char, case in zip(letters, cases, strict=True):
        if case.isupper():
            shown = char.upper()
        elif case.islower():
            shown = char.lower()
        else:
            shown = char
        out.append(shown if len(shown) == 1 else char)  # "ß" has no one-letter capital
    return "".join(out)
