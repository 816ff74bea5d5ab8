"""`aggregator demo`: demo platforms on loopback, registered, ingested, matched, indexed, served."""

from __future__ import annotations

import logging
import time

import typer

from aggregator.demo.generator import generate_catalogue
from aggregator.demo.platforms import DemoPlatforms, demo_registrations
from aggregator.demo.variations import ground_truth, write_truth_csv
from aggregator.runtime import Runtime, describe_run
from aggregator.settings import Settings

DEMO_PLATFORMS = ("toutoulouse", "clickn_co")


def run_demo(*, host: str, port: int, shops: int, serve: bool) -> Runtime:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    base = Settings()
    # The demo platforms live on loopback: allow exactly that host, nothing else.
    allow = ",".join(filter(None, [base.allow_hosts, "127.0.0.1"]))
    settings = base.model_copy(update={"allow_hosts": allow})
    runtime = Runtime(settings)
    catalogue = generate_catalogue(n_shops=shops)
    platforms = DemoPlatforms(catalogue, host="127.0.0.1", port=0)
    platforms.start()
    typer.echo(f"demo platforms on {platforms.base_url}")

    listings = {name: platforms.listings[name] for name in DEMO_PLATFORMS}
    truth_path = settings.data_dir / "demo" / "truth.csv"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    write_truth_csv(truth_path, ground_truth(catalogue, listings))

    for registration in demo_registrations(platforms.base_url):
        runtime.store.save_connector(registration, origin="cli")
    report = runtime.run_all()
    for run in report.runs:
        d = describe_run(run)
        typer.echo(
            f"  {d['connector_id']}: {d['status']}, {d['fetched']} fetched, {d['new']} new, "
            f"{d['changed']} changed, {d['rejected']} rejected"
        )
    assert report.matching is not None
    typer.echo(
        f"  matching: {report.matching.entities} shops from "
        f"{sum(r.counts.fetched for r in report.runs)} records; truth in {truth_path}"
    )
    _print_quality(runtime, truth_path)
    typer.echo(f"ready in {time.perf_counter() - started:.1f} s")
    if serve:
        import uvicorn

        from aggregator.web.app import create_app

        typer.echo(f"Search page: http://{host}:{port}/  (Ctrl-C to stop)")
        try:
            uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")
        finally:
            platforms.stop()
    else:
        platforms.stop()
    return runtime


def _print_quality(runtime: Runtime, truth_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    from aggregator.models import RecordKey
    from dedupe import evaluate

    with truth_path.open(newline="", encoding="utf-8") as handle:
        truth = {
            RecordKey(platform=row["platform"], source_id=row["source_id"]): row["true_id"]
            for row in csv.DictReader(handle)
        }
    figures = evaluate(runtime.store.entity_ids_by_record(), truth)
    shown = ", ".join(f"{k}={v:.3f}" for k, v in figures.items() if isinstance(v, float))
    typer.echo(f"  matching quality against the generator's truth: {shown}")
