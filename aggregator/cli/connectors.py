"""`aggregator connectors`: register, check, run, put live and retire feed connectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli.common import fail, print_runs, runtime
from aggregator.registrations import RegistrationError
from aggregator.store import StoreError
from connectors.base import ConnectorError

connectors_app = typer.Typer(help="Register, check and run feed connectors.", no_args_is_help=True)


@connectors_app.command("add")
def connectors_add(file: Path) -> None:
    """Validate FILE.yaml, check the feed, then register it (nothing is saved on failure)."""
    rt = runtime()
    try:
        ids = rt.add_registration_file(file, origin="cli")
    except (RegistrationError, ConnectorError) as error:
        raise fail(str(error)) from None
    for cid in ids:
        typer.echo(f"registered {cid}")


@connectors_app.command("list")
def connectors_list() -> None:
    """List registered connectors."""
    rt = runtime()
    rt.import_config_registrations()
    for reg in rt.store.list_connectors():
        state = "enabled" if reg.enabled else "disabled"
        typer.echo(f"{reg.effective_id()}\t{reg.platform}\t{reg.kind}\t{state}\t{reg.url}")


@connectors_app.command("check")
def connectors_check(connector_id: str, limit: int = 5) -> None:
    """Dry-run a registered connector: sample records and every refusal with its reason."""
    rt = runtime()
    try:
        registration = rt.store.get_connector(connector_id)
        origin = rt.store.connector_origin(connector_id)
    except StoreError as error:
        raise fail(str(error)) from None
    report = rt.check(registration, origin=origin, limit=limit)
    rt.store.record_check(connector_id, registration, report.ok)  # `enable` counts on it
    typer.echo("check: " + ("ok" if report.ok else "FAILED"))
    for problem in report.problems:
        typer.echo(f"  problem: {problem}")
    for record in report.records:
        typer.echo("  " + record.model_dump_json(exclude_none=True))
    for rejection in report.rejections:
        typer.echo(f"  refused {rejection.locator}: {rejection.reason}")
    if not report.ok:
        raise typer.Exit(code=1)


@connectors_app.command("run")
def connectors_run(connector_id: str) -> None:
    """Run one connector, then matching and indexing."""
    from aggregator.jobs import match_after, worker_name
    from aggregator.runlock import RunInProgress

    rt = runtime()
    try:
        with rt.exclusive():  # nothing is written before the data dir's run lock is held
            run_ = rt.run_connector(connector_id)
            print_runs([run_])
            if run_.finished_at is not None:
                # Under the deployment's matching lock, and recorded like a worker's matching.
                match_after(rt, run_.finished_at, worker_name())
    except (StoreError, RunInProgress) as error:
        raise fail(str(error)) from None
    if run_.status == "failed":
        raise typer.Exit(code=1)


@connectors_app.command("enable")
def connectors_enable(connector_id: str, limit: int = 20) -> None:
    """Put a connector live, after a passing check of its current registration.

    The last check counts if the registration has not changed since; otherwise a check is run
    now (and recorded). Nothing goes live when it fails.
    """
    rt = runtime()
    store = rt.store
    try:
        registration = store.get_connector(connector_id)
        if not store.check_status(connector_id).passed:
            origin = store.connector_origin(connector_id)
            report = rt.check(registration, origin=origin, limit=limit)
            store.record_check(connector_id, registration, report.ok)
            if not report.ok:
                raise fail(f"{connector_id} failed its check: " + "; ".join(report.problems))
        store.enable_connector(connector_id)  # CheckRequired (a StoreError) if changed since
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"enabled {connector_id}")


@connectors_app.command("disable")
def connectors_disable(connector_id: str) -> None:
    """Stop running a connector; its records stay in search."""
    try:
        runtime().store.disable_connector(connector_id)
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"disabled {connector_id}")


@connectors_app.command("delete")
def connectors_delete(connector_id: str) -> None:
    """Delete a registration with its runs and quarantine; its records are marked gone.

    Gone records are kept (registering the feed again brings them back); they leave search at
    the next matching.
    """
    try:
        gone = runtime().store.retire_connector(connector_id)
    except StoreError as error:
        raise fail(str(error)) from None
    typer.echo(f"deleted {connector_id}; {gone} records marked gone")


@connectors_app.command("runs")
def connectors_runs(
    connector_id: str,
    limit: int = 20,
    quarantine: Annotated[
        int | None, typer.Option(metavar="RUN_ID", help="List the records this run refused.")
    ] = None,
) -> None:
    """A connector's latest runs (counts, duration, errors), or one run's refused records."""
    store = runtime().store
    if quarantine is not None:
        run_ = store.get_run(quarantine)
        if run_ is None or run_.connector_id != connector_id:
            raise fail(f"connector {connector_id!r} has no run {quarantine}")
        total, rejections = store.quarantine_page(quarantine, limit=limit)
        typer.echo(f"run {quarantine}: {total} refused records")
        for rejection in rejections:
            typer.echo(f"{rejection.locator}: {rejection.reason}\n  {rejection.excerpt}")
        return
    for run_ in store.list_runs(connector_id, limit=limit):
        typer.echo(f"run {run_.id} started {run_.started_at:%Y-%m-%d %H:%M:%S}", nl=False)
        typer.echo(" (" + (f"{run_.duration_s:.1f} s" if run_.finished_at else "running") + ")")
        print_runs([run_])
