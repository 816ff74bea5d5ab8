"""Reviewers' decisions as the matcher uses them: the latest per pair, as row pairs.

The latest decision on a pair wins (a cannot-link wins a tie); must-links apply newest first,
so that when they contradict a cannot-link the older one yields. Decisions about records that
are not live in this run are kept but do nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aggregator.models import Decision, Verdict


def _rank(decision: Decision) -> tuple[datetime, bool]:
    when = decision.decided_at
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when, decision.verdict == Verdict.cannot_link


def latest(decisions: Iterable[Decision]) -> dict[tuple[str, str], Decision]:
    """The latest decision per pair of record keys (keys sorted)."""
    out: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        a, b = str(decision.a), str(decision.b)
        if a == b:
            continue
        pair = (a, b) if a < b else (b, a)
        if pair not in out or _rank(decision) > _rank(out[pair]):
            out[pair] = decision
    return out


def as_rows(
    decided: Mapping[tuple[str, str], Decision], row_of: Any
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """``(must-links newest first, cannot-links)`` between live rows (``row_of.get(key)``:
    a mapping or a :class:`~dedupe.prepare.columns.KeyIndex`)."""
    musts: list[tuple[float, tuple[str, str], tuple[int, int]]] = []
    cannots: list[tuple[int, int]] = []
    for pair, decision in decided.items():
        a, b = row_of.get(pair[0]), row_of.get(pair[1])
        if a is None or b is None:
            continue
        rows = (min(a, b), max(a, b))
        if decision.verdict == Verdict.must_link:
            musts.append((-_rank(decision)[0].timestamp(), pair, rows))
        else:
            cannots.append(rows)
    musts.sort(key=lambda item: (item[0], item[1]))
    return [rows for _, _, rows in musts], sorted(cannots)


def changed_pairs(
    before: Mapping[tuple[str, str], Decision], after: Mapping[tuple[str, str], Decision]
) -> set[tuple[str, str]]:
    """Pairs whose ruling differs between two decision sets."""
    return {
        pair
        for pair in set(before) | set(after)
        if (before.get(pair) and before[pair].verdict, before.get(pair) and _rank(before[pair]))
        != (after.get(pair) and after[pair].verdict, after.get(pair) and _rank(after[pair]))
    }
