"""Stable entity ids: an entity keeps the id its members had, so links and decisions survive.

Rules, independent of the order records arrive in:

- an entity inherits the previous id held by most of its members (ties: the smallest id);
- when two entities claim one id, the entity with more members holding it keeps it (then the
  larger entity, then the one with the smallest member key); the other gets a derived id;
- a derived id is ``"e" + sha1(smallest member key)[:12]`` (``"platform:source_id"``), salted
  with ``#1``, ``#2``... in the unlikely case it is already taken.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Container, Mapping, Sequence

import numpy as np


def derived_id(min_key: str, salt: int = 0) -> str:
    """The id of an entity nobody had seen: from its smallest member key."""
    text = min_key if salt == 0 else f"{min_key}#{salt}"
    return "e" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def assign_entity_ids(
    clusters: Sequence[Sequence[str]],
    previous: Mapping[str, str],
    taken: Container[str] = frozenset(),
) -> list[str]:
    """One unique id per cluster (a cluster is its member keys as ``"platform:source_id"``).

    ``taken`` are ids other entities keep (an incremental run re-assigns only the clusters its
    changes touched): a cluster never claims them, and a derived id avoids them."""
    ids = claim_entity_ids(clusters, previous, taken)
    return derive_missing(clusters, ids, taken)


def claim_entity_ids(
    clusters: Sequence[Sequence[str]],
    previous: Mapping[str, str],
    taken: Container[str] = frozenset(),
) -> list[str | None]:
    """The inherited id of each cluster, or None: the first rule of :func:`assign_entity_ids`."""
    claims: dict[str, list[tuple[int, int, str, int]]] = {}
    if previous:
        for index, members in enumerate(clusters):
            if len(members) == 1:  # most clusters: its one member's id, if free
                claimed = previous.get(members[0])
                if claimed is not None and claimed not in taken:
                    claims.setdefault(claimed, []).append((-1, -1, members[0], index))
                continue
            held = [previous[m] for m in members if m in previous]
            counts = Counter(i for i in held if i not in taken)
            if not counts:
                continue
            top = max(counts.values())
            claimed = min(i for i, c in counts.items() if c == top)
            # Sort key: more holders first, then larger cluster, then smallest member key.
            claims.setdefault(claimed, []).append((-top, -len(members), min(members), index))
    ids: list[str | None] = [None] * len(clusters)
    for claimed, claimants in claims.items():
        ids[min(claimants)[3]] = claimed
    return ids


def derive_missing(
    clusters: Sequence[Sequence[str]], ids: list[str | None], taken: Container[str]
) -> list[str]:
    """``ids`` with a derived id for each cluster that inherited none."""
    used = {i for i in ids if i is not None}
    pending = [
        (min(members), index) for index, members in enumerate(clusters) if ids[index] is None
    ]
    fresh = [derived_id(min_key) for min_key, _ in pending]
    if len(set(fresh)) == len(fresh) and not any(f in used or f in taken for f in fresh):
        for (_, index), candidate in zip(pending, fresh, strict=True):
            ids[index] = candidate
        return ids  # type: ignore[return-value]
    # A derived id is taken (one in 2**48): salt in member-key order, deterministically.
    for min_key, index in sorted(pending):
        salt = 0
        candidate = derived_id(min_key)
        while candidate in used or candidate in taken:
            salt += 1
            candidate = derived_id(min_key, salt)
        ids[index] = candidate
        used.add(candidate)
    return ids  # type: ignore[return-value]


def derived_codes(min_keys: Sequence[str]) -> np.ndarray:
    """The derived ids of many keys at once, as 48-bit integers (see :class:`EntityIds`)."""
    sha1 = hashlib.sha1
    return np.fromiter(
        (int.from_bytes(sha1(k.encode("utf-8")).digest()[:6], "big") for k in min_keys),
        dtype=np.int64,
        count=len(min_keys),
    )


_DERIVED = re.compile(r"e[0-9a-f]{12}")


class EntityIds:
    """The entity id of every row, compactly: ids of the derived form (``"e"`` + 12 hex
    digits, most of them) as 48-bit integers, other ids (from earlier deployments, tests) in a
    side list; -1 is no id. A million rows take 8 MB instead of 60."""

    def __init__(self) -> None:
        self.codes = np.zeros(0, np.int64)
        self._others: list[str] = []
        self._other_code: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.codes)

    def extend(self, n: int) -> None:
        self.codes = np.concatenate([self.codes, np.full(n, -1, np.int64)])

    def encode(self, entity_id: str) -> int:
        if _DERIVED.fullmatch(entity_id):
            return int(entity_id[1:], 16)
        code = self._other_code.get(entity_id)
        if code is None:
            code = self._other_code[entity_id] = -2 - len(self._others)
            self._others.append(entity_id)
        return code

    def code_of(self, entity_id: str) -> int | None:
        """The code of an id, or None for an id no row was ever given (unlike :meth:`encode`,
        which registers it)."""
        if _DERIVED.fullmatch(entity_id):
            return int(entity_id[1:], 16)
        return self._other_code.get(entity_id)

    def decode(self, code: int) -> str | None:
        if code >= 0:
            return f"e{code:012x}"
        return None if code == -1 else self._others[-2 - code]

    def __getitem__(self, row: int) -> str | None:
        return self.decode(int(self.codes[row]))

    def __setitem__(self, row: int, entity_id: str | None) -> None:
        self.codes[row] = -1 if entity_id is None else self.encode(entity_id)

    def holds(self, entity_id: str, rows: np.ndarray) -> bool:
        """Whether one of ``rows`` holds ``entity_id``."""
        code = self._other_code.get(entity_id) if not _DERIVED.fullmatch(entity_id) else None
        if code is None and not _DERIVED.fullmatch(entity_id):
            return False
        value = int(entity_id[1:], 16) if code is None else code
        return bool((self.codes[rows] == value).any())


class Taken:
    """Ids held by the rows outside an update's region (``in`` tests, for id assignment)."""

    def __init__(self, ids: EntityIds, outside: np.ndarray) -> None:
        self.ids = ids
        self.codes = np.sort(ids.codes[outside & (ids.codes != -1)])

    def __contains__(self, entity_id: object) -> bool:
        if not len(self.codes) or not isinstance(entity_id, str):
            return False
        if _DERIVED.fullmatch(entity_id):
            code = int(entity_id[1:], 16)
        elif entity_id in self.ids._other_code:  # noqa: SLF001 - same module's helper
            code = self.ids._other_code[entity_id]  # noqa: SLF001
        else:
            return False
        at = int(np.searchsorted(self.codes, code))
        return at < len(self.codes) and int(self.codes[at]) == code

    def holds(self, codes: np.ndarray) -> np.ndarray:
        """For each of ``codes``, whether it is taken."""
        if not len(self.codes) or not len(codes):
            return np.zeros(len(codes), bool)
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        return self.codes[at] == codes

    def any_of(self, codes: np.ndarray) -> bool:
        if not len(self.codes) or not len(codes):
            return False
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        return bool((self.codes[at] == codes).any())
