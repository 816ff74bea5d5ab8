"""Golden records: per field, the value the members agree on, shown properly, with its source.

Survivorship, field by field (``docs/matching.md`` says the same for chambers):

1. **Agreement**: members' values are grouped by their normalised form ("12 bis av. Jean
   Jaurès" and "12B avenue Jean-Jaures" are one address); the group most members hold wins.
2. Ties between groups: **completeness** (the longest value), then **source priority**
   (``platform_priority``, higher wins, default 0), then **recency** (``record_dates``: the
   most recently changed record), then the smallest record key.
3. Within the winning group, the **spelling**: properly cased text beats ALL CAPITALS and
   all-lowercase ("Boulangerie Ange" over "BOULANGERIE ANGE"), then the spelling most members
   use, then the same tie-breaks. Shouted text with no better spelling is recased ("PHARMACIE
   DE LA GARE" -> "Pharmacie de la Gare"; acronyms without vowels stay).

Shown values: the name without its legal form; the address without the postcode and town a
platform wrote after it in one field; the town without "Cedex" or postcode; phone in E.164;
postcode in five digits; category as a taxonomy slug. ``lat``/``lon`` come together from the
member nearest the members' middle (median point); ``services`` is the union of the members'.
Identifiers shared too widely (:mod:`dedupe.shared`) are not shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from aggregator.models import GoldenRecord, Provenanced
from dedupe.casing import casing_rank, display_city, tidy
from dedupe.identifiers import normalise_email
from dedupe.normalise import display_name, street_display
from dedupe.prepare import SUFFIX_NAMES

GOLDEN_FIELDS: tuple[str, ...] = (
    "name", "address", "postcode", "city", "phone", "email", "website", "siret", "category",
    "description", "lat", "lon", "opening_hours", "services",
)  # fmt: skip

#: ``(normalised key, displayed value)`` of one field of one member, or ``None`` when missing.
Candidate = tuple[Any, str] | None
_TOWN_AFTER_POSTCODE = re.compile(r"\b\d{2}\s?\d{3}\s+(\D.*)$")


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class GoldenBuilder:
    """Builds golden records for clusters of rows of one prepared table."""

    def __init__(
        self,
        prepared: Any,
        platform_priority: Mapping[str, int] | None = None,
        record_dates: Mapping[str, datetime] | None = None,
    ) -> None:
        self.prepared = prepared
        self.table = prepared.table
        self.priorities = dict(platform_priority or {})
        self.dates = {str(k): v.timestamp() for k, v in (record_dates or {}).items()}
        self.extractors: dict[str, Callable[[int], Candidate]] = {
            "name": self._name,
            "address": self._address,
            "postcode": self._postcode,
            "city": self._city,
            "phone": self._phone,
            "email": self._email,
            "website": self._website,
            "siret": self._siret,
            "category": self._category,
            "description": self._extra("description", lambda t: " ".join(t.lower().split())),
            "opening_hours": self._extra("opening_hours", lambda t: re.sub(r"\s+", "", t.lower())),
        }

    # -- field extractors: (group key, shown value) of one row -------------------------------

    def _name(self, row: int) -> Candidate:
        key, text = self.prepared.names[row], display_name(self.table.value("name", row))
        return (key, text) if key and text else None

    def _address(self, row: int) -> Candidate:
        p = self.prepared
        street = p.streets[row]
        shown = street_display(self.table.value("address", row))
        if not street or not shown:
            return None
        key = (int(p.number[row]), int(p.suffix[row]), street)
        return key, shown

    def _postcode(self, row: int) -> Candidate:
        code = int(self.prepared.postcode[row])
        return None if code < 0 else (code, f"{code:05d}")

    def _city(self, row: int) -> Candidate:
        key = self.prepared.cities[row]
        if not key:
            return None
        shown = display_city(self.table.value("city", row))
        if not shown:
            # Written after the postcode in a one-field address.
            found = _TOWN_AFTER_POSTCODE.search(self.table.value("address", row) or "")
            shown = display_city(found.group(1)) if found else None
        return (key, shown) if shown else None

    def _phone(self, row: int) -> Candidate:
        value = int(self.prepared.phone1[row])
        return (value, f"+{value}") if value else None

    def _email(self, row: int) -> Candidate:
        if not self.prepared.email[row]:
            return None
        value = normalise_email(self.table.value("email", row))
        return (value, value) if value else None

    def _website(self, row: int) -> Candidate:
        url = _text(self.table.value("website", row))
        domain = int(self.prepared.domain[row])
        return None if url is None or not domain else (domain, url)

    def _siret(self, row: int) -> Candidate:
        value = int(self.prepared.siret[row])
        return (value, f"{value:014d}") if value else None

    def _category(self, row: int) -> Candidate:
        code = int(self.prepared.category[row])
        return None if code < 0 else (code, self.prepared.category_slugs[code])

    def _extra(self, field: str, key: Callable[[str], str]) -> Callable[[int], Candidate]:
        def get(row: int) -> Candidate:
            record = self.table.records[row] if self.table.records is not None else None
            text = _text(getattr(record, field, None)) if record is not None else None
            return None if text is None else (key(text), text)

        return get

    # -- survivorship --------------------------------------------------------------------------

    def _rank(self, row: int) -> tuple[int, float, str]:
        priority = self.priorities.get(self.table.value("platform", row), 0)
        return (-priority, -self.dates.get(self.table.keys[row], 0.0), self.table.keys[row])

    def _choose(self, rows: Sequence[int], get: Callable[[int], Candidate]):
        groups: dict[Any, list[tuple[str, int]]] = {}
        for row in rows:
            found = get(row)
            if found is not None:
                groups.setdefault(found[0], []).append((found[1], row))
        if not groups:
            return None
        best = []
        for members in groups.values():
            spellings = Counter(value for value, _ in members)
            best.append(
                min(
                    members,
                    key=lambda m: (
                        casing_rank(m[0]),
                        -spellings[m[0]],
                        -len(m[0]),
                        *self._rank(m[1]),
                    ),
                )
            )
        sizes = [len(members) for members in groups.values()]
        winner = min(
            range(len(best)), key=lambda g: (-sizes[g], -len(best[g][0]), *self._rank(best[g][1]))
        )
        return best[winner]

    def _point(self, rows: Sequence[int]) -> int | None:
        lat, lon = self.prepared.lat[list(rows)], self.prepared.lon[list(rows)]
        located = [r for r, la in zip(rows, lat.tolist(), strict=True) if la == la]
        if not located:
            return None
        lat, lon = self.prepared.lat[located], self.prepared.lon[located]
        mid_lat, mid_lon = float(np.median(lat)), float(np.median(lon))
        distance = (lat - mid_lat) ** 2 + (lon - mid_lon) ** 2
        return min(range(len(located)), key=lambda k: (distance[k], self._rank(located[k])))

    def fields(self, rows: Sequence[int]) -> dict[str, tuple[Any, int]]:
        """``field -> (shown value, row it came from)`` for the cluster made of ``rows``."""
        out: dict[str, tuple[Any, int]] = {}
        for name, get in self.extractors.items():
            chosen = self._choose(rows, get)
            if chosen is None:
                continue
            value, row = chosen
            if name == "name" or (name == "address" and casing_rank(value) == 2):
                value = tidy(value)
            out[name] = (value, row)
        point = self._point(rows)
        if point is not None:
            row = [r for r in rows if self.prepared.lat[r] == self.prepared.lat[r]][point]
            out["lat"] = (float(self.prepared.lat[row]), row)
            out["lon"] = (float(self.prepared.lon[row]), row)
        records = self.table.records
        if records is not None:
            with_services = [r for r in rows if records[r] is not None and records[r].services]
            if with_services:
                services = sorted(
                    {s.strip() for r in with_services for s in records[r].services if s.strip()}
                )
                source = min(
                    with_services, key=lambda r: (-len(records[r].services), *self._rank(r))
                )
                out["services"] = (services, source)
        return out

    def build(self, rows: Sequence[int]) -> GoldenRecord:
        """The golden record of the cluster made of ``rows``, every field with its provenance."""
        platforms, sources = self.table.columns["platform"], self.table.columns["source_id"]
        fields = {
            name: Provenanced.model_construct(
                value=value, platform=platforms[row], source_id=sources[row]
            )
            for name, (value, row) in self.fields(rows).items()
        }
        return GoldenRecord.model_construct(fields=fields)


def golden_record(
    rows: Sequence[int], prepared: Any, platform_priority: Mapping[str, int] | None = None
) -> GoldenRecord:
    """The golden record of the cluster made of ``rows`` (see :class:`GoldenBuilder`)."""
    return GoldenBuilder(prepared, platform_priority).build(rows)


__all__ = ["GOLDEN_FIELDS", "SUFFIX_NAMES", "GoldenBuilder", "golden_record"]
