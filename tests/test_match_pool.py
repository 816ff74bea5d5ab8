"""Normalising in worker processes forked before any thread gives the columns one process
gives, and the commands that match in batches start them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aggregator.runtime import Runtime
from aggregator.settings import Settings
from dedupe.prepare import columns_of
from dedupe.prepare.columns import TextColumn
from dedupe.prepare.rows import Normaliser
from dedupe.prepare.table import ShopTable


def table(n: int) -> ShopTable:
    trades = ["Boulangerie", "SARL Fromagerie", "Librairie du Taur", "ÉPICERIE FINE"]
    return ShopTable.from_columns(
        {
            "platform": ["toutoulouse"] * n,
            "source_id": [f"t{i}" for i in range(n)],
            "name": [f"{trades[i % 4]} {i % 37}" for i in range(n)],
            "address": [f"{i % 90 + 1} rue Alsace-Lorraine" for i in range(n)],
            "postcode": ["31000"] * n,
            "city": ["Toulouse"] * n,
            "phone": [f"05 61 {i % 100:02d} {i % 89:02d} 11" for i in range(n)],
            "website": [f"https://shop{i % 50}.fr" for i in range(n)],
            "lat": [43.6 + i / 1e4 if i % 3 else None for i in range(n)],
            "lon": [1.44 + i / 1e4 if i % 3 else None for i in range(n)],
        }
    )


def same(a: object, b: object) -> bool:
    if isinstance(a, TextColumn):
        return list(a) == list(b)  # type: ignore[call-overload]
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def test_a_pool_normalises_as_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns_of, "PARALLEL_FROM", 0)
    monkeypatch.setattr(columns_of, "CHUNK", 64)
    rows, normaliser = table(300), Normaliser()
    alone = columns_of.normalise(rows, normaliser, 0, 300)
    pool = columns_of.start_pool(2)
    assert pool is not None
    try:
        pooled = columns_of.normalise(rows, normaliser, 0, 300, pool=pool)
    finally:
        pool.terminate()
        pool.join()
    assert alone.keys() == pooled.keys()
    assert all(same(alone[name], pooled[name]) for name in alone), [
        name for name in alone if not same(alone[name], pooled[name])
    ]


def test_batch_commands_start_the_pool_the_setting_asks_for(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config")
    runtime = Runtime(settings)
    runtime.start_match_pool(1)
    assert runtime.match_pool is None  # one process: nothing forked
    runtime.start_match_pool()
    assert runtime.match_pool is not None and settings.match_processes == 2
    assert runtime.matching.pool is runtime.match_pool
    runtime.close()
    assert runtime.match_pool is None
