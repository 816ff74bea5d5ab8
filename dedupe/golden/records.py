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

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from aggregator.constructed import constructed
from aggregator.models import GoldenRecord, Provenanced
from dedupe.golden.casing import casing_rank, recase_like, spelling_fold, tidy
from dedupe.golden.field_columns import CHOSEN_FIELDS, KEYED, FieldColumns
from dedupe.golden.typos import accented, likely_typos, word_uses
from dedupe.prepare.columns_of import SUFFIX_NAMES

GOLDEN_FIELDS: tuple[str, ...] = (
    "name", "address", "postcode", "city", "phone", "email", "website", "siret", "category",
    "description", "lat", "lon", "opening_hours", "services",
)  # fmt: skip

#: Fields whose spellings alike but for case, accents and spacing count as one (rule 3).
FOLDED: frozenset[str] = frozenset(("name", "address", "city"))
Model = TypeVar("Model", bound=BaseModel)


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


class _Ranks(dict[int, tuple[int, float, str]]):
    """Position in a batch -> survivorship rank, each worked out once and only when asked."""

    def __init__(self, rank: Callable[[int], tuple[int, float, str]]) -> None:
        super().__init__()
        self.rank = rank

    def __missing__(self, at: int) -> tuple[int, float, str]:
        self[at] = rank = self.rank(at)
        return rank


class GoldenBuilder:
    """Builds golden records for clusters of rows of one prepared table.

    A batch of clusters is read column-wise once (:class:`~dedupe.golden.field_columns.
    FieldColumns`: every field's group key and shown value of every row); each cluster then
    chooses among its members' positions in the batch."""

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

    # -- survivorship --------------------------------------------------------------------------

    def _ranks(self, columns: FieldColumns) -> _Ranks:
        keys, platforms = columns.record_keys(), columns.platforms
        priorities, dates = self.priorities, self.dates

        def rank(at: int) -> tuple[int, float, str]:
            key = keys[at]
            priority = priorities.get(platforms[at], 0) if priorities else 0
            when = dates.get(key)
            return (-priority, -when.timestamp() if when is not None else -0.0, key)

        return _Ranks(rank)

    def _choose(
        self, columns: FieldColumns, members: range, field: str, ranks: _Ranks
    ) -> tuple[str, int] | None:
        key = columns.keys_of(field)
        held = [at for at in members if key[at] is not None]
        if not held:
            return None
        shown, keyed, fold = columns.shown[field], field in KEYED, field in FOLDED
        first = key[held[0]]
        if all(key[at] == first for at in held):  # one group (most clusters agree)
            return _spelling(shown, held, ranks, keyed, fold)
        groups: dict[Any, list[int]] = {}
        for at in held:
            groups.setdefault(key[at], []).append(at)
        # The group most members hold wins: only groups of that size are shown and compared.
        size = max(len(group) for group in groups.values())
        tied = [found for found, group in groups.items() if len(group) == size]
        best = [_spelling(shown, groups[found], ranks, keyed, fold) for found in tied]
        if len(best) == 1:
            return best[0]
        if field == "name":
            typo = likely_typos(tied, size, lambda: word_uses(self.prepared, self.alive))
            return min(
                zip(best, typo, strict=True),
                key=lambda b: (b[1], -len(b[0][0]), *ranks[b[0][1]]),
            )[0]
        return min(best, key=lambda b: (-len(b[0]), *ranks[b[1]]))

    def _chosen(
        self, columns: FieldColumns, start: int, stop: int, ranks: _Ranks
    ) -> dict[str, tuple[Any, int]]:
        """``field -> (shown value, position)`` for the cluster at positions ``start:stop``."""
        out: dict[str, tuple[Any, int]] = {}
        if stop - start == 1:  # most entities: nothing to choose between
            for field, value in _single(columns, start).items():
                out[field] = (value, start)
            return out
        members = range(start, stop)
        for field in CHOSEN_FIELDS:
            chosen = self._choose(columns, members, field, ranks)
            if chosen is None:
                continue
            value, at = chosen
            if field == "name" or (field == "address" and casing_rank(value) == 2):
                value = tidy(value)
            out[field] = (value, at)
        point = _point(columns, members, ranks)
        if point is not None:
            out["lat"] = (columns.lats[point], point)
            out["lon"] = (columns.lons[point], point)
        records = columns.records
        with_services = [at for at in members if records[at] is not None and records[at].services]
        if with_services:
            services = sorted(
                {s.strip() for at in with_services for s in records[at].services if s.strip()}
            )
            source = min(with_services, key=lambda at: (-len(records[at].services), *ranks[at]))
            out["services"] = (services, source)
        return out

    def fields(self, rows: Sequence[int]) -> dict[str, tuple[Any, int]]:
        """``field -> (shown value, row it came from)`` for the cluster made of ``rows``."""
        columns = FieldColumns(self, rows)
        chosen = self._chosen(columns, 0, len(rows), self._ranks(columns))
        return {field: (value, columns.rows[at]) for field, (value, at) in chosen.items()}

    def build(self, rows: Sequence[int]) -> GoldenRecord:
        """The golden record of the cluster made of ``rows``, every field with its provenance."""
        return self.build_many([rows])[0]

    def build_many(self, clusters: Sequence[Sequence[int]]) -> list[GoldenRecord]:
        """``[self.build(rows) for rows in clusters]``, the columns read once for all of them."""
        if not clusters:
            return []
        columns = FieldColumns(self, [row for rows in clusters for row in rows])
        platforms, sources = columns.platforms, columns.sources
        ranks = self._ranks(columns)
        provenanced, golden = _PROVENANCED, _GOLDEN
        out: list[GoldenRecord] = []
        start = 0
        for rows in clusters:
            stop = start + len(rows)
            fields: dict[str, Provenanced] = {}
            if stop - start == 1:
                platform, source_id = platforms[start], sources[start]
                for field, value in _single(columns, start).items():
                    fields[field] = provenanced(
                        {"value": value, "platform": platform, "source_id": source_id}
                    )
            else:
                for field, (value, at) in self._chosen(columns, start, stop, ranks).items():
                    fields[field] = provenanced(
                        {"value": value, "platform": platforms[at], "source_id": sources[at]}
                    )
            out.append(golden({"fields": fields, "chosen": {}}))
            start = stop
        return out


