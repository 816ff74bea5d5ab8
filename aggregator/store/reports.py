"""The chambers' reports: per-platform figures, overlap, exclusives and the phoning list.

Every figure is the length of a list (:meth:`Reports.rows`), so a figure and the list it links
to can never disagree. Reports read the store as the last matching left it.

Reading every live record and entity costs seconds at a region's size, and the figures only
change when the store does: :func:`reports_for` keeps one reading per state of the store (the
last entity write, ruling, connector run, record change, candidate pairs and saved state:
:func:`store_stamp`, a handful of indexed look-ups) and the lists computed from it, so a report
page asked again, or narrowed to a commune, reads nothing. Any of those changing starts anew.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import RecordType, utcnow

#: Per-platform figures, in the order the report shows them, with their French headings.
PLATFORM_FIGURES: dict[str, str] = {
    "records": "fiches",
    "shops": "commerces distincts",
    "internal_duplicates": "doublons internes",
    "shared": "aussi ailleurs",
    "exclusive": "seulement ici",
    "awaiting": "paires à examiner",
    "siret": "SIRET valide",
    "siret_closed": "SIRET fermé",
    "phone": "téléphone",
    "website": "site web",
    "hours": "horaires",
    "coords": "coordonnées",
    "stale": "non vues depuis 30 j",
}
#: Figures that are shares of the platform's records (the count is linked, the share shown).
SHARES = ("siret", "phone", "website", "hours", "coords")
#: Contact columns of shop lists.
SHOP_COLUMNS = ("entity_id", "name", "address", "postcode", "city", "phone", "email", "website")
RECORD_COLUMNS = ("key", "name", "address", "postcode", "city", "phone", "website", "last_seen")
STALE_AFTER = timedelta(days=30)
#: A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def siret_valid(value: Any) -> bool:
    """14 digits passing Luhn, as SIRET numbers are built."""
    digits = "".join(ch for ch in str(value or "") if not ch.isspace())
    if len(digits) != 14 or not digits.isdigit():
        return False
    total = 0
    for index, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if index % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@dataclass
class Shop:
    entity_id: str
    golden: dict[str, Any]
    members: list[str]
    #: The platforms listing it, sorted (worked out once: every figure asks).
    platforms: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.platforms = sorted({key.partition(":")[0] for key in self.members})


@dataclass
class Reading:
    """Every live shop record and entity, read once: what every report is computed from."""

    now: datetime
    records: dict[str, dict[str, Any]]
    closed_sirets: set[str]
    shops: dict[str, Shop]
    communes: list[str]
    categories: list[str]

    @classmethod
    def of(cls, store: Any, now: datetime | None = None) -> Reading:
        records: dict[str, dict[str, Any]] = {}
        for stored in store.iter_raw(RecordType.shop):
            seen = stored.last_seen
            records[f"{stored.platform}:{stored.source_id}"] = {
                **stored.record,
                "key": f"{stored.platform}:{stored.source_id}",
                "last_seen": seen.replace(tzinfo=seen.tzinfo or UTC),
            }
        # SIRETs of establishments a source (SIRENE) says are closed; read before any narrowing.
        closed = {_digits(r.get("siret")) for r in records.values() if r.get("closed")} - {""}
        shops: dict[str, Shop] = {}
        for entity in store.iter_entities():
            members = [str(m) for m in entity.members if str(m) in records]
            if members:
                golden = {name: item.value for name, item in entity.golden.fields.items()}
                shops[entity.entity_id] = Shop(entity.entity_id, golden, members)
        return cls(
            now=now or utcnow(),
            records=records,
            closed_sirets=closed,
            shops=shops,
            communes=sorted({str(s.golden.get("city") or "") for s in shops.values()} - {""}),
            categories=sorted({str(s.golden.get("category") or "") for s in shops.values()} - {""}),
        )


def store_stamp(store: Any) -> tuple[Any, ...]:
    """What the reports depend on, as a few indexed maxima and counts: equal stamps, equal
    figures. The day is in it too: "not seen for 30 days" moves with the calendar."""
    r, d, p = t.raw_records.c, t.decisions.c, t.candidate_pairs.c
    with store.engine.connect() as conn:
        return (
            conn.scalar(sa.select(sa.func.max(t.entity_writes.c.seq))),
            conn.scalar(sa.select(sa.func.max(d.id))),
            tuple(
                conn.execute(
                    sa.select(sa.func.max(t.runs.c.id), sa.func.count(t.runs.c.finished_at))
                ).one()
            ),
            conn.scalar(sa.select(sa.func.max(r.last_changed))),
            conn.scalar(sa.select(sa.func.max(r.gone_at))),
            tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(p.created_at))).one()),
            conn.scalar(sa.select(sa.func.max(t.match_snapshots.c.id))),
            utcnow().date(),
        )


class ReportCache:
    """One reading of the store per stamp, and the narrowed reports built on it (a few)."""

    #: Narrowings (commune, category) kept for one reading.
    SCOPES = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._reading: Reading | None = None
        self._reports: dict[tuple[str, str], Reports] = {}
        #: Readings made (a figure for tests and benchmarks).
        self.reads = 0

    def get(self, store: Any, commune: str | None = None, category: str | None = None) -> Reports:
        stamp = store_stamp(store)
        scope = ((commune or "").casefold(), category or "")
        with self._lock:  # one reading at a time: a second request waits and shares it
            if stamp != self._stamp or self._reading is None:
                self._reading, self._reports = Reading.of(store), {}
                self._stamp = stamp
                self.reads += 1
            found = self._reports.get(scope)
            if found is None:
                if len(self._reports) >= self.SCOPES:
                    self._reports.pop(next(iter(self._reports)))
                found = Reports(store, commune=commune, category=category, reading=self._reading)
                self._reports[scope] = found
            return found


_CACHES: weakref.WeakKeyDictionary[Any, ReportCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def report_cache(store: Any) -> ReportCache:
    """The store's report cache (one per store object, gone with it)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = ReportCache()
        return cache


