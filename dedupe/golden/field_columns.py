"""The field rules of golden records, read column-wise: each field's group key and shown value
for every row of a batch at once.

A golden record chooses, per field, among its members' values (:mod:`dedupe.golden.records`);
what a row offers for a field is set here, once for all rows a batch of clusters holds: each
column is read in bulk (``tolist`` of a normalised array, ``gather`` of a packed text column)
and the rules are applied over plain Python lists. A one-record cluster shows its row's values;
a larger one groups its members by the keys and chooses among the shown values.

Per field, ``key[i]`` is the group key of the batch's ``i``-th row, ``None`` exactly when the
row has nothing to show, and ``shown[i]`` the value the row shows (``None`` where the key is).

Example::

    columns = FieldColumns(builder, [3, 8, 12])
    columns.shown["postcode"]   # ["31000", None, "32100"]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dedupe.golden.casing import display_city
from dedupe.prepare.columns import gather
from dedupe.prepare.identifiers import normalise_email
from dedupe.prepare.values import display_name, street_display

#: The fields chosen by agreement among members, in the order golden records list them.
CHOSEN_FIELDS: tuple[str, ...] = (
    "name", "address", "postcode", "city", "phone", "email", "website", "siret", "category",
    "description", "opening_hours",
)  # fmt: skip
#: Fields whose shown value depends on the key alone ("31000" for 31000): one spelling a group.
KEYED: frozenset[str] = frozenset(("postcode", "phone", "email", "siret", "category"))
TOWN_AFTER_POSTCODE = re.compile(r"\b\d{2}\s?\d{3}\s+(\D.*)$")
_SPACES = re.compile(r"\s+")


def text_or_none(value: str | None) -> str | None:
    """The text stripped, ``None`` when nothing is left."""
    value = (value or "").strip()
    return value or None


#: Fields only records carry: the group key made from the shown text.
EXTRA_KEYS: dict[str, Callable[[str], str]] = {
    "description": lambda t: " ".join(t.lower().split()),
    "opening_hours": lambda t: _SPACES.sub("", t.lower()),
}


#: Up to this many rows, values are read one by one: a numpy selection costs more than it
#: saves (a golden record built alone, as an incremental run builds its few entities).
FEW = 16


def _take(rows: list[int], at: Any, column: Any) -> list[Any]:
    """The values of ``column`` (an array, a packed text column or a list) at ``rows``
    (``at``: the same as an array, or ``None`` for a few rows read one by one)."""
    if at is not None:
        if isinstance(column, np.ndarray):
            return column[at].tolist()  # type: ignore[no-any-return]
        return gather(column, at)
    if isinstance(column, np.ndarray):
        item = column.item
        return [item(row) for row in rows]
    return [column[row] for row in rows]


class FieldColumns:
    """Each field's group keys and shown values for the rows ``rows`` of ``builder``'s table,
    with what choosing among them needs (record keys, platforms, points, services)."""

    def __init__(self, builder: Any, rows: Sequence[int]) -> None:
        p, table = builder.prepared, builder.table
        self.builder = builder
        self.rows: list[int] = [int(row) for row in rows]
        #: The rows as an array, for reading many at once.
        self.at = np.asarray(self.rows, dtype=np.int64) if len(self.rows) > FEW else None
        take = self.take
        self.platforms: list[str] = take(table.columns["platform"])
        self.sources: list[str] = take(table.columns["source_id"])
        records = table.records
        self.records: list[Any] = (
            [records[r] for r in self.rows] if records is not None else [None] * len(self.rows)
        )
        self.lats: list[float] = take(p.lat)
        self.located: list[bool] = [lat == lat for lat in self.lats]
        self.lons: list[float] = take(p.lon)
        self.key: dict[str, list[Any]] = {}
        self.shown: dict[str, list[Any]] = {}
        #: Per field, what makes its group keys (see :meth:`keys_of`).
        self._keys: dict[str, Callable[[], list[Any]]] = {}
        self._names(p, table)
        self._places(p, table)
        self._identifiers(p, table)
        for field in EXTRA_KEYS:
            self.shown[field] = [
                None if record is None else text_or_none(getattr(record, field, None))
                for record in self.records
            ]

    def take(self, column: Any) -> list[Any]:
        """The values of ``column`` (an array, a packed text column or a list) at the rows."""
        return _take(self.rows, self.at, column)

    def values(self, table: Any, name: str) -> list[Any]:
        """``[table.value(name, r) for r in rows]``: a missing float (NaN) read as None."""
        return [None if type(v) is float and v != v else v for v in self.take(table.columns[name])]

    def _names(self, p: Any, table: Any) -> None:
        names, name_keys = self.values(table, "name"), self.take(p.names)
        # display_name is empty only for blank text.
        self.shown["name"] = [
            display_name(n) if k and text_or_none(n) else None
            for k, n in zip(name_keys, names, strict=True)
        ]
        self._keys["name"] = lambda: name_keys

    def _places(self, p: Any, table: Any) -> None:
        take = self.take
        addresses, streets = self.values(table, "address"), take(p.streets)
        # street_display is empty only for blank text.
        self.shown["address"] = [
            street_display(a) if street and text_or_none(a) else None
            for street, a in zip(streets, addresses, strict=True)
        ]
        # The key's maker holds the rows, not ``self``: the service writes with the cyclic
        # collector paused, and a cycle through it would keep every batch's columns.
        rows, at = self.rows, self.at
        self._keys["address"] = lambda: list(
            zip(_take(rows, at, p.number), _take(rows, at, p.suffix), streets, strict=True)
        )
        codes = take(p.postcode)
        self.shown["postcode"] = [f"{c:05d}" if c >= 0 else None for c in codes]
        self._keys["postcode"] = lambda: codes
        city_keys, towns = take(p.cities), []
        for key, city, address in zip(
            city_keys, self.values(table, "city"), addresses, strict=True
        ):
            town = None
            if key:
                town = display_city(city)
                if not town:  # written after the postcode in a one-field address
                    found = TOWN_AFTER_POSTCODE.search(address or "")
                    town = display_city(found.group(1)) if found else None
            towns.append(town or None)
        self.shown["city"] = towns
        self._keys["city"] = lambda: city_keys

    def _identifiers(self, p: Any, table: Any) -> None:
        take = self.take
        phones = take(p.phone1)
        self.shown["phone"] = [f"+{n}" if n else None for n in phones]
        self._keys["phone"] = lambda: phones
        self.shown["email"] = [
            (normalise_email(e) or None) if has else None
            for has, e in zip(take(p.email), self.values(table, "email"), strict=True)
        ]
        domains = take(p.domain)
        self.shown["website"] = [
            text_or_none(w) if d else None
            for d, w in zip(domains, self.values(table, "website"), strict=True)
        ]
        self._keys["website"] = lambda: domains
        sirets = take(p.siret)
        self.shown["siret"] = [f"{s:014d}" if s else None for s in sirets]
        self._keys["siret"] = lambda: sirets
        slugs = p.category_slugs
        categories = take(p.category)
        self.shown["category"] = [slugs[c] if c >= 0 else None for c in categories]
        self._keys["category"] = lambda: categories

    def keys_of(self, field: str) -> list[Any]:
        """The group keys of ``field``, made when first asked (a batch of one-record clusters
        never asks): ``None`` where the row shows nothing, else what the row's values are
        grouped by (the normalised name, the street with its number, the code, the domain...).
        """
        found = self.key.get(field)
        if found is None:
            shown = self.shown[field]
            make = self._keys.get(field)
            if make is None:  # the e-mail (its own key), the records' own fields
                normalise = EXTRA_KEYS.get(field)
                found = shown if normalise is None else [
                    None if t is None else normalise(t) for t in shown
                ]  # fmt: skip
            else:
                found = [k if v is not None else None for k, v in zip(make(), shown, strict=True)]
            self.key[field] = found
        return found

    def record_keys(self) -> list[str]:
        """The rows' record keys ("platform:source_id")."""
        found: list[str] | None = self.__dict__.get("_record_keys")
        if found is None:
            found = self.__dict__["_record_keys"] = self.take(self.builder.table.keys)
        return found


__all__ = ["CHOSEN_FIELDS", "EXTRA_KEYS", "KEYED", "FieldColumns", "text_or_none"]