def _single(columns: FieldColumns, at: int) -> dict[str, Any]:
    """A one-row cluster's fields: each value as the row shows it."""
    out: dict[str, Any] = {}
    shown = columns.shown
    for field in CHOSEN_FIELDS:
        value = shown[field][at]
        if value is None:
            continue
        if field == "name" or (field == "address" and casing_rank(value) == 2):
            value = tidy(value)
        out[field] = value
    if columns.located[at]:
        out["lat"] = columns.lats[at]
        out["lon"] = columns.lons[at]
    record = columns.records[at]
    if record is not None and record.services:
        out["services"] = sorted({s.strip() for s in record.services if s.strip()})
    return out


def _spelling(
    shown: list[Any], members: list[int], ranks: _Ranks, keyed: bool, fold: bool
) -> tuple[str, int]:
    """The spelling shown for one group: cased text first, then the most used, longest.
    ``fold`` (name, address, town): spellings alike but for case, accents and spacing are
    one, and among them the accented one wins, in the best case they offer."""
    if len(members) == 1:
        return shown[members[0]], members[0]
    if keyed:  # one spelling for all: the best ranked member's
        at = min(members, key=ranks.__getitem__)
        return shown[at], at
    value = shown[members[0]]
    if all(shown[at] == value for at in members):  # spelt alike: the best ranked one's
        return value, min(members, key=ranks.__getitem__)
    spelt = [(shown[at], at) for at in members]
    uses = Counter(value for value, _ in spelt)
    if not fold:
        return min(
            spelt,
            key=lambda m: (casing_rank(m[0]), -uses[m[0]], -len(m[0]), *ranks[m[1]]),
        )
    alike: dict[str, list[tuple[str, int]]] = {}
    for value, at in spelt:
        alike.setdefault(spelling_fold(value), []).append((value, at))
    # The spelling written alike most often, in its best case, ...
    _, spellings = min(
        alike.items(),
        key=lambda item: (
            min(casing_rank(value) for value, _ in item[1]),
            -len(item[1]),
            -len(item[0]),
            min(ranks[at] for _, at in item[1]),
        ),
    )
    # ... with its accents, then in proper case, then as most members write it.
    value, at = min(
        spellings,
        key=lambda m: (-accented(m[0]), casing_rank(m[0]), -uses[m[0]], *ranks[m[1]]),
    )
    if casing_rank(value):
        cased = [m for m in spellings if casing_rank(m[0]) < casing_rank(value)]
        if cased:
            model = min(cased, key=lambda m: (casing_rank(m[0]), -uses[m[0]], *ranks[m[1]]))
            value = recase_like(value, model[0])
    return value, at


def _point(columns: FieldColumns, members: range, ranks: _Ranks) -> int | None:
    """The located position nearest the members' median point (ties: survivorship rank)."""
    located, lats, lons = columns.located, columns.lats, columns.lons
    points = [(lats[at], lons[at], at) for at in members if located[at]]
    if not points:
        return None
    # numpy.median's figures, for a handful of values without numpy's overhead.
    mid_lat, mid_lon = _median([p[0] for p in points]), _median([p[1] for p in points])
    return min(
        points,
        key=lambda p: (
            (p[0] - mid_lat) * (p[0] - mid_lat) + (p[1] - mid_lon) * (p[1] - mid_lon),
            ranks[p[2]],
        ),
    )[2]


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
