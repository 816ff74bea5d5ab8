"""Golden records of one-record clusters, many at once, read from the columns in bulk.

Most entities of a full matching hold one record (four in five of the generated ones): their
golden record has nothing to choose between, each field is the row's value as
:meth:`~dedupe.golden.records.GoldenBuilder.fields` shows it. Built one at a time, each field
costs a few method calls and a numpy scalar read; here each column is read once for the whole
batch (``tolist`` of the rows' values, a packed column's ``gather``) and the rows are walked
over plain Python lists. The records are the same, field for field and in the same order
(``tests/test_golden_singles.py`` compares both on generated and hand-written rows).

Example::

    goldens = single_records(builder, [3, 8, 12])   # == [builder.build([3]), ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from aggregator.models import GoldenRecord
from dedupe.golden.casing import casing_rank, display_city, tidy
from dedupe.golden.records import _GOLDEN, _PROVENANCED, _TOWN_AFTER_POSTCODE, GoldenBuilder, _text
from dedupe.prepare.columns import gather
from dedupe.prepare.identifiers import normalise_email
from dedupe.prepare.values import display_name, street_display


def _values(table: Any, name: str, rows: np.ndarray) -> list[Any]:
    """``[table.value(name, r) for r in rows]``: a missing float (NaN) read as None."""
    return [None if type(v) is float and v != v else v for v in gather(table.columns[name], rows)]


def single_records(builder: GoldenBuilder, rows: Sequence[int]) -> list[GoldenRecord]:
    """``[builder.build([row]) for row in rows]``, the columns read once for all rows."""
    if not len(rows):
        return []
    p, table = builder.prepared, builder.table
    at = np.asarray(rows, dtype=np.int64)
    name_keys = p.names.gather(at)
    street_keys = p.streets.gather(at)
    city_keys = p.cities.gather(at)
    names = _values(table, "name", at)
    addresses = _values(table, "address", at)
    cities = _values(table, "city", at)
    emails = _values(table, "email", at)
    websites = _values(table, "website", at)
    platforms = gather(table.columns["platform"], at)
    sources = gather(table.columns["source_id"], at)
    postcodes = p.postcode[at].tolist()
    phones = p.phone1[at].tolist()
    has_email = p.email[at].tolist()
    domains = p.domain[at].tolist()
    sirets = p.siret[at].tolist()
    categories = p.category[at].tolist()
    lats, lons = p.lat[at], p.lon[at]
    located = (lats == lats).tolist()
    lats, lons = lats.tolist(), lons.tolist()
    records = table.records
    extras = [records[r] for r in at.tolist()] if records is not None else [None] * len(at)
    slugs = p.category_slugs
    provenanced, golden = _PROVENANCED, _GOLDEN
    out: list[GoldenRecord] = []
    for i in range(len(at)):
        fields: dict[str, Any] = {}
        name = names[i]
        if name_keys[i] and _text(name):
            fields["name"] = tidy(display_name(name))
        address = addresses[i]
        if street_keys[i] and _text(address):
            shown = street_display(address)
            fields["address"] = tidy(shown) if casing_rank(shown) == 2 else shown  # type: ignore[arg-type]
        code = postcodes[i]
        if code >= 0:
            fields["postcode"] = f"{code:05d}"
        if city_keys[i]:
            town = display_city(cities[i])
            if not town:  # written after the postcode in a one-field address
                found = _TOWN_AFTER_POSTCODE.search(address or "")
                town = display_city(found.group(1)) if found else None
            if town:
                fields["city"] = town
        if phones[i]:
            fields["phone"] = f"+{phones[i]}"
        if has_email[i]:
            email = normalise_email(emails[i])
            if email:
                fields["email"] = email
        if domains[i]:
            website = _text(websites[i])
            if website is not None:
                fields["website"] = website
        if sirets[i]:
            fields["siret"] = f"{sirets[i]:014d}"
        if categories[i] >= 0:
            fields["category"] = slugs[categories[i]]
        record = extras[i]
        if record is not None:
            description = _text(getattr(record, "description", None))
            if description is not None:
                fields["description"] = description
            hours = _text(getattr(record, "opening_hours", None))
            if hours is not None:
                fields["opening_hours"] = hours
        if located[i]:
            fields["lat"] = lats[i]
            fields["lon"] = lons[i]
        if record is not None and record.services:
            fields["services"] = sorted({s.strip() for s in record.services if s.strip()})
        platform, source_id = platforms[i], sources[i]
        out.append(
            golden(
                {
                    "fields": {
                        field: provenanced(
                            {"value": value, "platform": platform, "source_id": source_id}
                        )
                        for field, value in fields.items()
                    },
                    "chosen": {},
                }
            )
        )
    return out


__all__ = ["single_records"]
