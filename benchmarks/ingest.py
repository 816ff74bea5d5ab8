"""Ingest throughput of the csv, json_api and merchant_feed kinds on generated Toulouse shops.

Per kind, on ``--rows`` rows: **read** = read + validate + normalise through the kind's ``read()``
alone; **store** = read + store through ``run_connector`` into a fresh SQLite file, a first run
(all new) then a second (all unchanged). Records per second of wall time, and per CPU-second of
this process (the per-core figure). csv and merchant_feed read a temporary file; json_api pages
(1,000 records) are served on loopback by a child process, off the reader's core. With
``--database-url postgresql://...`` the store figures are measured on SQLite and on that
PostgreSQL server (in a schema of its own, dropped afterwards) in the same run. The last line
printed is JSON.

    .venv/bin/python benchmarks/ingest.py                      # 1,000,000 rows per kind
    .venv/bin/python benchmarks/ingest.py --rows 100000 --profile csv
    .venv/bin/python benchmarks/ingest.py --rows 100000 --no-store --split   # CPU step by step
    .venv/bin/python benchmarks/ingest.py --rows 200000 --kinds csv,json_api \
        --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.demo.data.names import CATEGORIES, FIRST_NAMES, SURNAMES  # noqa: E402
from aggregator.demo.data.places import COMMUNES  # noqa: E402
from aggregator.demo.data.products import PRODUCTS  # noqa: E402
from aggregator.demo.data.profiles import CLICKNCO_COLUMNS, CLICKNCO_MAPPING  # noqa: E402
from aggregator.models import ConnectorRegistration, RecordType, RunCounts  # noqa: E402
from aggregator.pipeline import BATCH_SIZE, record_json, run_connector  # noqa: E402
from aggregator.settings import Settings  # noqa: E402
from aggregator.store import IngestBatch, Store  # noqa: E402
from aggregator.store.base import chunks  # noqa: E402
from aggregator.store.ingest import encode  # noqa: E402
from connectors.base import Item, ReadContext  # noqa: E402
from connectors.http import FeedClient  # noqa: E402
from connectors.registry import get_kind, kinds  # noqa: E402
from dedupe.prepare.arrays import gc_paused  # noqa: E402

PAGE_SIZE = 1000
TARGET = 20_000  # normalised records per second per core, csv and json_api (issue 3)
STORE_TARGET = 30_000  # the same through the store, on SQLite and on PostgreSQL (issue 12)
JSON_MAPPING = {
    "source_id": "id", "name": "name", "address": "address.street",
    "postcode": "address.postcode", "city": "address.city", "phone": "phone", "email": "email",
    "website": "website", "siret": "siret", "category": "category", "description": "description",
    "lat": "geo.lat", "lon": "geo.lng", "opening_hours": "opening_hours", "url": "url",
    "services": "services",
}  # fmt: skip


def shops(n: int, seed: int = 31) -> Iterator[dict[str, Any]]:
    """``n`` plausible shops: French names and addresses around Toulouse, phones, SIRETs..."""
    rng = random.Random(seed)
    categories = list(CATEGORIES)
    weights = [CATEGORIES[c][0] for c in categories]
    for i in range(1, n + 1):
        category = rng.choices(categories, weights)[0]
        _, templates, hours, sentences = CATEGORIES[category]
        commune = rng.choice(COMMUNES)
        quarter, de_quarter = rng.choice(commune.quarters)
        surname = rng.choice(SURNAMES)
        name = rng.choice(templates).format(
            surname=surname, first=rng.choice(FIRST_NAMES), q=quarter, dq=de_quarter
        )
        slug = f"{category}-{surname.lower()}-{i}"
        yield {
            "id": f"S{i:07d}",
            "name": name,
            "street": f"{rng.randint(1, 180)} {rng.choice(commune.streets)}",
            "postcode": commune.postcode,
            "city": commune.city,
            "phone": f"05 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}",
            "email": f"contact@{slug}.fr",
            "website": f"https://www.{slug}.fr/",
            "siret": f"{rng.randrange(10**13, 10**14)}",
            "category": category,
            "description": " ".join(rng.sample(sentences, min(2, len(sentences)))),
            "lat": round(commune.lat + rng.uniform(-0.02, 0.02), 6),
            "lon": round(commune.lon + rng.uniform(-0.02, 0.02), 6),
            "opening_hours": rng.choice(hours),
            "url": f"https://clickandcollect.example/boutique/{i}",
            "services": rng.choice(["click_and_collect", "livraison;click_and_collect", ""]),
        }


def write_csv(path: Path, n: int) -> ConnectorRegistration:
    """The Click'n CO export's columns, ``;``-separated, decimal commas: a file of ``n`` rows."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(CLICKNCO_COLUMNS)
        for s in shops(n):
            writer.writerow([
                s["id"], s["name"], s["street"], s["postcode"], s["city"], s["phone"], s["email"],
                s["website"], s["category"], str(s["lat"]).replace(".", ","),
                str(s["lon"]).replace(".", ","), s["opening_hours"],
                "oui" if s["services"] else "non", s["description"], s["url"],
            ])  # fmt: skip
    return ConnectorRegistration(
        platform="clickn_co", kind="csv", url=str(path), mapping=dict(CLICKNCO_MAPPING)
    )


