"""Text folding shared by every normaliser: lowercase, accents off, punctuation to spaces."""

from __future__ import annotations

import re
import unicodedata

#: Letters NFKD does not decompose into ASCII. Latin letters with a stroke ("Łódź", "Đorđe",
#: "ħ") read as their base letter (:func:`_base_letter`); these need spelling out.
_LIGATURES = {
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o",
    "ı": "i", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ŋ": "ng", "Ŋ": "ng", "ĸ": "k",
}  # fmt: skip
#: Scripts whose combining marks are accents that sources add or drop at will (Latin, Greek,
#: Cyrillic, Hebrew and Arabic vowel points: below this code point). Elsewhere a mark is part of
#: the letter: Thai vowels ("ร้าน" is not "ราน"), Japanese voicing ("バス" is not "ハス").
_ACCENTED_SCRIPTS_END = 0x0800
#: "S.A.R.L." and "E.U.R.L" become "sarl" and "eurl" before dots turn into spaces.
_DOTTED_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}[^\W\d_]?\.?")


def _fold_table() -> dict[int, str]:
    """One translation does the whole fold for Latin text: case, accents, punctuation.

    Letters up to U+024F map to their ASCII base letters; typographic apostrophes, dashes,
    guillemets and no-break spaces to a space. Anything else stays, and sends ``fold`` down
    the slow (NFKD) path.
    """
    table: dict[int, str] = {}
    for code in range(0x250):
        char = chr(code)
        if char.isascii():
            # One character each way: CPython then translates ASCII text on its fast path.
            table[code] = char.lower() if char.isalnum() else " "
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if c.isascii() and c.isalnum()
        )
        table[code] = base.lower() or _base_letter(char) or " "
    for char, text in _LIGATURES.items():
        table[ord(char)] = text
    for char in "’‘ʼ´`‐‑‒–—―«»\u00a0\u202f\u2009":
        table[ord(char)] = " "
    return table


def _base_letter(char: str) -> str:
    """The base letter of a Latin letter NFKD leaves whole: "ł" (LATIN SMALL LETTER L WITH
    STROKE) -> "l"; "" for anything else."""
    name = unicodedata.name(char, "")
    if not name.startswith(("LATIN SMALL LETTER ", "LATIN CAPITAL LETTER ")):
        return ""
    letter = name.split(" LETTER ", 1)[1].split(" WITH ", 1)
    return letter[0].lower() if len(letter) == 2 and len(letter[0]) == 1 else ""


_FOLD = _fold_table()
#: Hiragana (and its iteration marks) to the katakana that spells the same sound.
_KANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}

#: Words that carry no identity in a French shop or street name (skipped for blocking keys).
STOPWORDS: frozenset[str] = frozenset(
    "a au aux d de des du en et l la le les sur sous chez un une the of and".split()  # noqa: SIM905
)


def strip_accents(text: str) -> str:
    """``"Épicerie Léa"`` -> ``"Epicerie Lea"``; ligatures spelled out. The marks of scripts
    where they are part of the letter stay (``"ร้าน"``, ``"バス"``)."""
    text = unicodedata.normalize("NFKD", "".join(_LIGATURES.get(c, c) for c in text))
    kept: list[str] = []
    accented = True
    for ch in text:
        if unicodedata.combining(ch):
            if accented:
                continue
        else:
            accented = ord(ch) < _ACCENTED_SCRIPTS_END
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def fold(text: str | None) -> str:
    """Lowercase ASCII words separated by single spaces; ``&`` reads ``et``.

    >>> fold("L'Épicerie  de Léa & Cie.")
    'l epicerie de lea et cie'
    >>> fold("S.A.R.L. Œuvre")
    'sarl oeuvre'
    >>> fold("玉川高校前 バス停")
    '玉川高校前 バス停'
    >>> fold("コインランドリーはなこ")
    'コインランドリーハナコ'
    """
    if not text:
        return ""
    if "." in text:
        text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    if "&" in text:
        text = text.replace("&", " et ")
    folded = text.translate(_FOLD)
    if not folded.isascii():
        # A character outside Latin-1/Extended: the general path. Letters of other scripts
        # (Thai, Japanese, Greek...) and their vowel marks stay: they are the name.
        folded = "".join(
            c if c.isalnum() or unicodedata.category(c)[0] == "M" else " "
            for c in strip_accents(text).lower().replace("&", " et ")
        )
        # Hiragana read as katakana: one sound written either way ("はなこ" / "ハナコ").
        folded = folded.translate(_KANA)
    return " ".join(folded.split())


def tokens(text: str) -> list[str]:
    """The words of already folded text."""
    return text.split()


def key_tokens(folded: str) -> list[str]:
    """Distinct words of folded text worth blocking on: no stopwords, no single letters; and
    the name's prefix (see :func:`with_prefix`)."""
    seen: dict[str, None] = {}
    for token in folded.split():
        if len(token) > 1 and token not in STOPWORDS:
            seen.setdefault(token, None)
    return with_prefix(list(seen))


#: Letters of a name's prefix key.
PREFIX = 4


def with_prefix(words: list[str]) -> list[str]:
    """``words`` and, as one more key, the first letters of the words written together
    (``"~danc"`` for "Dance Base" and "Dancebase", "~walm" for "Walmart" and "Walmart
    Supercenter"): names spelled with or without spaces, or in scripts written without them,
    still share a key. A prefix as common as a trade word is dropped like one."""
    squashed = "".join(words)
    if len(squashed) < PREFIX:
        return words
    return [*words, "~" + squashed[:PREFIX]]


def word_length(word: str) -> int:
    """A blocking word's length, negative for the name's prefix key (``"~walm"``), so that
    the prefix can be told from the words by its length alone."""
    return -len(word) if word.startswith("~") else len(word)
