"""What the pages show of a shop: French category, open status, week table, links, distances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from aggregator.web.public.holidays import holiday
from search.opening_hours import DAY_MINUTES, PARIS, WEEK_MINUTES, parse, week_minute

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
SERVICES = {
    "click_and_collect": "Retrait en boutique",
    "delivery": "Livraison",
    "takeaway": "À emporter",
}


def clock_time(minute: int) -> str:
    """French time of day: ``19 h``, ``7 h 30``."""
    hour, rest = divmod(minute % DAY_MINUTES, 60)
    return f"{hour} h" if rest == 0 else f"{hour} h {rest:02d}"


@dataclass(frozen=True)
class OpenStatus:
    """``open`` is None when the hours are unknown or unreadable: never guessed."""

    open: bool | None
    text: str


def open_status(hours: str | None, now: datetime) -> OpenStatus:
    """ "Ouvert · ferme à 19 h", "Fermé · ouvre demain à 7 h", or "Horaires inconnus"."""
    parsed = parse(hours)
    if parsed is None or not parsed.intervals:
        return OpenStatus(None, "Horaires inconnus")
    minute = week_minute(now)
    for start, end in parsed.intervals:
        if start <= minute < end:
            # A range that runs on past Sunday midnight continues at Monday 00:00.
            if end == WEEK_MINUTES and parsed.intervals[0][0] == 0:
                end = WEEK_MINUTES + parsed.intervals[0][1]
            return OpenStatus(True, f"Ouvert · ferme à {clock_time(end)}")
    later = [start for start, _ in parsed.intervals if start > minute]
    start = later[0] if later else parsed.intervals[0][0] + WEEK_MINUTES
    return OpenStatus(False, f"Fermé · ouvre {_when(minute, start)} à {clock_time(start)}")


def _when(now_minute: int, start: int) -> str:
    days = start // DAY_MINUTES - now_minute // DAY_MINUTES
    if days == 0:
        return "aujourd'hui"
    if days == 1:
        return "demain"
    return DAYS[(start // DAY_MINUTES) % 7]


@dataclass(frozen=True)
class DayHours:
    name: str
    date: date
    text: str
    today: bool
    holiday: str | None


def week_table(hours: str | None, now: datetime) -> list[DayHours] | None:
    """The seven days from Monday of ``now``'s week, each with its French opening times."""
    parsed = parse(hours)
    if parsed is None or not parsed.intervals:
        return None
    local = now.astimezone(PARIS) if now.tzinfo else now
    monday = local.date() - timedelta(days=local.weekday())
    rows = []
    for index, name in enumerate(DAYS):
        lo, hi = index * DAY_MINUTES, (index + 1) * DAY_MINUTES
        spans = [
            (max(start, lo), min(end, hi))
            for start, end in parsed.intervals
            if start < hi and end > lo
        ]
        text = ", ".join(f"{clock_time(a)} – {clock_time(b)}" for a, b in spans) or "Fermé"
        day = monday + timedelta(days=index)
        rows.append(DayHours(name, day, text, day == local.date(), holiday(day)))
    return rows


def web_url(value: Any) -> str | None:
    """``value`` when it is an http(s) address with a host, else None (no ``javascript:``)."""
    if not isinstance(value, str):
        return None
    return _web_url(value)


@lru_cache(maxsize=1 << 14)
def _web_url(value: str) -> str | None:
    """Remembered: a results page checks the same listings' addresses at every key."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme in ("http", "https") and parts.netloc else None


def tel_href(phone: Any) -> str | None:
    """``tel:+33…`` from a written number (digits and a leading + only), or None."""
    if not isinstance(phone, str):
        return None
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) < 6:
        return None
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + digits


def phone_text(phone: str) -> str:
    """``+33567316612`` as ``05 67 31 66 12``; other numbers as given."""
    digits = "".join(c for c in phone if c.isdigit())
    if phone.strip().startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10 and digits.startswith("0"):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return phone


def mailto_href(email: Any) -> str | None:
    if not isinstance(email, str):
        return None
    text = email.strip()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or any(c in text for c in " <>\"'?&#:/\\"):
        return None
    return "mailto:" + text


def distance_text(metres: float | None) -> str | None:
    if metres is None:
        return None
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    return f"{metres / 1000:.1f} km".replace(".", ",")


def price_text(price: float | None, currency: str | None) -> str | None:
    if price is None:
        return None
    amount = f"{price:,.2f}".replace(",", " ").replace(".", ",")
    return f"{amount} €" if (currency or "EUR") == "EUR" else f"{amount} {currency}"


AVAILABILITY = {
    "in_stock": "En stock",
    "instock": "En stock",
    "out_of_stock": "Épuisé",
    "outofstock": "Épuisé",
    "preorder": "Sur commande",
    "backorder": "Sur commande",
    "limited_availability": "Stock limité",
}


def availability_text(value: str | None) -> str | None:
    if not value:
        return None
    key = value.rsplit("/", 1)[-1].replace(" ", "_").lower()
    return AVAILABILITY.get(key) or AVAILABILITY.get(key.replace("_", ""))
