"""What every command group shares: the runtime, failures and run summaries."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from aggregator.logs import configure
from aggregator.runtime import Runtime, describe_run
from aggregator.settings import Settings

#: ``--match-processes`` of the commands that run a full matching (``worker``, ``run``).
MatchProcesses = Annotated[
    int | None,
    typer.Option(
        min=1, help="Worker processes normalising a full matching (default: match_processes)"
    ),
]


def runtime(*, log_json: bool = False) -> Runtime:
    """The process's runtime, logging set up first (``log_json``: JSON lines, for this process
    and, through the environment, for the processes it starts)."""
    if log_json:
        os.environ["AGGREGATOR_LOG_JSON"] = "1"
    settings = Settings()
    configure(json_lines=settings.log_json)
    return Runtime(settings)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def print_runs(runs: list) -> None:
    for run in runs:
        d = describe_run(run)
        typer.echo(
            f"{d['connector_id']}: {d['status']} fetched={d['fetched']} new={d['new']} "
            f"changed={d['changed']} unchanged={d['unchanged']} gone={d['gone']} "
            f"rejected={d['rejected']} ({d['duration_s']} s)"
        )
        for error in d["errors"]:
            typer.echo(f"  ! {error}")
