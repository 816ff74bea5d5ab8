"""Geo for the embedded index, which has no geo type: grid cells as terms, circles as cells.

Every document with a place is indexed with the cells that contain it at every level of a
lat/lon quadtree from 10 (cells of about 20 km) to 20 (about 20 m). A circle becomes the cells
wholly inside it (coarse where possible, so the query stays small) and a ring of boundary cells
whose documents are checked one by one with the exact distance. So "within radius" is exact,
and costs a check of the documents near the edge only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
LEVELS = tuple(range(10, 21))
_NEXT = dict(zip(LEVELS, LEVELS[1:], strict=False))
#: About how many boundary cells a circle may need: the finest level is chosen to stay near it.
BOUNDARY_CELLS = 150
#: ``cell_tokens``'s text, and how far each level's cell numbers shift from the finest's.
_CELLS_FORMAT = " ".join(f"g{level}_%d_%d" for level in LEVELS)
_SHIFTS = tuple(LEVELS[-1] - level for level in LEVELS)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@lru_cache(maxsize=4096)  # a shop's offers share its place, and come right after it
def cell_tokens(lat: float, lon: float) -> str:
    """The cells holding a point, one per level, as whitespace-separated terms."""
    i, j = _cell(LEVELS[-1], lat, lon)
    # One format of every level's pair (a rebuild writes this for a million places).
    return _CELLS_FORMAT % tuple(n for shift in _SHIFTS for n in (i >> shift, j >> shift))


@dataclass(frozen=True)
class Cover:
    """A circle as cells: ``inside`` wholly within it, ``boundary`` to check document by doc."""

    inside: list[str]
    boundary: list[str]


def cover(lat: float, lon: float, radius_m: float) -> Cover:
    finest = _finest_level(radius_m)
    # Distances use a flat projection (x scaled by the cosine of the cell's own latitude); the
    # margin absorbs its error, so a cell is only called inside or outside when it surely is.
    margin = 2.0 + 0.002 * radius_m
    outer2, inner2 = (radius_m + margin) ** 2, max(0.0, radius_m - margin) ** 2
    dlat = radius_m / METRES_PER_DEGREE
    dlon = min(180.0, dlat / max(math.cos(math.radians(lat)), 1e-6))
    start = _start_level(radius_m, finest)
    lo = _cell(start, max(-90.0, lat - dlat), max(-180.0, lon - dlon))
    hi = _cell(start, min(90.0, lat + dlat), min(180.0, lon + dlon))
    inside: list[str] = []
    boundary: list[str] = []
    pending = [(start, i, j) for i in range(lo[0], hi[0] + 1) for j in range(lo[1], hi[1] + 1)]
    while pending:
        level, i, j = pending.pop()
        n = 1 << level
        lat0, lat1 = i * 180.0 / n - 90.0, (i + 1) * 180.0 / n - 90.0
        lon0, lon1 = j * 360.0 / n - 180.0, (j + 1) * 360.0 / n - 180.0
        kx = METRES_PER_DEGREE * math.cos(math.radians((lat0 + lat1) / 2))
        ny = (lat0 - lat if lat < lat0 else lat - lat1 if lat > lat1 else 0.0) * METRES_PER_DEGREE
        nx = (lon0 - lon if lon < lon0 else lon - lon1 if lon > lon1 else 0.0) * kx
        if nx * nx + ny * ny > outer2:
            continue
        fy = max(abs(lat - lat0), abs(lat - lat1)) * METRES_PER_DEGREE
        fx = max(abs(lon - lon0), abs(lon - lon1)) * kx
        if fx * fx + fy * fy <= inner2:
            inside.append(f"g{level}_{i}_{j}")
        elif level >= finest:
            boundary.append(f"g{level}_{i}_{j}")
        else:
            child = _NEXT[level]
            scale = 1 << (child - level)
            i2, j2 = i * scale, j * scale
            pending += [(child, i2 + a, j2 + b) for a in range(scale) for b in range(scale)]
    return Cover(inside, boundary)


def _finest_level(radius_m: float) -> int:
    wanted = 2 * math.pi * radius_m / BOUNDARY_CELLS
    for level in reversed(LEVELS):
        if _cell_height_m(level) >= wanted:
            return level
    return LEVELS[0]


def _start_level(radius_m: float, finest: int) -> int:
    """The finest level whose cells are at least the radius: a few cells span the circle."""
    for level in reversed(LEVELS):
        if level <= finest and _cell_height_m(level) >= radius_m:
            return level
    return LEVELS[0]


def _cell_height_m(level: int) -> float:
    return 180.0 / (1 << level) * METRES_PER_DEGREE


def _cell(level: int, lat: float, lon: float) -> tuple[int, int]:
    n = 1 << level
    i = min(n - 1, max(0, int((lat + 90.0) / 180.0 * n)))
    j = min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))
    return i, j


def _token(level: int, i: int, j: int) -> str:
    return f"g{level}_{i}_{j}"