def write_json_pages(folder: Path, n: int) -> None:
    """Toutoulouse-like nested records, ``PAGE_SIZE`` per ``page-N.json``."""
    records = ({
        "id": s["id"], "name": s["name"], "phone": s["phone"], "email": s["email"],
        "address": {"street": s["street"], "postcode": s["postcode"], "city": s["city"]},
        "geo": {"lat": s["lat"], "lng": s["lon"]}, "website": s["website"],
        "siret": s["siret"], "category": s["category"], "description": s["description"],
        "opening_hours": s["opening_hours"], "url": s["url"],
        "services": [x for x in s["services"].split(";") if x],
    } for s in shops(n))  # fmt: skip
    for number, page in enumerate(chunks(records, PAGE_SIZE), start=1):
        (folder / f"page-{number}.json").write_text(json.dumps({"data": page}), "utf-8")


def write_merchant_rss(path: Path, n: int) -> ConnectorRegistration:
    """One shop's Google Merchant RSS feed of ``n`` items, local-inventory fields included."""
    rng = random.Random(7)
    catalogue = [(c, title, lo, hi) for c, items in PRODUCTS.items() for title, lo, hi in items]
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                  'xmlns:g="http://base.google.com/ns/1.0"><channel><title>Dans ma zone'
                  "</title><link>https://dansmazone.example/</link>\n")  # fmt: skip
        for i in range(1, n + 1):
            category, title, low, high = rng.choice(catalogue)
            out.write(
                f"<item><g:id>SKU-{i}</g:id><g:title>{escape(title)}</g:title>"
                f"<g:description>{escape(title)}, fabriqué en Occitanie.</g:description>"
                f"<g:link>https://dansmazone.example/p/{i}</g:link>"
                f"<g:image_link>https://dansmazone.example/img/{i}.jpg</g:image_link>"
                f"<g:price>{rng.uniform(low, high):.2f} EUR</g:price>"
                f"<g:availability>{rng.choice(['in stock', 'out of stock', 'en stock'])}"
                f"</g:availability><g:product_type>{category}</g:product_type>"
                "<g:store_code>TLS-01</g:store_code><g:pickup_method>buy</g:pickup_method>"
                "<g:pickup_SLA>same day</g:pickup_SLA></item>\n"
            )
        out.write("</channel></rss>\n")
    shop = {"source_id": "atelier-garonne", "name": "Atelier Garonne", "city": "Toulouse"}
    return ConnectorRegistration(
        platform="dans_ma_zone", kind="merchant_feed", url=str(path), options={"shop": shop}
    )


def _serve_pages(folder: str, queue: Any, stop: Any) -> None:
    from tests.loopback import RequestTarget, serve_routes

    def page(target: RequestTarget) -> tuple[int, dict[str, str], bytes]:
        path = Path(folder) / f"page-{int(target.query.get('page', '1'))}.json"
        body = path.read_bytes() if path.is_file() else b'{"data": []}'
        return 200, {"Content-Type": "application/json"}, body

    with serve_routes({"/api/shops": page}) as base_url:
        queue.put(str(base_url))
        stop.wait()


@contextmanager
def json_api_feed(folder: Path) -> Iterator[ConnectorRegistration]:
    """The pages of ``folder`` served on loopback by a child process."""
    mp = multiprocessing.get_context("fork")
    queue, stop = mp.Queue(), mp.Event()
    server = mp.Process(target=_serve_pages, args=(str(folder), queue, stop), daemon=True)
    server.start()
    try:
        base_url = queue.get(timeout=30)
        pages = {"style": "page", "size_param": "per_page", "size": PAGE_SIZE}
        yield ConnectorRegistration(
            platform="toutoulouse", kind="json_api", url=f"{base_url}/api/shops",
            mapping=JSON_MAPPING, options={"pagination": pages},
        )  # fmt: skip
    finally:
        stop.set()
        server.join(timeout=10)


