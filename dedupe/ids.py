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
from collections import Counter
from collections.abc import Mapping, Sequence


def derived_id(min_key: str, salt: int = 0) -> str:
    """The id of an entity nobody had seen: from its smallest member key."""
    text = min_key if salt == 0 else f"{min_key}#{salt}"
    return "e" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def assign_entity_ids(clusters: Sequence[Sequence[str]], previous: Mapping[str, str]) -> list[str]:
    """One unique id per cluster (a cluster is its member keys as ``"platform:source_id"``)."""
    claims: dict[str, list[tuple[int, int, str, int]]] = {}
    for index, members in enumerate(clusters):
        counts = Counter(previous[m] for m in members if m in previous)
        if not counts:
            continue
        top = max(counts.values())
        claimed = min(i for i, c in counts.items() if c == top)
        # Sort key: more holders first, then larger cluster, then smallest member key.
        claims.setdefault(claimed, []).append((-top, -len(members), min(members), index))
    ids: list[str | None] = [None] * len(clusters)
    for claimed, claimants in claims.items():
        ids[min(claimants)[3]] = claimed
    used = {i for i in ids if i is not None}
    pending = sorted(
        (min(members), index) for index, members in enumerate(clusters) if ids[index] is None
    )
    for min_key, index in pending:
        salt = 0
        candidate = derived_id(min_key)
        while candidate in used:
            salt += 1
            candidate = derived_id(min_key, salt)
        ids[index] = candidate
        used.add(candidate)
    return [i for i in ids if i is not None]
