"""Locks across processes: one deployment per schema on PostgreSQL, one per data dir on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.locks import lock_key, named_lock
from aggregator.store import Store
from tests.conftest import POSTGRES_URL, _postgres_schema_url


def test_keys_in_public_are_the_first_releases() -> None:
    # A rolling upgrade: an older process and this one must still take the same key.
    assert lock_key("clickn_co") == 1439400885  # crc32 of the name, as since the first release
    assert lock_key("clickn_co", "public") == lock_key("clickn_co")
    assert lock_key("clickn_co", None) == lock_key("clickn_co")
    assert lock_key("clickn_co", "region_a") != lock_key("clickn_co")
    assert lock_key("clickn_co", "region_a") != lock_key("clickn_co", "region_b")


def test_a_held_lock_excludes_another_store_of_the_same_deployment(
    database_url: str, tmp_path: Path
) -> None:
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        with named_lock(first, tmp_path / "locks", "matching", wait=False) as held:
            assert held
            with named_lock(second, tmp_path / "locks", "matching", wait=False) as other:
                assert not other
            with named_lock(second, tmp_path / "locks", "clickn_co", wait=False) as unrelated:
                assert unrelated
        with named_lock(second, tmp_path / "locks", "matching", wait=False) as after:
            assert after
    finally:
        first.dispose()
        second.dispose()


@pytest.fixture
def two_deployments(postgres_url: str) -> Iterator[tuple[Store, Store]]:
    """Two stores on one PostgreSQL database, each in a schema of its own."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    first = Store.open(postgres_url)
    second = Store.open(_postgres_schema_url(POSTGRES_URL, schema))
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _schema(store: Store) -> str:
    with store.engine.connect() as conn:
        return str(conn.scalar(sa.text("SELECT current_schema()")))


@pytest.mark.postgres
def test_deployments_in_two_schemas_do_not_wait_on_each_other(
    two_deployments: tuple[Store, Store], tmp_path: Path
) -> None:
    first, second = two_deployments
    with named_lock(first, tmp_path / "a", "matching", wait=False) as held:
        assert held
        with named_lock(second, tmp_path / "b", "matching", wait=False) as other:
            assert other


@pytest.mark.postgres
def test_a_matching_in_another_schema_does_not_hold_this_ones(
    two_deployments: tuple[Store, Store],
) -> None:
    """``Store.exclusive`` (one matching at a time) is per deployment, too."""
    first, second = two_deployments
    theirs, ours = lock_key("matching", _schema(first)), lock_key("matching", _schema(second))
    with first.exclusive("matching"), second.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ours})
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ours})
        assert not conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": theirs})
