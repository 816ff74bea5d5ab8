"""Rows normalised by an earlier state, taken instead of normalised again: the same columns and
the same entities as normalising every row."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from benchmarks.dedupe_data import COLUMNS, generate
from dedupe import MatchConfig, ShopTable, match_table, update
from dedupe.prepare.columns_of import Normaliser, normalise
from dedupe.prepare.reused import Normalised, normalise_reusing
from dedupe.prepare.rows import ARRAYS, TEXTS, WORDS


def table_of(columns: dict[str, list[Any]], rows: list[int]) -> ShopTable:
    return ShopTable({name: [columns[name][r] for r in rows] for name in COLUMNS})


@pytest.fixture(scope="module")
def data() -> Any:
    return generate(3000, seed=11)


def renamed(columns: dict[str, list[Any]], row: int) -> dict[str, Any]:
    changed = {name: columns[name][row] for name in COLUMNS}
    changed["name"] = f"{changed['name']} Bio"
    changed["phone"] = None
    return changed


def test_taken_rows_give_the_columns_normalising_gives(data: Any) -> None:
    """Rows taken from an earlier state (whose later updates appended rows) beside rows
    normalised now, in another order: every column as normalising the whole table."""
    columns, n = data.columns, len(data)
    rng = random.Random(3)
    first = sorted(rng.sample(range(n), 2400))
    earlier = match_table(table_of(columns, first), config=MatchConfig(estimate=False))
    changed = rng.sample(first, 40)
    later = ShopTable(
        {name: [renamed(columns, r)[name] for r in changed] for name in COLUMNS}
    )  # appended rows, as an incremental run leaves them
    earlier = update(earlier, later)
    state = earlier.state
    wanted = sorted(rng.sample(range(n), 2500))
    rows = [renamed(columns, r) if r in changed else None for r in wanted]
    table = ShopTable(
        {
            name: [
                columns[name][r] if row is None else row[name]
                for r, row in zip(wanted, rows, strict=True)
            ]
            for name in COLUMNS
        }
    )
    origin = state.row_of.rows_of(list(table.keys))
    # Records not held, and some read again: normalised now.
    origin[rng.sample(range(len(wanted)), 300)] = -1
    assert (origin >= len(first)).sum() > 20  # rows an update appended, taken
    assert (origin >= 0).sum() > 1500 and (origin < 0).sum() > 400
    kept = Normalised.of(state.prepared)  # type: ignore[arg-type]
    kept.origin = origin
    normaliser = Normaliser()
    got = normalise_reusing(table, normaliser, kept)
    want = normalise(table, Normaliser(), 0, len(table))
    assert kept.columns is None  # given up once taken
    for name in TEXTS:
        assert list(got[name]) == list(want[name]), name
    for name in (*ARRAYS, *WORDS):
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_a_matching_taking_rows_gives_the_same_entities(data: Any) -> None:
    columns, n = data.columns, len(data)
    config = MatchConfig(estimate=False)
    table = table_of(columns, list(range(n)))
    earlier = match_table(table, config=config)
    kept = Normalised.of(earlier.state.prepared)  # type: ignore[arg-type]
    origin = np.arange(n, dtype=np.int64)
    origin[::7] = -1
    kept.origin = origin
    again = match_table(table_of(columns, list(range(n))), config=config, kept=kept)
    fresh = match_table(table_of(columns, list(range(n))), config=config)
    assert again.assignments() == fresh.assignments()
    assert [e.model_dump() for e in again.entities] == [e.model_dump() for e in fresh.entities]


def test_rows_for_another_table_are_refused(data: Any) -> None:
    table = table_of(data.columns, list(range(100)))
    earlier = match_table(table, config=MatchConfig(estimate=False))
    kept = Normalised.of(earlier.state.prepared)  # type: ignore[arg-type]
    kept.origin = np.arange(50, dtype=np.int64)
    with pytest.raises(ValueError, match="50 earlier rows given for a table of 100"):
        normalise_reusing(table, Normaliser(), kept)
