"""Engine creation, schema migrations and helpers shared by the store's parts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any
from zlib import crc32

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory


class StoreError(Exception):
    """The store cannot do what was asked; the message says why."""


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("aggregator") / "migrations"))
    return cfg


#: Every digit made ``0`` (text and bytes), so that a run of digits is a plain search for zeros.
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
_DIGITS_AS_ZERO_BYTES = bytes.maketrans(b"123456789", b"000000000")


def json_loads(text: str | bytes) -> Any:
    """A stored JSON value read as ``json.loads`` reads it, by orjson where that gives the same
    value: a full matching reads a million stored records, and the standard library's parser
    took several times orjson's time. orjson reads an integer beyond 64 bits as a float (it
    would come back rounded) and refuses ``NaN``, which ``json.dumps`` writes: a text with
    twenty digits in a row, or one orjson refuses, is read by ``json.loads``."""
    if isinstance(text, str):
        long_digits = "0" * 20 in text.translate(_DIGITS_AS_ZERO)
    else:
        text = bytes(text)
        long_digits = b"0" * 20 in text.translate(_DIGITS_AS_ZERO_BYTES)
    if not long_digits:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def create_engine(url: str) -> sa.Engine:
    # Stored JSON (records, payloads, entities) read by :func:`json_loads` on both stores; the
    # PostgreSQL dialect hands it to psycopg's JSON loader.
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, json_deserializer=json_loads)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True, json_deserializer=json_loads)


class StoreBase:
    engine: sa.Engine

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the latest revision; an upgrade never needs a wipe."""
        cfg = _alembic_config()
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7310031)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named ``name`` across every process sharing a PostgreSQL store (waits
        for it); on SQLite, whose writers queue anyway, this is a no-op."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            key = lock_key(name, conn.scalar(sa.text("SELECT current_schema()")))
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def lock_key(name: str, schema: str | None = None) -> int:
    """The advisory lock key of a name (the scheduler's keys since the first release).

    Advisory locks belong to the whole database, not to a schema: two deployments kept in two
    schemas of one database would wait on each other's connectors and matchings. A store
    outside ``public`` has the schema in its keys; in ``public`` the keys stay the first
    release's, so processes of an earlier release and this one still exclude each other.
    """
    if schema and schema != "public":
        name = f"{schema}/{name}"
    return crc32(name.encode()) & 0x7FFFFFFF


def placeholders(dialect: str) -> tuple[bool, str, str]:
    """``(PostgreSQL?, a parameter, a JSON parameter)`` in the driver's own style: ``%s`` and
    ``CAST(%s AS JSON)`` for psycopg, ``?`` for SQLite."""
    pg = dialect == "postgresql"
    p = "%s" if pg else "?"
    return pg, p, f"CAST({p} AS JSON)" if pg else p


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
