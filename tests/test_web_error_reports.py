"""Error reports from the shop page: stored on SQLite and PostgreSQL, listed, refused when empty."""

from __future__ import annotations

import pytest

from aggregator.store import Store, StoreError


def test_reports_are_stored_and_listed_newest_first(store: Store) -> None:
    first = store.add_error_report(
        "e0123456789ab", "  Fermé le lundi, pas ouvert  ", "opening_hours"
    )
    second = store.add_error_report("e0123456789ab", "Le téléphone a changé")
    assert second > first
    reports = store.list_error_reports()
    assert [r.id for r in reports] == [second, first]
    assert reports[1].message == "Fermé le lundi, pas ouvert"
    assert reports[1].field == "opening_hours" and reports[0].field is None
    assert {r.status for r in reports} == {"open"} and reports[0].created_at is not None
    assert len(store.list_error_reports(limit=1)) == 1

    store.set_error_report_status(first, "resolved")
    assert [r.id for r in store.list_error_reports()] == [second]
    assert [r.id for r in store.list_error_reports("resolved")] == [first]
    assert len(store.list_error_reports(None)) == 2


@pytest.mark.parametrize(
    ("entity_id", "message", "field"),
    [("", "x", None), ("e1", "   ", None), ("e1", "x" * 2001, None), ("e1", "x", "f" * 65)],
)
def test_bad_reports_are_refused_and_nothing_is_stored(
    store: Store, entity_id: str, message: str, field: str | None
) -> None:
    with pytest.raises(StoreError):
        store.add_error_report(entity_id, message, field)
    assert store.list_error_reports(None) == []


def test_unknown_status_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        store.set_error_report_status(1, "done")
    with pytest.raises(StoreError):
        store.set_error_report_status(999, "resolved")
