"""The category taxonomy: platform labels, OSM tags and NAF codes mapped onto theme slugs.

``config/taxonomy.yaml`` lists the themes; a platform's label is read as words (accents, case and
plurals ignored) and the theme named first wins, so "Boulangerie Pâtisserie Bio" is a
``boulangerie`` and "Producteur viticole" a ``cave`` (the longer phrase wins at one position).
A platform's own labels can be pinned to a theme (``platforms:`` in the YAML); NAF codes
(``naf:10.71C``, ``10.71C``, ``1071C``) map by subclass, else by their class (``10.71``).

>>> normalise_category("Boulangerie Pâtisserie")
'boulangerie'
>>> normalise_category("shop=cheese")
'fromagerie'
>>> normalise_category("naf:10.71C")
'boulangerie'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dedupe.prepare.text import fold

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "config" / "taxonomy.yaml"


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme: ``slug`` (``boulangerie``), French ``label``, ``group`` for facets."""

    slug: str
    label: str
    group: str | None = None
    synonyms: tuple[str, ...] = ()
    osm: tuple[str, ...] = ()
    naf: tuple[str, ...] = ()


#: A NAF (APE) code: "naf:10.71C", "APE 1071C", "10.71" (a class: every subclass).
_NAF = re.compile(
    r"^(?:(?:code\s*)?(?:naf|ape)\s*(?:rev\.?\s*2)?\s*[:=]?\s*)?(\d{2})\.?(\d{2})\s*([a-z])?$"
)


def naf_key(text: str) -> str | None:
    """``"naf:10.71C"`` -> ``"1071c"``; ``None`` when the text is not a NAF code."""
    match = _NAF.match(text.strip().lower())
    return None if match is None else "".join(g for g in match.groups() if g)


def _stem(word: str) -> str:
    """Plural off: ``legumes`` -> ``legume``, ``jeux`` -> ``jeu``."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in fold(text).split())


@dataclass(frozen=True)
class Taxonomy:
    """Themes by slug, with the lookup tables that map free labels into them."""

    themes: dict[str, Theme]
    groups: dict[str, str] = field(default_factory=dict)
    _phrases: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False)
    _osm: dict[str, str] = field(default_factory=dict, repr=False)
    _naf: dict[str, str] = field(default_factory=dict, repr=False)
    #: ``(platform, folded label)`` -> theme: a platform's own vocabulary, pinned.
    _labels: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Taxonomy:
        """Build from the YAML structure; a malformed theme raises ``ValueError`` naming it."""
        if not isinstance(data, dict) or not isinstance(data.get("themes"), dict):
            raise ValueError("taxonomy: expected a mapping with a 'themes' mapping")
        groups = {str(k): str(v) for k, v in (data.get("groups") or {}).items()}
        themes: dict[str, Theme] = {}
        phrases: dict[tuple[str, ...], str] = {}
        osm: dict[str, str] = {}
        naf: dict[str, str] = {}
        for slug, spec in data["themes"].items():
            if not isinstance(spec, dict) or not spec.get("label"):
                raise ValueError(f"taxonomy: theme {slug!r} needs a 'label'")
            group = spec.get("group")
            if group is not None and groups and group not in groups:
                raise ValueError(f"taxonomy: theme {slug!r} has unknown group {group!r}")
            theme = Theme(
                slug=str(slug),
                label=str(spec["label"]),
                group=group,
                synonyms=tuple(str(s) for s in spec.get("synonyms") or ()),
                osm=tuple(str(t).strip().lower() for t in spec.get("osm") or ()),
                naf=tuple(str(c) for c in spec.get("naf") or ()),
            )
            themes[theme.slug] = theme
            for text in (theme.slug, theme.label, *theme.synonyms):
                key = _phrase(text)
                owner = phrases.setdefault(key, theme.slug)
                if key and owner != theme.slug:
                    raise ValueError(
                        f"taxonomy: {text!r} maps to both {owner!r} and {theme.slug!r}"
                    )
            for tag in theme.osm:
                if "=" not in tag:
                    raise ValueError(f"taxonomy: theme {slug!r}: OSM tag {tag!r} is not key=value")
                osm[tag.replace(" ", "")] = theme.slug
            for code in theme.naf:
                naf_code = naf_key(code)
                if naf_code is None:
                    raise ValueError(f"taxonomy: theme {slug!r}: {code!r} is not a NAF code")
                if naf.setdefault(naf_code, theme.slug) != theme.slug:
                    raise ValueError(f"taxonomy: NAF {code!r} maps to two themes")
                naf.setdefault("class:" + naf_code[:4], theme.slug)
        labels: dict[tuple[str, str], str] = {}
        for platform, pinned in (data.get("platforms") or {}).items():
            for label, slug in (pinned or {}).items():
                if slug not in themes:
                    raise ValueError(f"taxonomy: platform {platform!r}: unknown theme {slug!r}")
                labels[(str(platform), fold(str(label)))] = str(slug)
        phrases.pop((), None)
        return cls(
            themes=themes, groups=groups, _phrases=phrases, _osm=osm, _naf=naf, _labels=labels
        )

    def normalise(self, category: str | None, platform: str | None = None) -> str | None:
        """The theme slug for a platform label, a slug, an OSM tag or a NAF code; ``None``
        when unknown. ``platform`` lets its pinned labels (``platforms:``) win."""
        if not category or not category.strip():
            return None
        text = category.strip()
        if text in self.themes:
            return text
        if platform and self._labels:
            pinned = self._labels.get((platform, fold(text)))
            if pinned:
                return pinned
        if text[:1].isdigit() or text[:3].lower() in ("naf", "ape", "cod"):
            key = naf_key(text)
            if key is not None:
                return self._naf.get(key) or self._naf.get("class:" + key[:4])
        if "=" in text:
            for tag in text.lower().replace(" ", "").split(";"):
                if tag in self._osm:
                    return self._osm[tag]
        words = _phrase(text)
        longest = max((len(p) for p in self._phrases), default=0)
        for start in range(len(words)):
            for length in range(min(longest, len(words) - start), 0, -1):
                slug = self._phrases.get(words[start : start + length])
                if slug:
                    return slug
        return None

    def group(self, slug: str | None) -> str | None:
        theme = self.themes.get(slug or "")
        return theme.group if theme else None

    def label(self, slug: str | None) -> str | None:
        theme = self.themes.get(slug or "")
        return theme.label if theme else None


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy YAML file (default: the project's ``config/taxonomy.yaml``)."""
    return _load(Path(path).resolve() if path else DEFAULT_TAXONOMY_PATH)


@lru_cache(maxsize=8)
def _load(path: Path) -> Taxonomy:
    with path.open(encoding="utf-8") as handle:
        return Taxonomy.from_dict(yaml.safe_load(handle))


def normalise_category(category: str | None, taxonomy: Taxonomy | None = None) -> str | None:
    """Map a platform's category label (or an OSM ``key=value`` tag) to a theme slug."""
    return (taxonomy or load_taxonomy()).normalise(category)
