"""Opening hours as real feeds write them, and "open now" in Paris time."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from search.opening_hours import (
    OpeningHours,
    is_open,
    parse,
    schedule_token,
    slot_tokens,
    tokens_at,
    week_minute,
)

PARIS = ZoneInfo("Europe/Paris")
NIORT = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "niort_fr"


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2 June 2025 (day 0 is Monday), Paris time."""
    return datetime(2025, 6, 2 + day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("hours", "moment", "expected"),
    [
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(1, 7, 0), True),
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(1, 19, 29), True),
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(1, 19, 30), False),
        ("Tu 07:00-19:32", paris(1, 19, 31), False),  # not open for the whole 5 minutes
        ("Tu 07:03-19:30", paris(1, 7, 4), False),
        ("Tu 07:03-19:30", paris(1, 7, 5), True),
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(0, 10), False),  # Monday
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(6, 12, 0), True),
        ("Tu-Sa 07:00-19:30; Su 07:00-12:30", paris(6, 13, 0), False),
        # " / " between ranges, as in most of Niort's pharmacies.
        ("Mo-Fr 09:00-12:30 / 14:00-19:30, Sa 09:00-12:30", paris(2, 13, 0), False),
        ("Mo-Fr 09:00-12:30 / 14:00-19:30, Sa 09:00-12:30", paris(2, 14, 10), True),
        ("Mo-Fr 09:00-12:30 / 14:00-19:30, Sa 09:00-12:30", paris(5, 10, 0), True),
        ("Mo-Fr 09:00-12:30 / 14:00-19:30, Sa 09:00-12:30", paris(5, 15, 0), False),
        # A later rule replaces an earlier one for its days, even after ", ".
        ("Mo-Sa 09:15-12:15 / 14:15-19:15, We 09:00-12:15 / 16:15-19:15", paris(2, 15, 0), False),
        ("Mo-Sa 09:15-12:15 / 14:15-19:15, We 09:00-12:15 / 16:15-19:15", paris(1, 15, 0), True),
        # "09H00", and rules with no separator at all (schema.org openingHours in the wild).
        ("Mo 09H00-17H30 Tu 10H00-17H30 We 09H00-17H30", paris(1, 9, 30), False),
        ("Mo 09H00-17H30 Tu 10H00-17H30 We 09H00-17H30", paris(1, 10, 30), True),
        ("Mo 09H00-17H30 Tu 10H00-17H30 We 09H00-17H30", paris(3, 10, 30), False),
        ("Tu-Sa 09:30-12:30,14:00-19:00", paris(3, 14, 0), True),
        ("We-Mo 07:00-13:30,15:30-19:30", paris(0, 8, 0), True),  # wraps over the week end
        ("We-Mo 07:00-13:30,15:30-19:30", paris(1, 8, 0), False),
        ("Fr-Sa 18:00-02:00", paris(5, 1, 30), True),  # Friday night, after midnight
        ("Fr-Sa 18:00-02:00", paris(6, 1, 30), True),
        ("Fr-Sa 18:00-02:00", paris(6, 3, 0), False),
        ("Su 20:00-01:00", paris(0, 0, 30), True),  # Sunday night runs into Monday
        ("24/7", paris(3, 3, 33), True),
        ("Mo-Fr 09:00-18:00; We off", paris(2, 10), False),
        ("Mo-Fr 08:45-12:30, Su 00:00-00:00", paris(6, 10), False),  # an empty range opens nothing
        ("du lundi au vendredi de 9h à 18h", paris(4, 17, 0), True),
        ("du lundi au vendredi de 9h à 18h", paris(5, 10, 0), False),
    ],
)
def test_open_at(hours: str, moment: datetime, expected: bool) -> None:
    assert is_open(hours, moment) is expected


@pytest.mark.parametrize(
    "hours",
    ["", "sur rendez-vous", "Jan-Mar Mo-Fr 10:00-16:00", "PH off", "sunrise-sunset", None],
)
def test_unreadable_hours_are_never_open(hours: str | None) -> None:
    assert parse(hours) is None or not parse(hours).intervals  # type: ignore[union-attr]
    assert not is_open(hours, paris(2, 11))
    assert schedule_token(hours) is None
    assert slot_tokens(hours) == ()


def test_a_rule_that_cannot_be_read_is_left_out() -> None:
    hours = "Mo-Fr 09:00-18:00; PH off; Jan-Feb Sa 10:00-12:00"
    assert is_open(hours, paris(0, 10))
    assert not is_open(hours, paris(5, 11))  # the seasonal Saturday is not guessed


def test_times_are_paris_time_whatever_the_zone_given() -> None:
    hours = "Mo-Fr 09:00-18:00"
    summer_utc = datetime(2025, 6, 2, 7, 30, tzinfo=UTC)  # 09:30 in Paris (UTC+2)
    winter_utc = datetime(2025, 1, 6, 7, 30, tzinfo=UTC)  # 08:30 in Paris (UTC+1)
    assert is_open(hours, summer_utc)
    assert not is_open(hours, winter_utc)
    assert is_open(hours, datetime(2025, 6, 2, 9, 30))  # naive: taken as Paris time
    assert week_minute(summer_utc) == 9 * 60 + 30


def test_slot_tokens_and_schedules_agree_with_is_open() -> None:
    """The two search encodings say exactly what ``is_open`` says, minute by minute."""
    samples = [
        "Tu-Sa 07:00-19:30; Su 07:00-12:30",
        "Mo-Fr 08:47-12:32 / 13:58-19:31",
        "We-Mo 07:00-13:30,15:30-19:30",
        "Fr-Sa 18:00-02:00",
        "Su 20:00-01:00",
        "24/7",
    ]
    rng = random.Random(5)
    for hours in samples:
        tokens = set(slot_tokens(hours))
        schedule = OpeningHours.from_schedule_token(schedule_token(hours) or "w")
        for _ in range(400):
            moment = paris(0, 0) + timedelta(minutes=rng.randrange(7 * 24 * 60))
            expected = is_open(hours, moment)
            assert bool(tokens & set(tokens_at(moment))) is expected, (hours, moment)
            assert schedule.is_open(moment) is expected, (hours, moment)


def test_tokens_stay_few() -> None:
    # Whole hours, then quarters, then 5 minutes: a long day costs a dozen tokens, not 150.
    assert len(slot_tokens("Mo-Sa 09:00-19:00")) == 6 * 10
    assert len(slot_tokens("Mo 09:05-10:00")) == 1 + 2 + 2  # 09:05, 09:10 then two quarters


def test_real_pharmacy_hours_from_niort_parse() -> None:
    if not NIORT.is_dir():
        pytest.skip(f"{NIORT} is absent: the real-data samples live beside the repository")
    hours = [
        element.get("tags", element).get("opening_hours")
        for element in _elements(json.loads((NIORT / "pharmacy.json").read_text()))
    ]
    written = [h for h in hours if h]
    readable = [h for h in written if parse(h) is not None]
    assert written and len(readable) == len(written)
    assert all(parse(h).intervals for h in readable)  # type: ignore[union-attr]


def _elements(data: object) -> list[dict[str, object]]:
    if isinstance(data, dict):
        found = data.get("elements") or data.get("features") or []
        return [f.get("properties", f) for f in found]  # type: ignore[union-attr]
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
