"""schema.org opening hours (``openingHours`` text as real pages write it, such as
"Mo 09H00-17H30", and ``openingHoursSpecification``) normalised to OSM-like syntax."""

from __future__ import annotations

import re
from typing import Any

from connectors.schema_org.values import SCHEMA_PREFIX as _SCHEMA_PREFIX
from connectors.schema_org.values import as_list as _as_list
from connectors.schema_org.values import get as _get
from connectors.schema_org.values import text as _text

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = dict(zip(_WEEK, DAYS, strict=True))
_HOURS = re.compile(
    r"(?P<days>(?:mo|tu|we|th|fr|sa|su)\b(?:\s*-\s*(?:mo|tu|we|th|fr|sa|su)\b)?)"
    r"|(?P<oh>\d{1,2})(?:[:hH.](?P<om>\d{2}))?\s*[hH]?\s*[-\u2013]\s*"
    r"(?P<ch>\d{1,2})(?:[:hH.](?P<cm>\d{2}))?\s*[hH]?"
    r"|(?P<sep>[\s,;]+)|(?P<other>.)",
    re.IGNORECASE,
)


def opening_hours(thing: dict[str, Any]) -> str | None:
    """``openingHours`` and ``openingHoursSpecification`` as one OSM-like string: ``Mo 09H00-17H30``
    becomes ``Mo 09:00-17:30``, days sharing hours are grouped (``Mo-Fr 10:00-12:45,14:00-18:00``).
    Text that cannot be read is kept as written rather than guessed at."""
    week: dict[int, set[tuple[str, str]]] = {}
    texts = [t for t in map(_text, _as_list(thing.get("openingHours"))) if t]
    if not all(_read_hours(text, week) for text in texts):
        return "; ".join(texts)
    for spec in _as_list(thing.get("openingHoursSpecification")):
        hours = _clock(_get(spec, "opens"), _get(spec, "closes"))
        for day in _as_list(_get(spec, "dayOfWeek")) if hours else ():
            name = _SCHEMA_PREFIX.sub("", _text(day) or "").lower()
            if hours and name in _DAY_NAMES:
                week.setdefault(DAYS.index(_DAY_NAMES[name]), set()).add(hours)
    rules: dict[str, list[int]] = {}
    for day in sorted(week):
        rules.setdefault(",".join(f"{a}-{b}" for a, b in sorted(week[day])), []).append(day)
    text = "; ".join(f"{_day_runs(days)} {hours}" for hours, days in rules.items())
    return text or ("; ".join(texts) or None)


def _read_hours(text: str, week: dict[int, set[tuple[str, str]]]) -> bool:
    days: list[int] = []
    fresh = True  # the next day names start a new group (after hours) or extend it ("Mo,We")
    for match in _HOURS.finditer(text):
        if match["other"]:
            return False
        if match["days"]:
            ends = [DAYS.index(d.strip().title()) for d in match["days"].split("-")]
            span = [d % 7 for d in range(ends[0], ends[-1] + (7 if ends[-1] < ends[0] else 0) + 1)]
            days, fresh = (span if fresh else days + span), False
        elif match["oh"]:
            opens, closes = (
                f"{match[h]}:{match[m] or '00'}" for h, m in (("oh", "om"), ("ch", "cm"))
            )
            hours = _clock(opens, closes)
            for day in (days or range(7)) if hours is not None else ():
                week.setdefault(day, set()).add(hours)  # type: ignore[arg-type]
            fresh = True
    return True


def _clock(opens: Any, closes: Any) -> tuple[str, str] | None:
    """``("9:00", " 12:45 ")`` -> ``("09:00", "12:45")``; None for equal or unreadable times (a
    ``00:00-00:00`` specification means closed); closing at midnight is ``24:00``."""
    times = []
    for value in (opens, closes):
        match = re.fullmatch(r"(\d{1,2})[:hH.](\d{2})(?::\d{2})?", _text(value) or "")
        if not match or int(match[1]) > 24 or int(match[2]) > 59:
            return None
        times.append(f"{int(match[1]):02d}:{match[2]}")
    if times[0] == times[1]:
        return None
    return times[0], "24:00" if times[1] == "00:00" else times[1]


def _day_runs(days: list[int]) -> str:
    """``[0, 2, 3, 4]`` -> ``Mo,We-Fr``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{DAYS[r[0]]}-{DAYS[r[-1]]}" if len(r) > 2 else ",".join(DAYS[d] for d in r) for r in runs
    ]
    return ",".join(parts)


# -- small helpers -------------------------------------------------------------------------------
