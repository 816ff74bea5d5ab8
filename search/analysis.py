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
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

from search.query import MAX_FACET_VALUES

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


#: Combining marks: the Latin ones (nearly all of French) go with one cheap regex pass, the
#: others through a table, only for text that is still not ASCII after it. A character-by-
#: character loop here was most of the cost of indexing a million documents.
_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]")  # U+034F is no mark
_OTHER_MARKS = {c: None for c in range(0x370, 0x1F000) if unicodedata.combining(chr(c))}


def fold(text: str) -> str:
    """Lowercase, without accents or ligatures: "Pâtisserie Œuf" -> "patisserie oeuf"."""
    if text.isascii():
        return text.casefold()
    folded = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_LIGATURES)))
    if not folded.isascii():
        folded = folded.translate(_OTHER_MARKS)
    return folded.casefold()


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


#: Most topic words kept per shop: the start of a long description says what the shop is.
MAX_TOPICS = 32


def topics(texts: Iterable[str | None]) -> list[str]:
    """A shop's topic words for interests: folded, plural-merged, no stop words, each once.

    Both backends index these same words, so an interest boosts the same shops in both.
    """
    found: dict[str, None] = {}
    for text in texts:
        for stem in light_stems(text.replace("_", " ").replace("-", " ") if text else ""):
            found[stem] = None
            if len(found) >= MAX_TOPICS:
                return list(found)
    return list(found)


def interest_phrases(interests: Iterable[str], synonyms: Synonyms) -> list[tuple[str, ...]]:
    """What each interest looks for in a shop's topics: phrases (every word needed), the
    interest itself and its synonyms, plural-merged like ``topics``."""
    phrases: dict[tuple[str, ...], None] = {}
    for interest in interests:
        for unit in synonyms.segment(interest.replace("_", " ").replace("-", " ")):
            for phrase in (unit.words, *unit.alternatives):
                phrases[tuple(light_stem(w) for w in phrase)] = None
    return list(phrases)


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


def merge_spellings(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Facet counts with values spelled differently but filtering alike ("Toulouse",
    "TOULOUSE") counted as one, under their most frequent spelling; biggest first, at most
    ``search.query.MAX_FACET_VALUES``. Exact: a document holds one spelling per key."""
    spellings: dict[str, list[tuple[str, int]]] = {}
    for label, count in counts:
        spellings.setdefault(_cached_key(str(label)), []).append((str(label), int(count)))
    merged = {
        (variants[0][0] if len(variants) == 1 else max(variants, key=lambda v: v[1])[0]): sum(
            count for _, count in variants
        )
        for variants in spellings.values()
    }
    ordered = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:MAX_FACET_VALUES])


@lru_cache(maxsize=65_536)
def _cached_key(label: str) -> str:
    return key(label)


def word_matcher(text: str, synonyms: Synonyms) -> Callable[[str], bool]:
    """Which folded words of a document a query matched (for highlights): its words and their
    synonyms (plurals merged), the last word as a prefix while typing, typos within budget."""
    units = synonyms.segment(text)
    if not units:
        return lambda word: False
    stems = {light_stem(w) for u in units for p in (u.words, *u.alternatives) for w in p}
    fuzzy = [(w, typo_budget(w)) for u in units for w in u.words if typo_budget(w)]
    prefix = units[-1].words[-1] if text and not text[-1].isspace() else None

    def is_match(word: str) -> bool:
        if light_stem(word) in stems or (prefix and len(prefix) >= 2 and word.startswith(prefix)):
            return True
        return any(_within(word, w, budget) for w, budget in fuzzy)

    return is_match


def _within(a: str, b: str, budget: int) -> bool:
    return Levenshtein.distance(a, b, score_cutoff=budget) <= budget


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
