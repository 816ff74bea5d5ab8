"""Text folding shared by every normaliser: lowercase, accents off, punctuation to spaces."""

from __future__ import annotations

import re
import unicodedata

#: Letters NFKD does not decompose into ASCII.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o"})
#: Apostrophes and dashes typed in French text, all read as word separators.
_SEPARATORS = re.compile(r"[’'`´‘ʼ\-‐‑‒–—_/\\|]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
#: "S.A.R.L." and "E.U.R.L" become "sarl" and "eurl" before dots turn into spaces.
_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z]\.){2,}[a-z]?\.?")

#: Words that carry no identity in a French shop or street name (skipped for blocking keys).
STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "au",
        "aux",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l",
        "la",
        "le",
        "les",
        "sur",
        "sous",
        "chez",
        "un",
        "une",
        "the",
        "of",
        "and",
    ]
)


def strip_accents(text: str) -> str:
    """``"Épicerie Léa"`` -> ``"Epicerie Lea"``; ligatures spelled out."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """Lowercase ASCII words separated by single spaces; ``&`` reads ``et``.

    >>> fold("L'Épicerie  de Léa & Cie.")
    'l epicerie de lea et cie'
    """
    if not text:
        return ""
    if not text.isascii():
        text = strip_accents(text)
    text = text.lower().replace("&", " et ")
    text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _SEPARATORS.sub(" ", text)
    return _NON_ALNUM.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """The words of already folded text."""
    return text.split()


def key_tokens(folded: str) -> list[str]:
    """Distinct words of folded text worth blocking on: no stopwords, no single letters."""
    seen: dict[str, None] = {}
    for token in folded.split():
        if len(token) > 1 and token not in STOPWORDS:
            seen.setdefault(token, None)
    return list(seen)
