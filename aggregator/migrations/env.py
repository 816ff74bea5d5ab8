"""Alembic environment: migrates the connection the store hands over."""

from __future__ import annotations

from alembic import context

from aggregator.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through the `alembic` command line
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    connection = engine.connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
