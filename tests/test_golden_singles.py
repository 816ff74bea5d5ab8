"""Golden records of one-record clusters built in one batch (``GoldenBuilder.build_many``,
the columns read as arrays) are the ones built one at a time (a few rows read one by one)."""

from __future__ import annotations

import pytest

from benchmarks.dedupe_data import generate
from dedupe import MatchConfig, ShopTable, match_table
from dedupe.golden.records import GoldenBuilder
from dedupe.prepare.columns_of import prepare
from dedupe.prepare.table import TABLE_FIELDS
from tests.test_dedupe_golden_speed import DATES, PRIORITY, RECORDS, _same


@pytest.mark.parametrize("records", [True, False], ids=["records", "table"])
def test_every_row_alone_as_built_one_at_a_time(records: bool) -> None:
    if records:
        prepared = prepare(RECORDS)
    else:  # no ShopRecords behind the rows: no description, opening hours, services
        columns = {name: [getattr(r, name) for r in RECORDS] for name in TABLE_FIELDS}
        prepared = prepare(ShopTable(columns))
    builder = GoldenBuilder(prepared, PRIORITY, DATES)
    rows = list(range(len(RECORDS)))
    made = builder.build_many([[row] for row in rows[::-1]])
    assert len(made) == len(rows)
    for row, golden in zip(rows[::-1], made, strict=True):
        expected = builder.build([row])
        _same(golden, expected)
        assert list(golden.fields) == list(expected.fields)
    shown = {name for golden in made for name in golden.fields}
    assert {"name", "address", "postcode", "city", "phone", "lat", "lon"} <= shown
    if records:
        assert {"email", "website", "siret", "category", "services"} <= shown
    assert builder.build_many([]) == []


def test_generated_rows_as_built_one_at_a_time() -> None:
    data = generate(3000, 5)
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig())
    builder = result._golden()
    alone = [rows[0] for rows in result.state.clusters().values() if len(rows) == 1]
    assert len(alone) > 1000
    for row, golden in zip(alone, builder.build_many([[row] for row in alone]), strict=True):
        expected = builder.build([row])
        _same(golden, expected)
        assert list(golden.fields) == list(expected.fields)
