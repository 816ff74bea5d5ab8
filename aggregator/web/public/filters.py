"""The search page's parameters (French names, as in its URLs) and the query they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from aggregator.web.public.catalogue import Place
from aggregator.web.public.holidays import holiday
from aggregator.web.public.view import DAYS, clock_time
from search.opening_hours import PARIS

#: Chip parameter -> the service it requires.
SERVICE_PARAMS = {"retrait": "click_and_collect", "livraison": "delivery", "emporter": "takeaway"}
RADII_KM = (1, 5, 20)
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


@dataclass
class Filters:
    """One search page request. ``lat``/``lon`` are already rounded by the browser; rounded
    again here (3 decimals, about 100 m) in case a client did not."""

    q: str = ""
    ville: str = ""
    categorie: str = ""
    ouvert: str = ""  # "", "maintenant" or "le"
    jour: date | None = None
    heure: time | None = None
    services: list[str] = field(default_factory=list)  # keys of SERVICE_PARAMS
    lat: float | None = None
    lon: float | None = None
    pres: str = ""
    rayon: int | None = None
    tri: str = ""  # "" (relevance) or "distance"
    page: int = 1

    def __post_init__(self) -> None:
        if self.lat is not None and self.lon is not None:
            self.lat, self.lon = round(self.lat, 3), round(self.lon, 3)
        else:
            self.lat = self.lon = None
        if self.rayon not in RADII_KM:
            self.rayon = None
        if self.tri != "distance":
            self.tri = ""
        if self.ouvert not in ("maintenant", "le"):
            self.ouvert = ""

    @property
    def asked(self) -> bool:
        """Whether there is anything to search for (else the page is the home page)."""
        return (
            bool(self.q or self.ville or self.categorie or self.ouvert or self.services)
            or self.has_place
        )

    @property
    def has_place(self) -> bool:
        return self.lat is not None

    def params(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of this request, with ``changes`` (None removes one)."""
        values: dict[str, Any] = {
            "q": self.q,
            "ville": self.ville,
            "categorie": self.categorie,
            "ouvert": "maintenant" if self.ouvert == "maintenant" else "",
            "jour": self.jour.isoformat() if self.jour and self.ouvert == "le" else "",
            "heure": self.heure.strftime("%H:%M") if self.heure and self.ouvert == "le" else "",
            **{name: "1" for name in self.services},
            "pres": self.pres,
            "lat": f"{self.lat:.3f}" if self.lat is not None and not self.pres else "",
            "lon": f"{self.lon:.3f}" if self.lon is not None and not self.pres else "",
            "rayon": str(self.rayon or ""),
            "tri": self.tri,
            "page": str(self.page) if self.page > 1 else "",
        }
        for name, value in changes.items():
            values[name] = "" if value is None else str(value)
        return {k: v for k, v in values.items() if v}

    def link(self, **changes: Any) -> str:
        return "/?" + urlencode(self.params(**changes))

    def moment(self, now: datetime) -> datetime | None:
        """The moment "open" refers to, or None when no opening filter is asked."""
        if self.ouvert == "maintenant":
            return now
        if self.ouvert == "le":
            day = self.jour or now.date()
            return datetime.combine(day, self.heure or time(10, 0), tzinfo=PARIS)
        return None

    def moment_text(self, now: datetime) -> str | None:
        at = self.moment(now)
        if at is None:
            return None
        if self.ouvert == "maintenant":
            return "ouverts maintenant"
        day = at.date()
        text = f"ouverts le {DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
        return f"{text} à {clock_time(at.hour * 60 + at.minute)}"

    def holiday_text(self, now: datetime) -> str | None:
        at = self.moment(now)
        name = holiday(at.date()) if at else None
        return f"{name} : jour férié, les horaires peuvent différer" if name else None

    def query_fields(self, place: Place | None, now: datetime) -> dict[str, Any]:
        """Fields of a ``SearchQuery`` (besides text, city, category and page)."""
        fields: dict[str, Any] = {"services": [SERVICE_PARAMS[s] for s in self.services]}
        at = self.moment(now)
        if at is not None:
            fields.update(open_now=True, at=at)
        lat, lon = (place.lat, place.lon) if place else (self.lat, self.lon)
        if lat is not None and lon is not None:
            fields.update(lat=lat, lon=lon)
            if self.rayon:
                fields["radius_m"] = self.rayon * 1000
            if self.tri == "distance":
                fields["sort"] = "distance"
        return fields


def read_filters(params: dict[str, str]) -> Filters:
    """Filters from query parameters; values that do not parse are ignored, not an error."""

    def number(name: str) -> float | None:
        try:
            value = float(params.get(name, ""))
        except ValueError:
            return None
        return value if value == value and abs(value) <= 180 else None

    def parsed(name: str, reader: Any) -> Any:
        try:
            return reader(params.get(name, ""))
        except ValueError:
            return None

    lat, lon = number("lat"), number("lon")
    if lat is not None and abs(lat) > 90:
        lat = None
    rayon = number("rayon")
    try:
        page = max(1, min(1000, int(params.get("page") or 1)))
    except ValueError:
        page = 1
    jour = parsed("jour", date.fromisoformat)
    ouvert = params.get("ouvert", "")
    if ouvert != "maintenant":  # a day chosen in the drawer means "open on that day"
        ouvert = "le" if jour is not None else ""
    return Filters(
        q=params.get("q", "").strip()[:200],
        ville=params.get("ville", "").strip()[:100],
        categorie=params.get("categorie", "").strip()[:100],
        ouvert=ouvert,
        jour=jour,
        heure=parsed("heure", time.fromisoformat),
        services=[name for name in SERVICE_PARAMS if params.get(name)],
        lat=lat,
        lon=lon,
        pres=params.get("pres", "").strip()[:100],
        rayon=int(rayon) if rayon is not None else None,
        tri=params.get("tri", ""),
        page=page,
    )
