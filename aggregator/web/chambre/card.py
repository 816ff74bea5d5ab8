"""The pair card: two shop records field by field, their distance, a small map and a "pourquoi"."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aggregator.models import RecordKey, RecordType

#: Rows of the card: (label, record field or None for computed rows, matcher comparison).
FIELDS: tuple[tuple[str, str, str | None], ...] = (
    ("Nom", "name", "name"),
    ("Adresse", "address", "address"),
    ("Commune", "city", None),
    ("Code postal", "postcode", "postcode"),
    ("Téléphone", "phone", "phone"),
    ("E-mail", "email", "email"),
    ("Site web", "website", "website"),
    ("SIRET", "siret", "siret"),
    ("Catégorie", "category", "category"),
    ("Horaires", "opening_hours", None),
)
#: Words of the "pourquoi" line, per matcher comparison.
WHY_WORDS = {
    "name": "nom",
    "address": "adresse",
    "distance": "position",
    "phone": "téléphone",
    "email": "e-mail",
    "website": "site web",
    "siret": "SIRET",
    "postcode": "code postal",
    "category": "catégorie",
}
STATUS_CLASS = {
    "identique": "same",
    "proche": "near",
    "différent": "diff",
    "manquant": "missing",
}


@dataclass
class Row:
    label: str
    values: tuple[str, str]
    status: str

    @property
    def css(self) -> str:
        return STATUS_CLASS[self.status]


def status_of_level(level: str) -> str:
    """The card's word for a matcher level (``exact``, ``similar>=0.9``, ``<=50m``...)."""
    if level == "missing":
        return "manquant"
    if level == "exact":
        return "identique"
    if level.startswith(("similar", "same_", "<=50m", "<=200m")):
        return "proche"
    return "différent"


def status_of_values(x: str, y: str) -> str:
    if not x or not y:
        return "manquant"
    return "identique" if x.casefold().split() == y.casefold().split() else "différent"


def distance_m(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Great-circle distance in metres, or None when a side has no coordinates."""
    if None in (a.get("lat"), a.get("lon"), b.get("lat"), b.get("lon")):
        return None
    la1, lo1, la2, lo2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, h)))


def map_points(a: dict[str, Any], b: dict[str, Any], size: int = 160) -> list[tuple[float, float]]:
    """Both points placed in a ``size`` square, north up, with a margin; the scale fits them."""
    lat0 = (a["lat"] + b["lat"]) / 2
    kx = math.cos(math.radians(lat0))
    xs = [a["lon"] * kx, b["lon"] * kx]
    ys = [a["lat"], b["lat"]]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-5)
    scale = (size - 40) / span
    cx, cy = sum(xs) / 2, sum(ys) / 2
    return [
        (size / 2 + (x - cx) * scale, size / 2 - (y - cy) * scale)
        for x, y in zip(xs, ys, strict=True)
    ]


def safe_url(url: Any) -> str | None:
    """A link only for http(s) addresses: no ``javascript:`` or ``data:`` from a feed."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def why_line(explanation: dict[str, Any]) -> str:
    """``+ téléphone + adresse − nom``: the fields that speak for and against, strongest first."""
    fields = explanation.get("fields") or {}
    scored = sorted(fields.items(), key=lambda kv: -abs(float(kv[1].get("weight") or 0)))
    parts = []
    for name, detail in scored:
        weight = float(detail.get("weight") or 0)
        if abs(weight) >= 0.5:
            parts.append(("+ " if weight > 0 else "− ") + WHY_WORDS.get(name, name))
    return " ".join(parts) or "aucun champ ne tranche"


def build_card(store: Any, a: str, b: str) -> dict[str, Any] | None:
    """Everything the pair card shows, or None when a record is not in the store."""
    records = []
    for text in (a, b):
        key = RecordKey.parse(text)
        stored = store.get_raw(key.platform, key.source_id, RecordType.shop)
        if stored is None:
            return None
        records.append((stored.record, stored.last_seen))
    (ra, seen_a), (rb, seen_b) = records
    candidate = store.candidate(a, b)
    explanation = dict(candidate["explanation"]) if candidate else {}
    levels = explanation.get("fields") or {}
    rows = []
    for label, name, comparison in FIELDS:
        x, y = str(ra.get(name) or ""), str(rb.get(name) or "")
        if comparison and comparison in levels and x and y:
            status = status_of_level(str(levels[comparison].get("level", "")))
        else:
            status = status_of_values(x, y)
        rows.append(Row(label, (x, y), status))
    metres = distance_m(ra, rb)
    if metres is None:
        coords = Row("Coordonnées", (_coords(ra), _coords(rb)), "manquant")
    else:
        near = "identique" if metres < 10 else "proche" if metres <= 200 else "différent"
        coords = Row("Coordonnées", (_coords(ra), _coords(rb)), near)
    rows.append(coords)
    rows.append(Row("Vue le", (f"{seen_a:%d/%m/%Y}", f"{seen_b:%d/%m/%Y}"), "identique"))
    bits = [
        {"field": WHY_WORDS.get(name, name), "level": d.get("level"), "weight": d.get("weight")}
        for name, d in levels.items()
    ]
    return {
        "a": a,
        "b": b,
        "names": (ra.get("name") or a, rb.get("name") or b),
        "platforms": (a.partition(":")[0], b.partition(":")[0]),
        "links": (safe_url(ra.get("url")), safe_url(rb.get("url"))),
        "rows": rows,
        "metres": None if metres is None else round(metres),
        "points": None if metres is None else map_points(ra, rb),
        "probability": None if candidate is None else float(candidate["probability"]),
        "why": why_line(explanation) if explanation else "paire hors de la file du moteur",
        "bits": bits,
        "prior": explanation.get("prior_weight"),
        "total": explanation.get("match_weight"),
    }


def _coords(record: dict[str, Any]) -> str:
    if record.get("lat") is None or record.get("lon") is None:
        return ""
    return f"{record['lat']:.5f}, {record['lon']:.5f}"
