"""SVG plans drawn by the app: a page's shops, or one shop among its catalogue neighbours, placed
by their coordinates, the communes named, with a scale bar. No tiles, no request anywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aggregator.web.public.spelling import commune_spellings
from search.analysis import key

WIDTH, HEIGHT, MARGIN = 320, 220, 16
#: Metres in one degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320.0
#: Scale bar lengths to choose from, in metres: the longest that fits ``SCALE_MAX`` units.
SCALE_STEPS = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
SCALE_MAX = 90
#: Rough width of one character of a 10-unit label: enough to keep labels inside the plan.
CHAR_WIDTH = 6.5


@dataclass(frozen=True)
class Spot:
    entity_id: str
    name: str
    city: str | None
    lat: float
    lon: float
    rank: int


def results_map(hits: list[Any], cards: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The plan of a results page, or None when fewer than two shops have coordinates. Names
    and communes as the ``cards`` show them."""
    shown = {card["entity_id"]: card for card in cards if card["kind"] == "shop"}
    spots = []
    for rank, hit in enumerate(hits, start=1):
        if hit.lat is None or hit.lon is None:
            continue
        card = shown.get(hit.entity_id, {})
        name = card.get("name") or hit.name
        spots.append(
            Spot(hit.entity_id, name, card.get("city") or hit.city, hit.lat, hit.lon, rank)
        )
    return draw(spots)


def shop_map(
    shop: Spot, neighbours: list[Any], communes: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The plan of one shop among the catalogue's shops around it (search hits)."""
    spots = [shop]
    for rank, hit in enumerate(neighbours, start=1):
        if hit.entity_id != shop.entity_id and hit.lat is not None and hit.lon is not None:
            spots.append(Spot(hit.entity_id, hit.name, hit.city, hit.lat, hit.lon, rank))
    return draw(spots, focus=shop.entity_id, communes=communes)


def draw(
    spots: list[Spot], focus: str | None = None, communes: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """Points (x, y, rank, name, id, focus), commune labels and a scale bar in a ``WIDTH`` x
    ``HEIGHT`` box; None below two points. ``focus``: the shop drawn apart (its own page).
    A commune is one label however its records spell it, in the spelling ``communes`` (folded
    -> shown) gives, else the best of the spots' own."""
    if len(spots) < 2:
        return None
    lats = [s.lat for s in spots]
    lons = [s.lon for s in spots]
    # Longitude degrees shrink with latitude: keep the map's proportions true.
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * squeeze, 1e-3)
    span_y = max(max(lats) - min(lats), 1e-3)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    off_x = (WIDTH - span_x * scale) / 2
    off_y = (HEIGHT - span_y * scale) / 2

    def place(lat: float, lon: float) -> tuple[float, float]:
        return (
            round(off_x + (lon - min(lons)) * squeeze * scale, 1),
            round(HEIGHT - off_y - (lat - min(lats)) * scale, 1),
        )

    points: list[dict[str, Any]] = []
    places: dict[str, list[tuple[float, float]]] = {}
    shown = {**commune_spellings(s.city for s in spots if s.city), **(communes or {})}
    for spot in spots:
        x, y = place(spot.lat, spot.lon)
        points.append(
            {
                "x": x,
                "y": y,
                "rank": spot.rank,
                "name": spot.name,
                "id": spot.entity_id,
                "focus": spot.entity_id == focus,
            }
        )
        if spot.city:
            places.setdefault(key(spot.city), []).append((x, y))
    points.sort(key=lambda p: p["focus"])  # the focused shop drawn last, over the others
    labels = []
    for folded, pts in sorted(places.items(), key=lambda item: -len(item[1]))[:6]:
        name = shown[folded]
        half = len(name) * CHAR_WIDTH / 2
        x = sum(p[0] for p in pts) / len(pts)
        labels.append(
            {
                "x": round(min(max(x, half + 4), WIDTH - half - 4), 1),
                "y": round(max(sum(p[1] for p in pts) / len(pts) - 10, 12), 1),
                "name": name,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": points,
        "labels": labels,
        "scale": scale_bar(scale),
    }


def scale_bar(units_per_degree: float) -> dict[str, Any]:
    """The longest round distance that fits ``SCALE_MAX`` units, its length and its label."""
    metres_per_unit = METRES_PER_DEGREE / units_per_degree
    metres = SCALE_STEPS[0]
    for step in SCALE_STEPS:
        if step / metres_per_unit <= SCALE_MAX:
            metres = step
    label = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    return {"length": round(metres / metres_per_unit, 1), "label": label}
