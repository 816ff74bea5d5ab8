"""What a report form must pass before it is stored (``aggregator.web.public.reports``), on a
real store: stamps signed with the data directory's key, rates per shop and per sender,
duplicates of an open report."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from aggregator.runtime import Runtime
from aggregator.settings import Settings
from aggregator.web.public import reports


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


def form(runtime: Runtime, entity_id: str, message: str, age: int = 10) -> dict[str, str]:
    stamp = reports.stamp(runtime, entity_id, int(time.time()) - age)
    return {"message": message, "jeton": stamp}


def test_stamps_are_signed_with_one_key_per_data_directory(settings: Settings) -> None:
    first, second = Runtime(settings), Runtime(settings)  # two workers of one machine
    try:
        stamp = reports.stamp(first, "e1", 1_000)
        assert stamp == reports.stamp(second, "e1", 1_000) != reports.stamp(second, "e2", 1_000)
        assert (settings.data_dir / "form-key").stat().st_mode & 0o077 == 0  # the owner's only
    finally:
        first.close()
        second.close()


def test_stamps_expire_and_must_be_this_shop_s(runtime: Runtime) -> None:
    verdict = reports.judge(runtime, "e1", form(runtime, "e1", "Fermé", age=7 * 3600), set(), "a")
    assert (verdict.action, verdict.status) == ("again", 400) and "expiré" in verdict.problem
    assert reports.judge(runtime, "e1", form(runtime, "e2", "Fermé"), set(), "a").action == "again"
    assert reports.judge(runtime, "e1", form(runtime, "e1", "Fermé"), set(), "a").action == "store"


def test_rates_per_sender_and_per_shop(runtime: Runtime) -> None:
    verdicts = [
        reports.judge(runtime, f"e{n}", form(runtime, f"e{n}", f"Erreur {n}"), set(), "sender")
        for n in range(reports.PER_SENDER + 1)
    ]
    assert [v.action for v in verdicts] == ["store"] * reports.PER_SENDER + ["again"]
    assert verdicts[-1].status == 429 and "réessayez dans une heure" in verdicts[-1].problem
    # Another sender is not held back by the first; one shop is, whoever writes.
    assert reports.judge(runtime, "e0", form(runtime, "e0", "Autre"), set(), "b").action == "store"
    for n in range(reports.PER_SHOP):
        reports.judge(runtime, "busy", form(runtime, "busy", f"Erreur {n}"), set(), f"s{n}")
    last = reports.judge(runtime, "busy", form(runtime, "busy", "Encore"), set(), "new")
    assert last.status == 429


def test_a_report_like_an_open_one_is_thanked_not_stored(runtime: Runtime) -> None:
    runtime.store.add_error_report("e1", "Le téléphone a changé")
    same = form(runtime, "e1", "  le TELEPHONE a change ")
    assert reports.judge(runtime, "e1", same, set(), "a").action == "thank"
    # About another shop, or once the first is resolved: a report of its own.
    assert (
        reports.judge(
            runtime, "e2", form(runtime, "e2", "Le téléphone a changé"), set(), "a"
        ).action
        == "store"
    )
    (report,) = runtime.store.list_error_reports()
    runtime.store.set_error_report_status(report.id, "resolved")
    assert reports.judge(runtime, "e1", same, set(), "b").action == "store"