def measure_read(reg: ConnectorRegistration, context: ReadContext) -> dict[str, Any]:
    """Iterate ``read()`` to the end: records emitted, refusals, wall and CPU seconds."""
    records = refused = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for emitted in get_kind(reg.kind).read(reg, {}, context):
        if isinstance(emitted, Item):
            records += 1
        elif not hasattr(emitted, "state"):
            refused += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return _figures(records, wall, cpu, refused=refused)


def _figures(records: int, wall: float, cpu: float, **counts: int) -> dict[str, Any]:
    """Records per second of wall time and per CPU-second of this process (per core)."""
    return {
        "records": records,
        **counts,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "records_per_s": round(records / wall),
        "records_per_cpu_s": round(records / cpu),
    }


def measure_store(
    reg: ConnectorRegistration, context: ReadContext, folder: Path, url: str | None = None
) -> dict[str, dict[str, Any]]:
    """A first full run through ``run_connector`` into a fresh store (every record new), then a
    second over the same feed (every record unchanged: the steady state). SQLite in ``folder``
    unless ``url`` names a PostgreSQL server (a schema of its own, dropped afterwards)."""
    with fresh_store(reg.kind, folder, url) as store:
        store.save_connector(reg, origin="cli")
        figures = {}
        for phase in ("first_run", "rerun"):
            wall, cpu = time.perf_counter(), time.process_time()
            run = run_connector(store, reg, context, Settings(data_dir=folder))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if run.status != "ok":
                raise SystemExit(f"{reg.kind}: the run {run.status}: {run.errors}")
            stored = run.counts.new + run.counts.changed + run.counts.unchanged
            counts = {"new": run.counts.new, "unchanged": run.counts.unchanged}
            figures[phase] = _figures(stored, wall, cpu, **counts)
    return figures


def measure_split(
    reg: ConnectorRegistration, context: ReadContext, folder: Path, url: str | None = None
) -> dict[str, float]:
    """Where a run's CPU goes, step by step on the same records, as ``run_connector`` takes
    them (the collector paused): ``read`` (fetch, parse, map, validate), ``record_json`` (the
    record as stored), ``encode`` (both JSON texts and the content hash), ``sql_first`` and
    ``sql_rerun`` (``apply`` less ``encode``: finding stored hashes, writing; every record new,
    then unchanged), and ``gone_*`` (``mark_gone``: the records not seen, the refresh stamp).
    CPU seconds of this process; a database server's own CPU is not in them."""
    split: dict[str, float] = {}

    def timed(name: str, action: Callable[[], Any]) -> Any:
        cpu = time.process_time()
        out = action()
        split[name] = round(split.get(name, 0.0) + time.process_time() - cpu, 3)
        return out

    with gc_paused():
        emitted = timed("read", lambda: list(get_kind(reg.kind).read(reg, {}, context)))
        records = [e.record for e in emitted if isinstance(e, Item)]
        raws = [e.raw for e in emitted if isinstance(e, Item)]
        stored = [e.stored for e in emitted if isinstance(e, Item)]
        del emitted
        dumped = timed(  # as the pipeline takes it: the item's own when the read built it
            "record_json",
            lambda: [
                record_json(r) if s is None else s for r, s in zip(records, stored, strict=True)
            ],
        )
        items = [
            (RecordType.shop, r.platform, r.source_id, raw, d)
            for r, raw, d in zip(records, raws, dumped, strict=True)
        ]
        timed("encode", lambda: [encode(raw, d) for raw, d in zip(raws, dumped, strict=True)])
        with fresh_store(f"split_{reg.kind}", folder, url) as store:
            cid = reg.effective_id()
            for phase in ("first", "rerun"):
                seen: set[tuple[str, str, str]] = set()
                timed(f"sql_{phase}", partial(_apply_all, store, cid, items, seen))
                split[f"sql_{phase}"] = round(split[f"sql_{phase}"] - split["encode"], 3)
                timed(f"gone_{phase}", partial(store.mark_gone, cid, seen))
    return split


def _apply_all(store: Store, cid: str, items: list[Any], seen: set[tuple[str, str, str]]) -> None:
    counts = RunCounts()
    for part in chunks(items, BATCH_SIZE):
        store.apply(IngestBatch(cid, part), counts, seen)


