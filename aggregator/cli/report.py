"""`aggregator report`: the chambers' reports as a table, JSON or CSV for a spreadsheet."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime
from aggregator.store.reports import Reports, csv_text, report_rows

report_app = typer.Typer(
    help="Reports over the last matching: platforms, overlap, exclusives, phoning list.",
    no_args_is_help=True,
)


JsonOpt = Annotated[bool, typer.Option("--json", help="JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="CSV: UTF-8 with BOM and ';'.")]


CommuneOpt = Annotated[str | None, typer.Option(help="Only the shops of this commune.")]
CategoryOpt = Annotated[str | None, typer.Option(help="Only the shops of this category.")]


def _print(
    which: str,
    as_json: bool,
    as_csv: bool,
    commune: str | None = None,
    category: str | None = None,
) -> None:
    if as_json and as_csv:
        raise fail("choose one of --json and --csv")
    rows = report_rows(Reports(runtime().store, commune=commune, category=category), which)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    elif as_csv:
        typer.echo(csv_text(rows), nl=False)
    else:
        columns = list(rows[0]) if rows else []
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(str(row.get(c, "")) for c in columns))


@report_app.command("platforms")
def report_platforms(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    commune: CommuneOpt = None,
    category: CategoryOpt = None,
) -> None:
    """Per platform: records, distinct shops, duplicates inside, shared, exclusive, awaiting
    review, completeness (SIRET, phone, website, hours, coordinates), not seen for 30 days."""
    _print("platforms", as_json, as_csv, commune, category)


@report_app.command("overlap")
def report_overlap(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    commune: CommuneOpt = None,
    category: CategoryOpt = None,
) -> None:
    """Shops listed on both platforms, for every pair of platforms."""
    _print("overlap", as_json, as_csv, commune, category)


@report_app.command("exclusives")
def report_exclusives(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    commune: CommuneOpt = None,
    category: CategoryOpt = None,
) -> None:
    """Shops listed on one platform only."""
    _print("exclusives", as_json, as_csv, commune, category)


@report_app.command("phoning")
def report_phoning(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    commune: CommuneOpt = None,
    category: CategoryOpt = None,
) -> None:
    """Shops to call: on one platform only or missing phone, website or hours."""
    _print("phoning", as_json, as_csv, commune, category)


@report_app.command("changes")
def report_changes(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    save: Annotated[
        bool, typer.Option("--save", help="Then keep the present state for the next report.")
    ] = False,
    by: Annotated[str, typer.Option(help="Who saves the state (with --save).")] = "cli",
) -> None:
    """Merges, splits, new and gone shops since the last saved state, each with its cause
    (a desk ruling, new data, new weights). Without a saved state: save one with --save."""
    store = runtime().store
    if store.last_snapshot() is None and not save:
        raise fail("no saved state to compare with: run `aggregator report changes --save` first")
    _print("changes", as_json, as_csv)
    if save:
        snapshot = store.save_snapshot(by)
        typer.echo(f"state {snapshot} saved: the next report compares with it", err=True)