def reports_for(store: Any, commune: str | None = None, category: str | None = None) -> Reports:
    """The reports on the store as it is now, read once per state of the store."""
    return report_cache(store).get(store, commune=commune, category=category)


class Reports:
    """The reports over one reading of the store."""

    def __init__(
        self,
        store: Any,
        *,
        now: datetime | None = None,
        commune: str | None = None,
        category: str | None = None,
        reading: Reading | None = None,
    ) -> None:
        """``commune`` and ``category`` narrow every figure to the shops whose shown town or
        category they are (and to those shops' records); ``reading`` is a reading of the store
        already made (:func:`reports_for` shares one among narrowings)."""
        self.store = store
        reading = reading or Reading.of(store, now)
        self.now = reading.now
        self.records = reading.records
        self.closed_sirets = reading.closed_sirets
        self.shops = reading.shops
        self.communes = reading.communes
        self.categories = reading.categories
        if commune or category:
            self.shops = {
                eid: shop
                for eid, shop in self.shops.items()
                if (
                    not commune
                    or str(shop.golden.get("city") or "").casefold() == commune.casefold()
                )
                and (not category or shop.golden.get("category") == category)
            }
            kept = {key for shop in self.shops.values() for key in shop.members}
            self.records = {k: r for k, r in self.records.items() if k in kept}
        self.platforms = sorted({key.partition(":")[0] for key in self.records})
        self._queue: list[Any] | None = None
        #: Lists already computed: (figure, platform, other) -> rows.
        self._lists: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # -- lists ----------------------------------------------------------------------------------
    def rows(self, figure: str, platform: str = "", other: str = "") -> list[dict[str, Any]]:
        """The list a figure counts: shops, records or pairs, each a dict of text columns
        (computed once per reading; callers must not change it)."""
        key = (figure, platform, other)
        found = self._lists.get(key)
        if found is None:
            with self._lock:
                found = self._lists.get(key)
                if found is None:
                    found = self._lists[key] = self._compute(figure, platform, other)
        return found

    @cached_property
    def _on_platform(self) -> dict[str, tuple[list[dict[str, Any]], list[Shop]]]:
        """Platform -> its records by key and the shops it lists by id (one pass for all)."""
        out: dict[str, tuple[list[dict[str, Any]], list[Shop]]] = {
            p: ([], []) for p in self.platforms
        }
        for key, record in sorted(self.records.items()):
            out[key.partition(":")[0]][0].append(record)
        for shop in self._sorted_shops():
            for p in shop.platforms:
                out.setdefault(p, ([], []))[1].append(shop)
        return out

    def _compute(self, figure: str, platform: str, other: str) -> list[dict[str, Any]]:
        records, on = self._on_platform.get(platform, ([], []))
        if figure == "records":
            return [self._record_row(r) for r in records]
        if figure == "shops":
            return [self._shop_row(s) for s in on]
        if figure == "internal_duplicates":
            # Every record of a shop beyond its first on the same platform.
            out = []
            for shop in on:
                mine = sorted(k for k in shop.members if k.partition(":")[0] == platform)
                out += [self._record_row(self.records[k]) for k in mine[1:]]
            return out
        if figure == "shared":
            return [self._shop_row(s) for s in on if len(s.platforms) > 1]
        if figure == "exclusive":
            return [self._shop_row(s) for s in on if s.platforms == [platform]]
        if figure == "overlap":
            return [self._shop_row(s) for s in on if other in s.platforms]
        if figure == "awaiting":
            return [
                {"a": item.a, "b": item.b, "probability": f"{item.probability:.3f}"}
                for item in self._review_queue()
                if platform in item.platforms
            ]
        if figure in SHARES:
            return [self._record_row(r) for r in records if self._has(figure, r)]
        if figure == "siret_closed":  # listed as open here, closed according to SIRENE
            return [
                self._record_row(r)
                for r in records
                if not r.get("closed") and _digits(r.get("siret")) in self.closed_sirets
            ]
        if figure == "stale":
            cut = self.now - STALE_AFTER
            return [self._record_row(r) for r in records if r["last_seen"] < cut]
        if figure == "exclusives":
            return [
                {**self._shop_row(s), "platform": s.platforms[0]}
                for s in self._sorted_shops()
                if len(s.platforms) == 1
            ]
        if figure == "phoning":
            return self.phoning()
        if figure == "all":
            return [self._shop_row(s) for s in self._sorted_shops()]
        if figure == "combination":  # ``platform``: the exact set, joined by "+"
            wanted = sorted(platform.split("+"))
            return [self._shop_row(s) for s in self._sorted_shops() if s.platforms == wanted]
        if figure == "changes":  # the saved state against this one (both in the stamp)
            return list(self.store.changes_since_snapshot())
        raise KeyError(figure)

    def phoning(self) -> list[dict[str, Any]]:
        """Shops to call: listed on one platform only, or missing phone, website or hours."""
        out = []
        for shop in self._sorted_shops():
            missing = [
                label
                for name, label in (
                    ("phone", "téléphone"),
                    ("website", "site web"),
                    ("opening_hours", "horaires"),
                )
                if not shop.golden.get(name)
            ]
            alone = len(shop.platforms) == 1
            if alone or missing:
                reasons = (["une seule plateforme"] if alone else []) + [
                    f"sans {label}" for label in missing
                ]
                row = self._shop_row(shop)
                out.append(
                    {**row, "platforms": ", ".join(shop.platforms), "why": "; ".join(reasons)}
                )
        return out

    @cached_property
    def snapshot(self) -> tuple[int, datetime, str, dict[str, str]] | None:
        """The saved state the changes report compares with (read once per reading)."""
        return self.store.last_snapshot()  # type: ignore[no-any-return]

    # -- figures --------------------------------------------------------------------------------
    def platform_table(self) -> list[dict[str, Any]]:
        """One row per platform: every figure of :data:`PLATFORM_FIGURES` and the shares."""
        table = []
        for platform in self.platforms:
            row: dict[str, Any] = {"platform": platform}
            for figure in PLATFORM_FIGURES:
                row[figure] = len(self.rows(figure, platform))
            for figure in SHARES:
                row[f"{figure}_share"] = (
                    round(row[figure] / row["records"], 3) if row["records"] else 0.0
                )
            table.append(row)
        return table

    def overlap(self) -> dict[str, dict[str, int]]:
        """Shops listed on both platforms, for every pair (the diagonal: shops on each)."""
        counts = {p: dict.fromkeys(self.platforms, 0) for p in self.platforms}
        for shop in self.shops.values():
            for p in shop.platforms:
                counts[p][p] += 1
            for p, q in itertools.combinations(shop.platforms, 2):
                counts[p][q] += 1
                counts[q][p] += 1
        return counts

    def combinations(self) -> dict[tuple[str, ...], int]:
        """Shops per exact set of platforms (what an UpSet chart draws)."""
        out: dict[tuple[str, ...], int] = {}
        for shop in self.shops.values():
            combo = tuple(shop.platforms)
            out[combo] = out.get(combo, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    # -- helpers --------------------------------------------------------------------------------
    def _sorted_shops(self) -> list[Shop]:
        return [self.shops[k] for k in sorted(self.shops)]

    def _review_queue(self) -> list[Any]:
        if self._queue is None:
            self._queue = [
                item
                for item in self.store.review_queue()
                if item.a in self.records or item.b in self.records
            ]
        return self._queue

    @staticmethod
    def _has(figure: str, record: dict[str, Any]) -> bool:
        if figure == "siret":
            return siret_valid(record.get("siret"))
        if figure == "coords":
            return record.get("lat") is not None and record.get("lon") is not None
        name = {"hours": "opening_hours"}.get(figure, figure)
        return bool(record.get(name))

    @staticmethod
    def _record_row(record: dict[str, Any]) -> dict[str, Any]:
        row = {name: record.get(name) or "" for name in RECORD_COLUMNS}
        row["last_seen"] = record["last_seen"].date().isoformat()
        return row

    @staticmethod
    def _shop_row(shop: Shop) -> dict[str, Any]:
        row: dict[str, Any] = {"entity_id": shop.entity_id}
        row.update({name: shop.golden.get(name) or "" for name in SHOP_COLUMNS[1:]})
        row["platforms"] = ", ".join(shop.platforms)
        return row


def report_rows(reports: Reports, which: str) -> list[dict[str, Any]]:
    """The rows of one report (platforms, overlap, exclusives, phoning, changes), as every
    format gives them."""
    if which == "platforms":
        return reports.platform_table()
    if which == "overlap":
        return [{"platform": p, **counts} for p, counts in reports.overlap().items()]
    return reports.rows(which)


def safe_cell(value: Any) -> str:
    """A cell's text that a spreadsheet shows as text: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """CSV for a French spreadsheet: a BOM, ``;`` between cells, formulas kept as text."""
    columns = columns or (list(rows[0]) if rows else [])
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return out.getvalue()
