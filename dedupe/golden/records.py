"""Golden records: per field, the value the members agree on, shown properly, with its source.

Survivorship, field by field (``docs/matching.md`` says the same for chambers):

1. **Agreement**: members' values are grouped by their normalised form ("12 bis av. Jean
   Jaurès" and "12B avenue Jean-Jaures" are one address); the group most members hold wins.
2. Ties between groups: **completeness** (the longest value), then **source priority**
   (``platform_priority``, higher wins, default 0), then **recency** (``record_dates``: the
   most recently changed record), then the smallest record key.
   For the name, before completeness, a **likely typo** loses: a spelling holding a word no
   live record outside its group uses, one or two letters away from a word the other
   spelling has and other shops use ("Boulanegrie Ange" loses to "Boulangerie Ange";
   see :mod:`dedupe.golden.typos`).
3. Within the winning group, the **spelling**: properly cased text beats ALL CAPITALS and
   all-lowercase ("Boulangerie Ange" over "BOULANGERIE ANGE"), then the spelling most members
   use, then the same tie-breaks. For the name, the address and the town, spellings that are
   one once case, accents and spacing are set aside count together, and among them the one
   with its accents wins ("Au Péché Mignon" over "Au Peche Mignon", which ASCII exports
   write; "Rue de la République" over "Rue de la Republique"), then proper case, then the
   most used; an accented spelling in capitals or lowercase takes the case of a properly
   cased one ("RUE DE LA RÉPUBLIQUE" with "Rue de la Republique" shows "Rue de la
   République"). Shouted text with no better spelling is recased ("PHARMACIE DE LA GARE" ->
   "Pharmacie de la Gare"; acronyms without vowels stay).

Shown values: the name without its legal form; the address without the postcode and town a
platform wrote after it in one field; the town without "Cedex" or postcode; phone in E.164;
postcode in five digits; category as a taxonomy slug. ``lat``/``lon`` come together from the
member nearest the members' middle (median point); ``services`` is the union of the members'.
Identifiers shared too widely (:mod:`dedupe.golden.shared_identifiers`) are not shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from aggregator.constructed import constructed
from aggregator.models import GoldenRecord, Provenanced
from dedupe.golden.casing import casing_rank, display_city, recase_like, spelling_fold, tidy
from dedupe.golden.typos import accented, likely_typos, word_uses
from dedupe.prepare.columns_of import SUFFIX_NAMES
from dedupe.prepare.identifiers import normalise_email
from dedupe.prepare.values import display_name, street_display

GOLDEN_FIELDS: tuple[str, ...] = (
    "name", "address", "postcode", "city", "phone", "email", "website", "siret", "category",
    "description", "lat", "lon", "opening_hours", "services",
)  # fmt: skip

#: Fields whose spellings alike but for case, accents and spacing count as one (rule 3).
FOLDED: frozenset[str] = frozenset(("name", "address", "city"))
_TOWN_AFTER_POSTCODE = re.compile(r"\b\d{2}\s?\d{3}\s+(\D.*)$")
Model = TypeVar("Model", bound=BaseModel)


class Extractor(NamedTuple):
    """How one field is read from a row: its group key, then, only for the rows a choice
    needs, its shown value (showing "SARL X" as "X" costs more than keying it)."""

    #: The group key of a row, ``None`` exactly when the row has nothing to show.
    key: Callable[[int], Any]
    #: The shown value of a row, given its group key.
    show: Callable[[int, Any], str]
    #: The shown value depends on the key alone ("31000" for 31000): one spelling per group.
    keyed: bool = False


def construct(cls: type[Model], values: dict[str, Any]) -> Model:
    """``cls.model_construct(**values)`` when ``values`` holds every field of ``cls`` in
    declaration order, without pydantic's per-field alias look-ups: the golden records of a
    million rows are millions of models. Anything else goes through ``model_construct``.

    The models made share one ``model_fields_set`` (all the fields): pydantic only ever adds
    field names to it, and a million fewer sets spare the garbage collector most of its work.
    """
    fields_set = _fields_set(cls)
    if fields_set is None or values.keys() != fields_set:
        return cls.model_construct(**values)
    return constructed(cls, values, fields_set)


def constructor(cls: type[Model]) -> Callable[[dict[str, Any]], Model]:
    """:func:`construct` for one class, its checks made once: for a caller whose ``values``
    always hold every field of ``cls`` in declaration order (a dict written out in the code),
    which makes a million models a few seconds faster."""
    fields_set = _fields_set(cls)
    if fields_set is None:
        return lambda values: cls.model_construct(**values)

    def make(values: dict[str, Any]) -> Model:
        return constructed(cls, values, fields_set)

    return make


def _fields_set(cls: type[BaseModel]) -> set[str] | None:
    try:
        return _FIELDS_SET[cls]
    except KeyError:
        plain = (
            cls.__new__ is object.__new__
            and not cls.__pydantic_post_init__
            and not cls.__pydantic_root_model__
            and cls.model_config.get("extra") != "allow"
            and not cls.__private_attributes__
        )
        fields_set = _FIELDS_SET[cls] = set(cls.__pydantic_fields__) if plain else None
        return fields_set


#: Model class -> the set of its fields, ``None`` when ``construct`` leaves it to pydantic.
_FIELDS_SET: dict[type, set[str] | None] = {}


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class _Ranks(dict[int, tuple[int, float, str]]):
    """Row -> survivorship rank, each worked out once per cluster and only when asked."""

    def __init__(self, rank: Callable[[int], tuple[int, float, str]]) -> None:
        super().__init__()
        self.rank = rank

    def __missing__(self, row: int) -> tuple[int, float, str]:
        self[row] = rank = self.rank(row)
        return rank


class GoldenBuilder:
    """Builds golden records for clusters of rows of one prepared table."""

    def __init__(
        self,
        prepared: Any,
        platform_priority: Mapping[str, int] | None = None,
        record_dates: Mapping[str, datetime] | None = None,
        alive: Any = None,
    ) -> None:
        self.prepared = prepared
        #: Which rows are live (a boolean array; None: every row): name words are counted
        #: over live records only, so a full and an incremental run choose alike.
        self.alive = alive
        self.table = prepared.table
        self.priorities = dict(platform_priority or {})
        # Keys are "platform:source_id" strings; read as needed (a million dates per run of a
        # few changed entities would cost more than the run).
        self.dates: Mapping[str, datetime] = record_dates or {}
        slugs = prepared.category_slugs
        #: The last row whose town was shown, and the town (a row's values never change).
        self._city_of: tuple[int, str | None] = (-1, None)
        self.extractors: dict[str, Extractor] = {
            "name": Extractor(self._name, self._show_name),
            "address": Extractor(self._address, self._show_address),
            "postcode": Extractor(self._postcode, lambda _, code: f"{code:05d}", keyed=True),
            "city": Extractor(self._city, self._show_city),
            "phone": Extractor(self._phone, lambda _, number: f"+{number}", keyed=True),
            "email": Extractor(self._email, lambda _, email: email, keyed=True),
            "website": Extractor(self._website, self._show_website),
            "siret": Extractor(self._siret, lambda _, siret: f"{siret:014d}", keyed=True),
            "category": Extractor(self._category, lambda _, code: slugs[code], keyed=True),
            "description": self._extra("description", lambda t: " ".join(t.lower().split())),
            "opening_hours": self._extra("opening_hours", lambda t: re.sub(r"\s+", "", t.lower())),
        }

    # -- field extractors: the group key and the shown value of one row ---------------------

    def _name(self, row: int) -> Any:
        key = self.prepared.names[row]
        # display_name is empty only for blank text.
        return key if key and _text(self.table.value("name", row)) else None

    def _show_name(self, row: int, key: Any) -> str:
        return display_name(self.table.value("name", row))

    def _address(self, row: int) -> Any:
        p = self.prepared
        street = p.streets[row]
        # street_display is empty only for blank text.
        if not street or not _text(self.table.value("address", row)):
            return None
        return (int(p.number[row]), int(p.suffix[row]), street)

    def _show_address(self, row: int, key: Any) -> str:
        return street_display(self.table.value("address", row))  # type: ignore[return-value]

    def _postcode(self, row: int) -> Any:
        code = int(self.prepared.postcode[row])
        return None if code < 0 else code

    def _shown_city(self, row: int) -> str | None:
        if self._city_of[0] == row:  # keyed, then shown: worked out once
            return self._city_of[1]
        shown = display_city(self.table.value("city", row))
        if not shown:
            # Written after the postcode in a one-field address.
            found = _TOWN_AFTER_POSTCODE.search(self.table.value("address", row) or "")
            shown = display_city(found.group(1)) if found else None
        self._city_of = (row, shown)
        return shown

    def _city(self, row: int) -> Any:
        key = self.prepared.cities[row]
        return key if key and self._shown_city(row) else None

    def _show_city(self, row: int, key: Any) -> str:
        return self._shown_city(row)  # type: ignore[return-value]

    def _phone(self, row: int) -> Any:
        return int(self.prepared.phone1[row]) or None

    def _email(self, row: int) -> Any:
        if not self.prepared.email[row]:
            return None
        return normalise_email(self.table.value("email", row)) or None

    def _website(self, row: int) -> Any:
        domain = int(self.prepared.domain[row])
        return None if not domain or _text(self.table.value("website", row)) is None else domain

    def _show_website(self, row: int, key: Any) -> str:
        return _text(self.table.value("website", row))  # type: ignore[return-value]

    def _siret(self, row: int) -> Any:
        return int(self.prepared.siret[row]) or None

    def _category(self, row: int) -> Any:
        code = int(self.prepared.category[row])
        return None if code < 0 else code

    def _extra(self, field: str, normalise: Callable[[str], str]) -> Extractor:
        """A field only records carry (description, opening hours), keyed by ``normalise``."""

        def text(row: int) -> str | None:
            record = self.table.records[row] if self.table.records is not None else None
            return _text(getattr(record, field, None)) if record is not None else None

        def key(row: int) -> Any:
            found = text(row)
            return None if found is None else normalise(found)

        def show(row: int, key: Any) -> str:
            return text(row)  # type: ignore[return-value]

        return Extractor(key, show)

    # -- survivorship --------------------------------------------------------------------------

    def _rank(self, row: int) -> tuple[int, float, str]:
        key = self.table.keys[row]
        priority = (
            self.priorities.get(self.table.value("platform", row), 0) if self.priorities else 0
        )
        when = self.dates.get(key)
        return (-priority, -when.timestamp() if when is not None else -0.0, key)

    def _choose(
        self,
        rows: Sequence[int],
        extractor: Extractor,
        ranks: _Ranks,
        name: bool = False,
        fold: bool = False,
    ) -> tuple[str, int] | None:
        key = extractor.key
        groups: dict[Any, list[int]] = {}
        for row in rows:
            found = key(row)
            if found is not None:
                groups.setdefault(found, []).append(row)
        if not groups:
            return None
        # The group most members hold wins: only groups of that size are shown and compared.
        size = max(len(members) for members in groups.values())
        tied = [group for group, members in groups.items() if len(members) == size]
        best = [self._spelling(groups[group], group, extractor, ranks, fold) for group in tied]
        if len(best) == 1:
            return best[0]
        if name:
            typo = likely_typos(tied, size, lambda: word_uses(self.prepared, self.alive))
            return min(
                zip(best, typo, strict=True),
                key=lambda b: (b[1], -len(b[0][0]), *ranks[b[0][1]]),
            )[0]
        return min(best, key=lambda b: (-len(b[0]), *ranks[b[1]]))

    def _spelling(
        self, members: list[int], key: Any, extractor: Extractor, ranks: _Ranks, fold: bool
    ) -> tuple[str, int]:
        """The spelling shown for one group: cased text first, then the most used, longest.
        ``fold`` (name, address, town): spellings alike but for case, accents and spacing are
        one, and among them the accented one wins, in the best case they offer."""
        show = extractor.show
        if len(members) == 1:
            return show(members[0], key), members[0]
        if extractor.keyed:  # one spelling for all: the best ranked member's
            row = min(members, key=ranks.__getitem__)
            return show(row, key), row
        shown = [(show(row, key), row) for row in members]
        uses = Counter(value for value, _ in shown)
        if len(uses) == 1:  # every member spells it alike: the best ranked one's
            row = min(members, key=ranks.__getitem__)
            return shown[0][0], row
        if not fold:
            return min(
                shown,
                key=lambda m: (casing_rank(m[0]), -uses[m[0]], -len(m[0]), *ranks[m[1]]),
            )
        alike: dict[str, list[tuple[str, int]]] = {}
        for value, row in shown:
            alike.setdefault(spelling_fold(value), []).append((value, row))
        # The spelling written alike most often, in its best case, ...
        _, spellings = min(
            alike.items(),
            key=lambda item: (
                min(casing_rank(value) for value, _ in item[1]),
                -len(item[1]),
                -len(item[0]),
                min(ranks[row] for _, row in item[1]),
            ),
        )
        # ... with its accents, then in proper case, then as most members write it.
        value, row = min(
            spellings,
            key=lambda m: (-accented(m[0]), casing_rank(m[0]), -uses[m[0]], *ranks[m[1]]),
        )
        if casing_rank(value):
            cased = [m for m in spellings if casing_rank(m[0]) < casing_rank(value)]
            if cased:
                model = min(cased, key=lambda m: (casing_rank(m[0]), -uses[m[0]], *ranks[m[1]]))
                value = recase_like(value, model[0])
        return value, row

    def _point(self, rows: Sequence[int], ranks: _Ranks) -> int | None:
        """The located row nearest the members' median point (ties: survivorship rank)."""
        lat, lon = self.prepared.lat, self.prepared.lon
        if len(rows) == 1:
            return rows[0] if lat[rows[0]] == lat[rows[0]] else None
        located = [(float(lat[r]), float(lon[r]), r) for r in rows if lat[r] == lat[r]]
        if not located:
            return None
        # numpy.median's figures, for a handful of values without numpy's overhead.
        mid_lat, mid_lon = _median([p[0] for p in located]), _median([p[1] for p in located])
        return min(
            located,
            key=lambda p: (
                (p[0] - mid_lat) * (p[0] - mid_lat) + (p[1] - mid_lon) * (p[1] - mid_lon),
                ranks[p[2]],
            ),
        )[2]

    def fields(self, rows: Sequence[int]) -> dict[str, tuple[Any, int]]:
        """``field -> (shown value, row it came from)`` for the cluster made of ``rows``."""
        if len(rows) == 1:  # most entities: nothing to choose between
            return self._single(rows[0])
        out: dict[str, tuple[Any, int]] = {}
        ranks = _Ranks(self._rank)
        for name, extractor in self.extractors.items():
            chosen = self._choose(rows, extractor, ranks, name=name == "name", fold=name in FOLDED)
            if chosen is None:
                continue
            value, row = chosen
            if name == "name" or (name == "address" and casing_rank(value) == 2):
                value = tidy(value)
            out[name] = (value, row)
        point = self._point(rows, ranks)
        if point is not None:
            out["lat"] = (float(self.prepared.lat[point]), point)
            out["lon"] = (float(self.prepared.lon[point]), point)
        records = self.table.records
        if records is not None:
            with_services = [r for r in rows if records[r] is not None and records[r].services]
            if with_services:
                services = sorted(
                    {s.strip() for r in with_services for s in records[r].services if s.strip()}
                )
                source = min(with_services, key=lambda r: (-len(records[r].services), *ranks[r]))
                out["services"] = (services, source)
        return out

    def _single(self, row: int) -> dict[str, tuple[Any, int]]:
        """:meth:`fields` of a cluster of one row: each field's value as the row shows it."""
        out: dict[str, tuple[Any, int]] = {}
        for name, (key, show, _) in self.extractors.items():
            found = key(row)
            if found is None:
                continue
            value = show(row, found)
            if name == "name" or (name == "address" and casing_rank(value) == 2):
                value = tidy(value)
            out[name] = (value, row)
        lat = self.prepared.lat[row]
        if lat == lat:
            out["lat"] = (float(lat), row)
            out["lon"] = (float(self.prepared.lon[row]), row)
        records = self.table.records
        record = records[row] if records is not None else None
        if record is not None and record.services:
            out["services"] = (sorted({s.strip() for s in record.services if s.strip()}), row)
        return out

    def build(self, rows: Sequence[int]) -> GoldenRecord:
        """The golden record of the cluster made of ``rows``, every field with its provenance."""
        platforms, sources = self.table.columns["platform"], self.table.columns["source_id"]
        origins: dict[int, tuple[str, str]] = {}
        fields: dict[str, Provenanced] = {}
        provenanced = _PROVENANCED
        for name, (value, row) in self.fields(rows).items():
            origin = origins.get(row)
            if origin is None:
                origin = origins[row] = (platforms[row], sources[row])
            fields[name] = provenanced(
                {"value": value, "platform": origin[0], "source_id": origin[1]}
            )
        return _GOLDEN({"fields": fields, "chosen": {}})


_PROVENANCED = constructor(Provenanced)
_GOLDEN = constructor(GoldenRecord)


def _median(values: list[float]) -> float:
    """``float(numpy.median(values))``: the middle value, or the mean of the middle two."""
    if any(v != v for v in values):
        return float("nan")  # as numpy: a NaN makes the median NaN
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def golden_record(
    rows: Sequence[int], prepared: Any, platform_priority: Mapping[str, int] | None = None
) -> GoldenRecord:
    """The golden record of the cluster made of ``rows`` (see :class:`GoldenBuilder`)."""
    return GoldenBuilder(prepared, platform_priority).build(rows)


__all__ = [
    "GOLDEN_FIELDS",
    "SUFFIX_NAMES",
    "GoldenBuilder",
    "construct",
    "constructor",
    "golden_record",
]
