"""The `aggregator` command line: one module per command group."""

from __future__ import annotations

import typer

from aggregator.cli.common import fail, print_runs, runtime
from aggregator.cli.connectors import connectors_app
from aggregator.cli.doctor import doctor_app
from aggregator.cli.export import export_app
from aggregator.cli.flow import _listening_socket
from aggregator.cli.flow import app as flow_app
from aggregator.cli.match import match_app
from aggregator.cli.operators import operators_app
from aggregator.cli.report import report_app
from aggregator.cli.review import review_app
from aggregator.cli.reviewers import reviewers_app
from aggregator.cli.worker import worker_app

app = typer.Typer(help="Buy-local catalogue aggregator.", no_args_is_help=True)
app.registered_commands += flow_app.registered_commands
app.registered_commands += doctor_app.registered_commands
app.add_typer(connectors_app, name="connectors")
app.add_typer(export_app, name="export")
app.add_typer(operators_app, name="operators")
app.add_typer(match_app, name="match")
app.add_typer(worker_app, name="worker")
app.add_typer(reviewers_app, name="reviewers")
app.add_typer(review_app, name="review")
app.add_typer(report_app, name="report")

__all__ = ["_listening_socket", "app", "fail", "print_runs", "runtime"]
