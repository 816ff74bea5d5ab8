"""An SVG map of a page's shops drawn by the app: points placed by their coordinates, the
communes named. No tiles, no request anywhere."""

from __future__ import annotations

import math
from typing import Any

WIDTH, HEIGHT, MARGIN = 320, 220, 16


def results_map(hits: list[Any]) -> dict[str, Any] | None:
    """Points (x, y, rank, name) and commune labels in a ``WIDTH`` x ``HEIGHT`` box, or None
    when fewer than two shops have coordinates."""
    located = [
        (i, h) for i, h in enumerate(hits, start=1) if h.lat is not None and h.lon is not None
    ]
    if len(located) < 2:
        return None
    lats = [h.lat for _, h in located]
    lons = [h.lon for _, h in located]
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

    points = []
    communes: dict[str, list[tuple[float, float]]] = {}
    for rank, hit in located:
        x, y = place(hit.lat, hit.lon)
        points.append({"x": x, "y": y, "rank": rank, "name": hit.name, "id": hit.entity_id})
        if hit.city:
            communes.setdefault(hit.city, []).append((x, y))
    labels = [
        {
            "x": round(sum(p[0] for p in pts) / len(pts), 1),
            "y": round(sum(p[1] for p in pts) / len(pts) - 8, 1),
            "name": name,
        }
        for name, pts in sorted(communes.items(), key=lambda item: -len(item[1]))[:6]
    ]
    return {"width": WIDTH, "height": HEIGHT, "points": points, "labels": labels}
