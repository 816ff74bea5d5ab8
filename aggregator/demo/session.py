"""`aggregator demo`: demo platforms on loopback, registered, ingested, matched, indexed, served."""

from __future__ import annotations

import logging
import time

import typer

from aggregator.demo.generator import Catalogue, generate_catalogue
from aggregator.demo.platforms import DemoPlatforms
from aggregator.demo.variations import ground_truth, write_truth_csv
from aggregator.models import RecordType
from aggregator.runtime import Runtime, describe_run
from aggregator.settings import Settings

#: The five platforms, each published through a different kind.
DEMO_PLATFORMS = ("toutoulouse", "clickn_co", "tousoccitariens", "dans_ma_zone", "geolocal31")
#: The demo platforms' usual port: a stable address keeps their links and page ids stable
#: across demo runs (a crawled page's id is its URL). Taken: any free port.
PLATFORMS_PORT = 8031


def _start_platforms(catalogue: Catalogue) -> DemoPlatforms:
    try:
        platforms = DemoPlatforms(catalogue, host="127.0.0.1", port=PLATFORMS_PORT)
    except OSError:
        platforms = DemoPlatforms(catalogue, host="127.0.0.1", port=0)
    return platforms.start()


def truth_rows(catalogue: Catalogue, platforms: DemoPlatforms) -> list[tuple[str, str, str]]:
    """The generator's truth; a crawled site's records are known by their page URL."""
    listings = {name: platforms.listings[name] for name in DEMO_PLATFORMS}
    rows = ground_truth(catalogue, {k: v for k, v in listings.items() if k != "tousoccitariens"})
    rows += [("tousoccitariens", r["url"], r["_true_id"]) for r in listings["tousoccitariens"]]
    return rows


def run_demo(*, host: str, port: int, shops: int, serve: bool) -> Runtime:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    base = Settings()
    # The demo platforms live on loopback: allow exactly that host, nothing else.
    allow = ",".join(filter(None, [base.allow_hosts, "127.0.0.1:*"]))
    settings = base.model_copy(update={"allow_hosts": allow})
    runtime = Runtime(settings)
    catalogue = generate_catalogue(n_shops=shops)
    platforms = _start_platforms(catalogue)
    typer.echo(f"demo platforms on {platforms.base_url}")

    truth_path = settings.data_dir / "demo" / "truth.csv"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    write_truth_csv(truth_path, truth_rows(catalogue, platforms))

    platform_of = {}
    for registration in platforms.registrations():
        platform_of[runtime.store.save_connector(registration, origin="cli")] = (
            registration.platform
        )
    report = runtime.run_all()
    for platform in DEMO_PLATFORMS:
        runs = [r for r in report.runs if platform_of.get(r.connector_id) == platform]
        totals = {
            k: sum(describe_run(r)[k] for r in runs)
            for k in ("fetched", "new", "changed", "rejected")
        }
        failed = [r.connector_id for r in runs if r.status != "ok"]
        typer.echo(
            f"  {platform}: {len(runs)} connector(s), {totals['fetched']} fetched, "
            f"{totals['new']} new, {totals['changed']} changed, {totals['rejected']} rejected"
            + (f", failed: {', '.join(failed)}" if failed else "")
        )
    assert report.matching is not None
    typer.echo(
        f"  matching: {report.matching.entities} shops from "
        f"{runtime.store.count_live(RecordType.shop)} records; truth in {truth_path}"
    )
    _print_quality(runtime, truth_path)
    typer.echo(f"ready in {time.perf_counter() - started:.1f} s")
    if serve:
        import uvicorn

        from aggregator.web.app import create_app
        from scheduler import Worker

        # One machine: this process is also the worker that carries out "run now" requests.
        worker = Worker(runtime).start()
        typer.echo(f"Search page: http://{host}:{port}/  (Ctrl-C to stop)")
        try:
            uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
        finally:
            worker.stop()
            platforms.stop()
    else:
        platforms.stop()
    return runtime


def _print_quality(runtime: Runtime, truth_path) -> None:  # type: ignore[no-untyped-def]
    """Quality of what the matcher merged on its own, then with its review queue ruled as the
    truth says: the pairs it left to a chamber count as misses until someone rules them."""
    import csv

    from aggregator.models import RecordKey
    from dedupe import evaluate

    with truth_path.open(newline="", encoding="utf-8") as handle:
        truth = {
            RecordKey(platform=row["platform"], source_id=row["source_id"]): row["true_id"]
            for row in csv.DictReader(handle)
        }
    predicted = runtime.store.entity_ids_by_record()
    figures = evaluate(predicted, truth)
    shown = ", ".join(f"{k}={v:.3f}" for k, v in figures.items() if isinstance(v, float))
    typer.echo(f"  matching quality against the generator's truth: {shown}")
    by_text = {str(k): v for k, v in truth.items()}
    queue = runtime.store.review_queue()
    same = [i for i in queue if by_text.get(i.a) is not None and by_text[i.a] == by_text.get(i.b)]
    typer.echo(
        f"  review desk: {len(queue)} pairs await a chamber ({len(same)} the same shop, "
        f"{len(queue) - len(same)} different shops, by the truth)"
    )
    if same:  # the queue ruled as the truth says: the entities each "same" ruling would join
        joined = {str(k): e for k, e in predicted.items()}
        for item in same:
            old, new = joined[item.b], joined[item.a]
            joined = {k: new if e == old else e for k, e in joined.items()}
        ruled = evaluate({RecordKey.parse(k): e for k, e in joined.items()}, truth)
        typer.echo(
            "  once ruled as the truth says: "
            + ", ".join(f"{k}={ruled[k]:.3f}" for k in ("precision", "recall", "f1"))
        )
