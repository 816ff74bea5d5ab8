"""The `aggregator` command line."""

from __future__ import annotations

import csv
import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from aggregator.registrations import RegistrationError
from aggregator.runtime import Runtime, describe_run
from aggregator.settings import Settings
from aggregator.store import StoreError
from connectors.base import ConnectorError

app = typer.Typer(help="Buy-local catalogue aggregator.", no_args_is_help=True)
connectors_app = typer.Typer(help="Register, check and run feed connectors.", no_args_is_help=True)
export_app = typer.Typer(help="Export data.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")
app.add_typer(export_app, name="export")


def _runtime() -> Runtime:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return Runtime(Settings())


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _print_runs(runs: list) -> None:
    for run in runs:
        d = describe_run(run)
        typer.echo(
            f"{d['connector_id']}: {d['status']} fetched={d['fetched']} new={d['new']} "
            f"changed={d['changed']} unchanged={d['unchanged']} gone={d['gone']} "
            f"rejected={d['rejected']} ({d['duration_s']} s)"
        )
        for error in d["errors"]:
            typer.echo(f"  ! {error}")


@app.command()
def run() -> None:
    """Run every enabled connector, then matching, then indexing."""
    runtime = _runtime()
    report = runtime.run_all()
    _print_runs(report.runs)
    if report.matching:
        typer.echo(
            f"matching: {report.matching.entities} shops, "
            f"{report.matching.candidate_pairs} pairs to review, "
            f"{len(report.matching.changed)} changed, {len(report.matching.removed)} removed"
        )
    typer.echo(f"indexing: {report.indexing}")
    runtime.close()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: int = 1,
) -> None:
    """Serve the search page and the API (imports config registrations first)."""
    import uvicorn

    runtime = _runtime()
    runtime.import_config_registrations()
    runtime.close()
    typer.echo(f"Serving on http://{host}:{port}/")
    uvicorn.run(
        "aggregator.web.app:create_app", factory=True, host=host, port=port, workers=workers
    )


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    shops: int = 600,
    serve_page: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Start the demo platforms on loopback, register them, run the flow and serve the page."""
    from aggregator.demo.session import run_demo

    run_demo(host=host, port=port, shops=shops, serve=serve_page)


@connectors_app.command("add")
def connectors_add(file: Path) -> None:
    """Validate FILE.yaml, check the feed, then register it (nothing is saved on failure)."""
    runtime = _runtime()
    try:
        ids = runtime.add_registration_file(file, origin="cli")
    except (RegistrationError, ConnectorError) as error:
        raise _fail(str(error)) from None
    for cid in ids:
        typer.echo(f"registered {cid}")


@connectors_app.command("list")
def connectors_list() -> None:
    """List registered connectors."""
    runtime = _runtime()
    runtime.import_config_registrations()
    for reg in runtime.store.list_connectors():
        state = "enabled" if reg.enabled else "disabled"
        typer.echo(f"{reg.effective_id()}\t{reg.platform}\t{reg.kind}\t{state}\t{reg.url}")


@connectors_app.command("check")
def connectors_check(connector_id: str, limit: int = 5) -> None:
    """Dry-run a registered connector: sample records and every refusal with its reason."""
    runtime = _runtime()
    try:
        registration = runtime.store.get_connector(connector_id)
        origin = runtime.store.connector_origin(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    report = runtime.check(registration, origin=origin, limit=limit)
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
    runtime = _runtime()
    try:
        run_ = runtime.run_connector(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    _print_runs([run_])
    runtime.match_and_index()
    if run_.status == "failed":
        raise typer.Exit(code=1)


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


@export_app.command("entities")
def export_entities(
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
) -> None:
    """Every shop record with the entity it belongs to (csv: entity_id,platform,source_id)."""
    runtime = _runtime()
    entities = list(runtime.store.iter_entities())
    if format is ExportFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["entity_id", "platform", "source_id"])
        for entity in entities:
            for member in entity.members:
                writer.writerow([entity.entity_id, member.platform, _safe_cell(member.source_id)])
    else:
        json.dump(
            [
                {
                    "entity_id": e.entity_id,
                    "golden": {k: v.model_dump(mode="json") for k, v in e.golden.fields.items()},
                    "members": [m.model_dump() for m in e.members],
                    "listings": [listing.model_dump() for listing in e.listings],
                }
                for e in entities
            ],
            sys.stdout,
            ensure_ascii=False,
            indent=1,
        )
        sys.stdout.write("\n")


def _safe_cell(value: str) -> str:
    """CSV cells starting like a formula are quoted so spreadsheets do not run them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@app.command()
def search(
    query: str,
    city: str | None = None,
    category: str | None = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: int = 10,
) -> None:
    """Search like the API does; each hit carries its entity_id."""
    from search import SearchQuery

    runtime = _runtime()
    answer = runtime.backend.search(
        SearchQuery(text=query, city=city, category=category, per_page=limit)
    )
    if as_json:
        typer.echo(answer.model_dump_json(indent=1))
        return
    typer.echo(f"{answer.total} shops ({answer.took_ms:.1f} ms)")
    for hit in answer.hits:
        platforms = ", ".join(hit.platforms)
        typer.echo(f"{hit.entity_id}  {hit.name} — {hit.city or ''} [{platforms}]")


@app.command()
def evaluate(truth: Annotated[Path, typer.Option("--truth")]) -> None:
    """Precision, recall and F1 of the current entities against FILE.csv
    (columns platform,source_id,true_id)."""
    from aggregator.models import RecordKey
    from dedupe import evaluate as score

    runtime = _runtime()
    truth_map: dict[RecordKey, str] = {}
    with truth.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth_map[RecordKey(platform=row["platform"], source_id=row["source_id"])] = row[
                "true_id"
            ]
    figures = score(runtime.store.entity_ids_by_record(), truth_map)
    typer.echo(json.dumps(figures, indent=1))


if __name__ == "__main__":
    app()
