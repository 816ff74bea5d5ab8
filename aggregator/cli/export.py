"""`aggregator export`: entities as CSV (formula-safe) or JSON."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from typing import Annotated

import typer

from aggregator.cli.common import runtime

export_app = typer.Typer(help="Export data.", no_args_is_help=True)


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


@export_app.command("entities")
def export_entities(
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
) -> None:
    """Every shop record with the entity it belongs to (csv: entity_id,platform,source_id)."""
    rt = runtime()
    entities = list(rt.store.iter_entities())
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
