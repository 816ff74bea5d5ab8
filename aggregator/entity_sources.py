"""What an entity is built from, as one hash: a full matching skips the unchanged entities.

An entity's stored form (golden record, listings, names, offers) is a function of its members'
stored records, their last changes, the identifiers left to them once those shared too widely
are blanked, their category codes, the reviewers' field choices for it, its members' offers,
and the code and settings that build it. :class:`Sources` hashes those; when the hash equals
the one stored with the entity, building it again (the costliest part of writing a million
entities) would give the same document, so a full matching on an unchanged store builds
nothing again and writes nothing.

Two inputs reach past the members: a likely typo is judged by how many live records use a
word (:mod:`dedupe.golden.typos`), so the hash of an entity whose members' normalised names
differ holds how many live records use each word of those names (counted once for the whole
store, and only when such an entity is met); and shared identifiers are blanked over the whole
store, which the blanked identifiers in the hash account for.

Example::

    sources = Sources(result, hashes, choices, offer_hashes, fingerprint(settings))
    digest = sources.of(entity_id, rows)   # None: build it whatever was stored
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, cast

import numpy as np

import aggregator
import dedupe
from dedupe.golden.typos import word_uses
from dedupe.prepare.columns import gather

#: The modules whose code decides an entity's stored form: a change to any builds all again.
_CODE = (
    ("dedupe", "golden"),
    ("dedupe", "prepare"),
    ("dedupe", "state", "result.py"),
    ("aggregator", "models.py"),
    ("aggregator", "entity_build.py"),
    ("aggregator", "entity_sources.py"),
    ("aggregator", "shop_columns.py"),
)
#: The identifiers of a row that shared identifiers may blank: whether each is still there
#: is all a golden record reads from them beyond the record's content (their values are
#: string hashes, which differ from one process to the next).
_IDENTIFIERS = ("phone1", "email", "domain", "siret")


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
        self.state = state
        self.keys = state.table.keys
        self.dates = state.config.record_dates
        prepared = state.prepared
        self.names = prepared.names
        #: Per row: which identifiers are left, and the category code (a taxonomy position).
        self.prepared = np.column_stack(
            [*(getattr(prepared, name) != 0 for name in _IDENTIFIERS), prepared.category]
        ).astype(np.int64)
        #: Per row, the hash of its normalised name: members spelled alike share it.
        self.name_hash = prepared.name_hash
        self.hashes = hashes
        self.choices = choices
        self.offers = offers
        self.fingerprint = fingerprint

    @functools.cached_property
    def uses(self) -> Mapping[str, int]:
        """Word of a normalised name -> live records using it (what typos are judged by)."""
        return word_uses(self.state.prepared, self.state.alive)

    def of(self, entity_id: str, rows: Sequence[int]) -> str | None:
        """The hash of what the entity of these rows is built from; None when a member's
        content hash is unknown."""
        return self.of_many([(entity_id, rows)])[0]

    def of_many(self, clusters: Sequence[tuple[str, Sequence[int]]]) -> list[str | None]:
        """:meth:`of` each ``(entity id, rows)``, the rows' keys and bytes read together (a
        full matching hashes a million entities, four in five of one record)."""
        hashes, dates, offers = self.hashes, self.dates, self.offers
        every = np.fromiter(
            chain.from_iterable(rows for _, rows in clusters),
            np.int64,
            count=sum(len(rows) for _, rows in clusters),
        )
        # Per row: its key, content hash, last change and offers, as :meth:`of` joins them.
        texts: list[str | None] = []
        for key in gather(self.keys, every):
            content = hashes.get(key)
            if content is None:
                texts.append(None)
                continue
            text = f"{key}\x1f{content}\x1f{dates.get(key)}"
            listed = offers.get(key)
            texts.append("\x1f".join([text, *listed]) if listed else text)
        # A row's bytes are the same as a selection of it (a row of a C-ordered array).
        raw = self.prepared[every].tobytes()
        spelled = self.name_hash[every].tolist()
        width = self.prepared.shape[1] * self.prepared.itemsize
        out: list[str | None] = []
        at = 0
        for entity_id, rows in clusters:
            end = at + len(rows)
            found = texts[at:end]
            if None in found:
                out.append(None)
                at = end
                continue
            parts = [entity_id, *cast("list[str]", found)]
            if len(rows) > 1:
                first = spelled[at]
                if any(h != first for h in spelled[at + 1 : end]):  # a likely typo may weigh
                    words = sorted({w for row in rows for w in (self.names[row] or "").split()})
                    parts.extend(f"{word}={self.uses.get(word, 0)}" for word in words)
            chosen = self.choices.get(entity_id)
            if chosen:
                parts.append(repr(sorted(chosen.items())))
            data = "\x1f".join(parts).encode("utf-8") + raw[at * width : end * width]
            out.append(hashlib.blake2b(self.fingerprint + data, digest_size=16).hexdigest())
            at = end
        return out
