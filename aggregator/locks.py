"""Locks held across every process of a deployment: PostgreSQL advisory locks, or file locks
beside a SQLite store (whose processes all run on one machine)."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from aggregator.store import Store
from aggregator.store.base import lock_key

__all__ = ["lock_key", "named_lock"]


@contextmanager
def named_lock(store: Store, lock_dir: Path, name: str, *, wait: bool) -> Iterator[bool]:
    """Yield True while this process holds the lock ``name``; False at once when another holds
    it and ``wait`` is false. A process that dies lets go of its locks (session or file)."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            key = lock_key(name, conn.scalar(sa.text("SELECT current_schema()")))
            if wait:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                got = True
            else:
                got = bool(conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".lock")
    # Each open is its own file description, so threads of one process exclude each other too.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