@contextmanager
def fresh_store(name: str, folder: Path, url: str | None) -> Iterator[Store]:
    """A new, migrated store: a SQLite file in ``folder``, or a fresh schema on ``url``."""
    if not url:
        path = folder / f"{name}.sqlite3"
        store = Store.open(f"sqlite:///{path}")
        try:
            yield store
        finally:
            store.dispose()
            path.unlink()
        return
    import sqlalchemy as sa

    schema = f"bench_ingest_{os.getpid()}_{name}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    store = Store.open(f"{url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _show(label: str, figures: dict[str, Any]) -> dict[str, Any]:
    print(f"  {label:<23} {figures['records_per_s']:>8,} records/s "
          f"{figures['records_per_cpu_s']:>8,} per CPU-s  {figures}")  # fmt: skip
    return figures


def profiled(label: str, action: Callable[[], Any], top: int = 18) -> None:
    """CPU time (not wall time: the machine is shared) by own time, then cumulative."""
    profile = cProfile.Profile(time.process_time)
    profile.runcall(action)
    for order in ("tottime", "cumulative"):
        print(f"\n--- profile: {label} (top {top} by {order}, CPU seconds) ---")
        pstats.Stats(profile).strip_dirs().sort_stats(order).print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kinds", default="csv,json_api,merchant_feed")
    parser.add_argument("--no-store", action="store_true", help="skip the run_connector figures")
    parser.add_argument("--profile", default="", help="kinds to profile (read, then store)")
    parser.add_argument(
        "--split", action="store_true", help="CPU seconds step by step (measure_split), per store"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AGGREGATOR_BENCH_POSTGRES_URL"),
        help="a PostgreSQL server measured beside SQLite (its own schema, dropped afterwards)",
    )
    args = parser.parse_args()
    stores = {"sqlite": None, **({"postgresql": args.database_url} if args.database_url else {})}
    wanted = [k for k in args.kinds.split(",") if k in kinds()]  # merchant_feed is optional
    results: dict[str, Any] = {}
    client = FeedClient(allowed_hosts={"127.0.0.1:*"}, max_body_bytes=4 * 1024**3, timeout_s=120)
    context = ReadContext(http=client, allow_local_files=True)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        folder = Path(tmp)
        for kind in wanted:
            started = time.perf_counter()
            if kind == "json_api":
                write_json_pages(folder, args.rows)
                feed: Any = json_api_feed(folder)
            else:
                writer = write_csv if kind == "csv" else write_merchant_rss
                feed = nullcontext(writer(folder / f"feed.{kind}", args.rows))
            print(f"{kind}: {args.rows:,} rows generated in {time.perf_counter() - started:.1f} s")
            with feed as reg:
                results[kind] = {"read": _show("read()", measure_read(reg, context))}
                for name, url in ({} if args.no_store else stores).items():
                    stored = measure_store(reg, context, folder, url)
                    for phase, figures in stored.items():
                        _show(f"{name} {phase}", figures)
                    results[kind][f"store_{name}"] = stored
                for name, url in (stores if args.split else {}).items():
                    split = measure_split(reg, context, folder, url)
                    print(f"  split {name:<17} {split}")
                    results[kind][f"split_{name}"] = split
                if kind in args.profile.split(","):
                    profiled(f"{kind} read()", partial(measure_read, reg, context))
                    for name, url in stores.items():
                        store_run = partial(measure_store, reg, context, folder, url)
                        profiled(f"{kind} run_connector, {name}", store_run)
    client.close()
    targeted = [kind for kind in results if kind in ("csv", "json_api")]
    meets = {kind: results[kind]["read"]["records_per_cpu_s"] >= TARGET for kind in targeted}
    meets_store = {
        f"{kind} {name}": all(
            figures["records_per_cpu_s"] >= STORE_TARGET
            for figures in results[kind][f"store_{name}"].values()
        )
        for kind in targeted
        for name in stores
        if f"store_{name}" in results[kind]
    }
    print(json.dumps({
        "benchmark": "ingest", "rows": args.rows, "cpus": os.cpu_count(),
        "python": sys.version.split()[0], "load": os.getloadavg()[0],
        "target_records_per_cpu_s": TARGET, "meets_target": meets,
        "store_target_records_per_cpu_s": STORE_TARGET, "meets_store_target": meets_store,
        "results": results,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
