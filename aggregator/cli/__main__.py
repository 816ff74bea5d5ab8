"""`python -m aggregator.cli`: the same command line as the `aggregator` script."""

from aggregator.cli import app

app()
