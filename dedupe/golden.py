"""Golden records: per field, the value the members agree on, and the record it came from.

Survivorship, field by field: members' values are grouped by their normalised form; the group
held by the most members wins (agreement), ties go to the most complete value (longest), then
to the platform with the highest priority (``platform_priority``, default 0 for all), then to
the smallest record key. Within the winning group, the spelling most members use is shown
(then the same tie-breaks). The displayed value is the original text of that member (the name
without its legal form, phone in E.164, postcode in five digits, category as a taxonomy slug).
``lat``/``lon`` are chosen together; ``services`` is the union of the members' services.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aggregator.models import GoldenRecord, ShopRecord
from dedupe.normalise import display_name
from dedupe.prepare import Prepared
from dedupe.text import fold

GOLDEN_FIELDS: tuple[str, ...] = (
    "name",
    "address",
    "postcode",
    "city",
    "phone",
    "email",
    "website",
    "siret",
    "category",
    "description",
    "lat",
    "lon",
    "opening_hours",
    "services",
)

#: ``(normalised key, displayed value)`` of one field of one member, or ``None`` when missing.
Candidate = tuple[Any, Any] | None


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _extractors(
    records: Sequence[ShopRecord], prepared: Prepared
) -> dict[str, Callable[[int], Candidate]]:
    def folded(field: str) -> Callable[[int], Candidate]:
        def get(row: int) -> Candidate:
            text = _text(getattr(records[row], field))
            return None if text is None else (fold(text) or text.lower(), text)

        return get

    def normalised(column: str, field: str) -> Callable[[int], Candidate]:
        def get(row: int) -> Candidate:
            key, text = prepared.column(column)[row], _text(getattr(records[row], field))
            return None if not key or text is None else (key, text)

        return get

    def same(column: str) -> Callable[[int], Candidate]:
        def get(row: int) -> Candidate:
            value = prepared.column(column)[row]
            return None if not value else (value, value)

        return get

    def name(row: int) -> Candidate:
        text = display_name(records[row].name)
        return (prepared.names[row], text) if prepared.names[row] and text else None

    def phone(row: int) -> Candidate:
        phones = prepared.phones[row]
        return (phones[0], phones[0]) if phones else None

    def website(row: int) -> Candidate:
        url = _text(records[row].website)
        return None if url is None else (prepared.domains[row] or url.lower(), url)

    def hours(row: int) -> Candidate:
        text = _text(records[row].opening_hours)
        return None if text is None else (re.sub(r"\s+", "", text.lower()), text)

    def description(row: int) -> Candidate:
        text = _text(records[row].description)
        return None if text is None else (" ".join(text.lower().split()), text)

    return {
        "name": name,
        "address": normalised("addresses", "address"),
        "postcode": same("postcodes"),
        "city": folded("city"),
        "phone": phone,
        "email": same("emails"),
        "website": website,
        "siret": same("sirets"),
        "category": same("categories"),
        "description": description,
        "opening_hours": hours,
    }


def _choose(
    rows: Sequence[int],
    get: Callable[[int], Candidate],
    keys: Sequence[str],
    priority: Callable[[int], int],
) -> tuple[Any, int] | None:
    """The surviving displayed value and the row it comes from."""
    groups: dict[Any, list[tuple[Any, int]]] = {}
    for row in rows:
        found = get(row)
        if found is not None:
            groups.setdefault(found[0], []).append((found[1], row))
    if not groups:
        return None

    def member_rank(item: tuple[Any, int]) -> tuple[int, int, str]:
        value, row = item
        return (-len(str(value)), -priority(row), keys[row])

    best = []
    for members in groups.values():
        # Within a group, the spelling most members use, then the rank above.
        spellings = Counter(str(value) for value, _ in members)
        best.append(min(members, key=lambda m: (-spellings[str(m[0])], *member_rank(m))))
    sizes = [len(members) for members in groups.values()]
    winner = min(range(len(best)), key=lambda g: (-sizes[g], *member_rank(best[g])))
    return best[winner]


class GoldenBuilder:
    """Builds the golden records of one run: the field extractors are made once."""

    def __init__(
        self,
        records: Sequence[ShopRecord],
        prepared: Prepared,
        platform_priority: Mapping[str, int] | None = None,
    ) -> None:
        self.records = records
        self.prepared = prepared
        self.priorities = dict(platform_priority or {})
        self.extractors = _extractors(records, prepared)
        self.extractors["lat"] = self._point

    def _point(self, row: int) -> Candidate:
        lat, lon = self.prepared.lats[row], self.prepared.lons[row]
        if lat is None or lon is None:
            return None
        return (round(lat, 4), round(lon, 4)), (lat, lon)

    def _priority(self, row: int) -> int:
        return self.priorities.get(self.records[row].platform, 0) if self.priorities else 0

    def build(self, rows: Sequence[int]) -> GoldenRecord:
        """The golden record of the cluster made of ``rows``, every field with its provenance."""
        records, keys = self.records, self.prepared.keys
        fields: dict[str, Any] = {}

        def provenanced(value: Any, row: int) -> dict[str, Any]:
            record = records[row]
            return {"value": value, "platform": record.platform, "source_id": record.source_id}

        for name, get in self.extractors.items():
            if len(rows) == 1:
                found = get(rows[0])
                chosen = None if found is None else (found[1], rows[0])
            else:
                chosen = _choose(rows, get, keys, self._priority)
            if chosen is None:
                continue
            if name == "lat":
                (lat, lon), row = chosen
                fields["lat"] = provenanced(lat, row)
                fields["lon"] = provenanced(lon, row)
            else:
                fields[name] = provenanced(*chosen)

        with_services = [row for row in rows if records[row].services]
        if with_services:
            services = sorted(
                {s.strip() for row in with_services for s in records[row].services if s.strip()}
            )
            source = min(
                with_services,
                key=lambda r: (-len(records[r].services), -self._priority(r), keys[r]),
            )
            fields["services"] = provenanced(services, source)
        return GoldenRecord.model_validate({"fields": fields})


def golden_record(
    rows: Sequence[int],
    records: Sequence[ShopRecord],
    prepared: Prepared,
    platform_priority: Mapping[str, int] | None = None,
) -> GoldenRecord:
    """The golden record of the cluster made of ``rows`` (see :class:`GoldenBuilder`)."""
    return GoldenBuilder(records, prepared, platform_priority).build(rows)
