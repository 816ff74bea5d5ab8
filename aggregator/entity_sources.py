"""What an entity is built from, as one hash: a full matching skips the unchanged entities.

An entity's stored form (golden record, listings, names, offers) is a function of its members'
stored records, their last changes, the identifiers left to them once those shared too widely
are blanked, their category codes, the reviewers' field choices for it, its members' offers,
and the code and settings that build it. :class:`Sources` hashes those; when the hash equals
the one stored with the entity, building it again (the costliest part of writing a million
entities) would give the same document, so a full matching on an unchanged store builds
nothing again and writes nothing.

Two inputs reach past the members: a likely typo is judged by how many live records use a
word (:mod:`dedupe.golden.typos`), so an entity whose members' normalised names differ gets no
hash and is always built; and shared identifiers are blanked over the whole store, which the
blanked identifiers in the hash account for.

Example::

    sources = Sources(result, hashes, choices, offer_hashes, fingerprint(settings))
    digest = sources.of(entity_id, rows)   # None: build it whatever was stored
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aggregator
import dedupe

#: The modules whose code decides an entity's stored form: a change to any builds all again.
_CODE = (
    ("dedupe", "golden"),
    ("dedupe", "prepare"),
    ("dedupe", "state", "result.py"),
    ("aggregator", "models.py"),
    ("aggregator", "entity_sources.py"),
    ("aggregator", "shop_columns.py"),
)
#: The blanked identifiers and the category code of a row, as golden records read them.
_PREPARED = ("phone1", "email", "domain", "siret", "category")


@functools.cache
def _code_hash() -> bytes:
    roots = {
        "dedupe": Path(dedupe.__file__).parent,
        "aggregator": Path(aggregator.__file__).parent,
    }
    digest = hashlib.blake2b(digest_size=16)
    for package, *parts in _CODE:
        path = roots[package].joinpath(*parts)
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(roots[package])).encode())
            digest.update(file.read_bytes())
    return digest.digest()


def fingerprint(taxonomy: Path | None, platform_priority: Mapping[str, int]) -> bytes:
    """The code and settings every entity is built with (the taxonomy file, the platforms'
    priorities): part of every entity's hash."""
    digest = hashlib.blake2b(_code_hash(), digest_size=16)
    digest.update(taxonomy.read_bytes() if taxonomy is not None else b"")
    digest.update(repr(sorted(platform_priority.items())).encode())
    return digest.digest()


class Sources:
    """The hash of what each entity of a matching result is built from."""

    def __init__(
        self,
        result: Any,
        hashes: Mapping[str, str],
        choices: Mapping[str, Any],
        offers: Mapping[str, Sequence[str]],
        fingerprint: bytes,
    ) -> None:
        state = result.state
        self.keys = state.table.keys
        self.dates = state.config.record_dates
        self.names = state.prepared.names
        self.prepared = [getattr(state.prepared, name) for name in _PREPARED]
        self.hashes = hashes
        self.choices = choices
        self.offers = offers
        self.fingerprint = fingerprint

    def of(self, entity_id: str, rows: Iterable[int]) -> str | None:
        """The hash of what the entity of these rows is built from; None when it reads more
        than its members (see the module's docstring) or a member's hash is unknown."""
        keys, names, prepared = self.keys, self.names, self.prepared
        parts: list[str] = [entity_id]
        name = None
        for n, row in enumerate(rows):
            key = keys[row]
            content = self.hashes.get(key)
            if content is None:
                return None
            if n == 0:
                name = names[row]
            elif names[row] != name:
                return None
            parts.append(key)
            parts.append(content)
            parts.append(str(self.dates.get(key)))
            parts.append(" ".join([str(int(column[row])) for column in prepared]))
            parts.extend(self.offers.get(key, ()))
        chosen = self.choices.get(entity_id)
        if chosen:
            parts.append(repr(sorted(chosen.items())))
        digest = hashlib.blake2b(self.fingerprint, digest_size=16)
        digest.update("\x1f".join(parts).encode("utf-8"))
        return digest.hexdigest()
