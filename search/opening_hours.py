"""Opening hours as shops write them (OpenStreetMap syntax, leniently) and "open now".

Handles what real feeds contain: ``Tu-Sa 07:00-19:30; Su 07:00-12:30``, ranges joined by " / "
(``Mo-Fr 09:00-12:30 / 14:00-19:30``), rules joined by ", " or by nothing at all
(``Mo 09H00-17H30 Tu 10H00-17H30``), ``9h`` for 09:00, ``off``/``closed``, ``24/7``, ranges past
midnight (``Fr 18:00-02:00``) and French day names. A rule it cannot read (public holidays,
months, week numbers, sunrise...) is left out: hours are only ever under-stated, so a shop said
to be open really is. Hours with no readable rule at all mean "never open now".

"Open now" means open for the whole of the current 5 minutes (Paris time): a shop closing at
19:32 is closed from 19:30. Both search backends apply exactly this, in two encodings:

* slot tokens (``slot_tokens``, Meilisearch): every fully open hour of the week, or else every
  fully open quarter, or else every fully open 5 minutes; the three tokens computed for the query
  time (``tokens_at``) match a shop exactly when its 5-minute slot is fully open. A filter on
  three values, whatever the number of documents.
* one schedule token (``schedule_token``, embedded): the week's intervals written out; the
  search lists the distinct schedules of the index, keeps those open now, and filters on them.
  One term per document instead of dozens: much cheaper to index with tantivy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
SLOT_MINUTES = 5

_DAY_NAMES = {
    **{name: i for i, name in enumerate(("mo", "tu", "we", "th", "fr", "sa", "su"))},
    **{name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
    **{
        name: i
        for i, name in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
}
_DAY = "|".join(sorted(_DAY_NAMES, key=len, reverse=True))
_TIME = r"(\d{1,2})(?:[:hH](\d{2})|[hH])"
_TOKEN = re.compile(
    rf"(?P<days>\b(?:{_DAY})\b\.?(?:\s*(?:-|–|au|à)\s*\b(?:{_DAY})\b\.?)?)"
    rf"|(?P<times>{_TIME}\s*(?:-|–|à)\s*{_TIME})"
    r"|(?P<always>24/7)"
    r"|(?P<off>\b(?:off|closed|ferm[ée]e?)\b)"
    r"|(?P<rule_sep>;|\|\|)"
    r"|(?P<sep>[,/]|\bet\b|\bde\b|\bdu\b|\s+|:)"
    r"|(?P<other>\S)",
    re.IGNORECASE,
)
_TIMES = re.compile(rf"{_TIME}\s*(?:-|–|à)\s*{_TIME}", re.IGNORECASE)


@dataclass(frozen=True)
class OpeningHours:
    """A week of opening times: sorted, disjoint ``[start, end)`` minutes from Monday 00:00."""

    intervals: tuple[tuple[int, int], ...]

    def is_open(self, at: datetime | None = None) -> bool:
        """Whether the shop is open for the whole 5 minutes around ``at`` (default: now), in
        Paris time (see the module)."""
        slot = week_minute(at) // SLOT_MINUTES * SLOT_MINUTES
        return any(start <= slot and slot + SLOT_MINUTES <= end for start, end in self.intervals)

    def schedule_token(self) -> str:
        """The week as one term: ``w`` then ``start-end`` minute intervals joined by dots."""
        return "w" + ".".join(f"{start}-{end}" for start, end in self.intervals)

    @classmethod
    def from_schedule_token(cls, token: str) -> OpeningHours:
        body = token[1:]
        intervals = [tuple(int(v) for v in part.split("-")) for part in body.split(".") if part]
        return cls(tuple((start, end) for start, end in intervals))

    def slot_tokens(self) -> list[str]:
        """Filter tokens for every open hour, quarter or 5 minutes of the week (see module)."""
        open_slots = {
            slot
            for start, end in self.intervals
            for slot in range(-(-start // SLOT_MINUTES), end // SLOT_MINUTES)
        }
        tokens: list[str] = []
        for hour in range(7 * 24):
            first = hour * 60 // SLOT_MINUTES
            if all(first + i in open_slots for i in range(12)):
                tokens.append(_hour_token(hour))
                continue
            for quarter in range(4):
                slots = [first + quarter * 3 + i for i in range(3)]
                if all(slot in open_slots for slot in slots):
                    tokens.append(_quarter_token(hour, quarter))
                else:
                    tokens += [_slot_token(s) for s in slots if s in open_slots]
        return tokens


def parse(text: str | None) -> OpeningHours | None:
    """The readable part of ``text``; None when nothing in it could be read."""
    if not text or not text.strip():
        return None
    week: dict[int, list[tuple[int, int]]] = {}
    readable = False
    for days, ranges in _rules(text):
        readable = True
        for day in days:
            week[day] = ranges  # a later rule replaces earlier ones for the days it names
    if not readable:
        return None
    minutes: list[tuple[int, int]] = []
    for day, ranges in week.items():
        for start, end in ranges:
            start, end = day * DAY_MINUTES + start, day * DAY_MINUTES + end
            if end <= WEEK_MINUTES:
                minutes.append((start, end))
            else:  # Sunday night past midnight continues on Monday morning
                minutes += [(start, WEEK_MINUTES), (0, end - WEEK_MINUTES)]
    return OpeningHours(_merge(minutes))


def is_open(text: str | None, at: datetime | None = None) -> bool:
    """Whether hours written as ``text`` say open at ``at``; unreadable hours never do."""
    hours = parse(text)
    return hours is not None and hours.is_open(at)


@lru_cache(maxsize=8192)
def slot_tokens(text: str | None) -> tuple[str, ...]:
    """``OpeningHours.slot_tokens`` of the readable part of ``text`` (cached: shops share
    hours)."""
    hours = parse(text)
    return tuple(hours.slot_tokens()) if hours is not None else ()


@lru_cache(maxsize=8192)
def schedule_token(text: str | None) -> str | None:
    """``OpeningHours.schedule_token`` of the readable part of ``text``, or None."""
    hours = parse(text)
    return hours.schedule_token() if hours is not None and hours.intervals else None


def tokens_at(at: datetime | None = None) -> list[str]:
    """The three tokens of which a shop open during ``at``'s 5-minute slot holds one."""
    slot = week_minute(at) // SLOT_MINUTES
    hour = slot * SLOT_MINUTES // 60
    quarter = (slot * SLOT_MINUTES % 60) // 15
    return [_hour_token(hour), _quarter_token(hour, quarter), _slot_token(slot)]


