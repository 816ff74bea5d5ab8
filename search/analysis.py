"""French text analysis shared by the search backends: folding, stop words, plurals, synonyms.

The embedded backend stems with tantivy's Snowball French stemmer (the index and the query go
through the same analyzer); what lives here is what every backend needs in Python: folding values
into filter keys, splitting a query into words, dropping stop words, Meilisearch's typo budget,
a light plural stemmer (for synonym lookup, and for a stemmed copy of the text where an engine has
no French stemmer), synonym groups loaded from ``config/synonyms.yaml``, and the highlighter.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

#: Short French words that carry no meaning in a shop search ("boulangerie à Blagnac").
_STOP_WORDS = (
    "a au aux avec ce ces chez d dans de des du en et l la le les leur leurs ma mais me mes mon "
    "ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes ton tu un une "
    "vos votre vous y"
)
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS.split())

#: Meilisearch's defaults: no typo under 5 characters, 1 from 5, 2 from 9.
ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_WORD = re.compile(r"[0-9a-z]+")
_TEXT_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase, without accents or ligatures: "Pâtisserie Œuf" -> "patisserie oeuf"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The folded words of a text, split on anything that is not a letter or a digit."""
    return _WORD.findall(fold(text))


def key(value: object) -> str:
    """The exact-filter form of a value: folded words joined by one space ("Saint-Orens" ->
    "saint orens"), so a filter matches whatever case, accents or punctuation it is typed with."""
    return " ".join(words(str(value)))


def content_words(text: str) -> list[str]:
    """The query's words without stop words, unless the query is nothing but stop words."""
    found = words(text)
    kept = [w for w in found if w not in STOP_WORDS]
    return kept or found


def typo_budget(word: str) -> int:
    """How many typos a query word may carry (numbers and codes get none)."""
    if any(c.isdigit() for c in word):
        return 0
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= ONE_TYPO_FROM else 0


def light_stem(word: str) -> str:
    """Merge French plurals of a folded word: "fleurs" -> "fleur", "gateaux" -> "gateau"."""
    if len(word) > 3 and word.endswith("x") and word[-2] == "u":
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def light_stems(text: str) -> list[str]:
    """The text's content words, each with its plural merged."""
    return [light_stem(w) for w in words(text) if w not in STOP_WORDS]


@dataclass(frozen=True)
class Unit:
    """One piece of a query: a word, or several words that form a known synonym phrase.

    ``alternatives`` are the other phrases of the unit's synonym group(s), as folded words.
    """

    words: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Synonyms:
    """Groups of words or phrases a customer uses for the same thing ("boucher", "boucherie").

    Expansion happens at query time: a query phrase found in a group also looks for the group's
    other phrases. Lookup ignores case, accents, stop words and plurals.
    """

    groups: tuple[tuple[tuple[str, ...], ...], ...] = ()
    _lookup: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict, repr=False)
    _longest: int = 1

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[str]]) -> Synonyms:
        normalised: list[tuple[tuple[str, ...], ...]] = []
        lookup: dict[tuple[str, ...], list[int]] = {}
        for group in groups:
            phrases = tuple(dict.fromkeys(p for p in (_phrase(t) for t in group) if p))
            if len(phrases) < 2:
                continue
            for phrase in phrases:
                lookup.setdefault(_stem_key(phrase), []).append(len(normalised))
            normalised.append(phrases)
        longest = max((len(k) for k in lookup), default=1)
        return cls(tuple(normalised), {k: tuple(v) for k, v in lookup.items()}, longest)

    @classmethod
    def load(cls, path: str | Path) -> Synonyms:
        """Read ``{"groups": [[word or phrase, ...], ...]}`` from a YAML file."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        groups = data.get("groups", []) if isinstance(data, dict) else []
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise ValueError(f"{path}: expected 'groups:' followed by lists of words or phrases")
        return cls.from_groups([str(term) for term in group] for group in groups)

    def alternatives(self, phrase: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """The other phrases of every group the (folded) phrase belongs to."""
        own = _stem_key(phrase)
        found: dict[tuple[str, ...], None] = {}
        for index in self._lookup.get(own, ()):
            for other in self.groups[index]:
                if _stem_key(other) != own:
                    found[other] = None
        return tuple(found)

    def segment(self, text: str, max_units: int = 10) -> list[Unit]:
        """Split a query into units, longest synonym phrase first ("salon de coiffure" is one)."""
        tokens = content_words(text)
        units: list[Unit] = []
        i = 0
        while i < len(tokens) and len(units) < max_units:
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                phrase = tuple(tokens[i : i + size])
                alternatives = self.alternatives(phrase)
                if alternatives or size == 1:
                    units.append(Unit(phrase, alternatives))
                    i += size
                    break
        return units


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(w for w in words(text) if w not in STOP_WORDS)


def _stem_key(phrase: Sequence[str]) -> tuple[str, ...]:
    return tuple(light_stem(w) for w in phrase)


def highlight(
    text: str | None, is_match: Callable[[str], bool], max_chars: int = 160
) -> str | None:
    """An HTML-escaped excerpt of ``text`` around its first matching word, matches in ``<mark>``.

    ``is_match`` receives each word folded. Returns None when no word matches. Merchant text is
    untrusted: everything but the ``<mark>`` tags is escaped here.
    """
    if not text:
        return None
    spans = [m.span() for m in _TEXT_WORD.finditer(text) if is_match(fold(m.group()))]
    if not spans:
        return None
    start = max(0, spans[0][0] - max_chars // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    end = min(len(text), start + max_chars)
    parts: list[str] = ["…" if start else ""]
    cursor = start
    for lo, hi in spans:
        if lo < cursor or hi > end:
            continue
        parts += [html.escape(text[cursor:lo]), "<mark>", html.escape(text[lo:hi]), "</mark>"]
        cursor = hi
    parts.append(html.escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts)