def week_minute(at: datetime | None = None) -> int:
    """Minutes since Monday 00:00, Paris time (a naive ``at`` is taken as Paris time)."""
    local = datetime.now(PARIS) if at is None else at
    if local.tzinfo is not None:
        local = local.astimezone(PARIS)
    return local.weekday() * DAY_MINUTES + local.hour * 60 + local.minute


def _hour_token(hour: int) -> str:
    return f"h{hour // 24}{hour % 24:02d}"


def _quarter_token(hour: int, quarter: int) -> str:
    return f"q{hour // 24}{hour % 24:02d}{quarter}"


def _slot_token(slot: int) -> str:
    minute = slot * SLOT_MINUTES
    return f"m{minute // DAY_MINUTES}{minute % DAY_MINUTES // 60:02d}{minute % 60:02d}"


class _Rule:
    def __init__(self) -> None:
        self.days: list[int] = []
        self.ranges: list[tuple[int, int]] = []
        self.closed = False
        self.readable = True

    @property
    def has_times(self) -> bool:
        return bool(self.ranges) or self.closed

    def result(self) -> tuple[list[int], list[tuple[int, int]]] | None:
        if not self.readable or not self.has_times:
            return None
        return (self.days or list(range(7))), ([] if self.closed else self.ranges)


def _rules(text: str) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """Rules as (days, minute ranges within a day, possibly past 24:00)."""
    rules: list[tuple[list[int], list[tuple[int, int]]]] = []
    rule = _Rule()

    def close() -> _Rule:
        found = rule.result()
        if found is not None:
            rules.append(found)
        return _Rule()

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "rule_sep":
            rule = close()
        elif kind == "days":
            if rule.has_times:
                rule = close()  # "Mo 09:00-12:00 Tu ...": a new day starts a new rule
            rule.days += _days(match.group())
        elif kind == "times":
            span = _span(match.group())
            if span is None:
                rule.readable = False
            elif span[1] > span[0]:  # "00:00-00:00" opens nothing
                rule.ranges.append(span)
        elif kind == "always":
            rule.ranges.append((0, DAY_MINUTES))
        elif kind == "off":
            rule.closed = True
        elif kind == "other":
            if rule.has_times:
                rule = close()
            rule.readable = False
    close()
    return rules


def _days(text: str) -> list[int]:
    names = [n.lower() for n in re.findall(_DAY, text, re.IGNORECASE)]
    first = _DAY_NAMES[names[0]]
    last = _DAY_NAMES[names[-1]]
    if last < first:  # "Sa-Mo" wraps over the week end
        return [*range(first, 7), *range(0, last + 1)]
    return list(range(first, last + 1))


def _span(text: str) -> tuple[int, int] | None:
    found = _TIMES.fullmatch(text)
    if found is None:
        return None
    values = [int(v) if v else 0 for v in found.groups()]
    h1, m1, h2, m2 = values
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= DAY_MINUTES:
        return None
    if end < start:  # past midnight: ends the next morning
        end += DAY_MINUTES
    return start, end


def _merge(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return tuple(merged)
