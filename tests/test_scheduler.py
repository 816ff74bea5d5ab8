"""The scheduler: schedules parsed, jobs following the registrations, scheduled runs real."""

from __future__ import annotations

from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.models import ConnectorRegistration
from aggregator.runtime import Runtime
from aggregator.settings import Settings
from scheduler import SYNC_JOB, build_scheduler, parse_schedule, run_scheduled, sync_jobs


def test_parse_schedule() -> None:
    assert isinstance(parse_schedule("every 6h"), IntervalTrigger)
    assert isinstance(parse_schedule("0 3 * * *"), CronTrigger)
    with pytest.raises(ValueError, match="every 6h"):
        parse_schedule("every six hours")


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    csv = tmp_path / "shops.csv"
    csv.write_text("id;nom\n1;Boulangerie Ange\n2;Fromagerie des Carmes\n", encoding="utf-8")
    rt = Runtime(Settings(data_dir=tmp_path / "var", config_dir=tmp_path / "config"))
    rt.store.save_connector(
        ConnectorRegistration(
            platform="demo",
            kind="csv",
            url=str(csv),
            schedule="every 6h",
            mapping={"source_id": "id", "name": "nom"},
        ),
        origin="cli",
    )
    return rt


def test_jobs_follow_the_registrations(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime)
    assert sorted(job.id for job in scheduler.get_jobs()) == [SYNC_JOB, "demo-csv"]
    registration = runtime.store.get_connector("demo-csv")
    runtime.store.save_connector(
        registration.model_copy(update={"schedule": "every 1d"}), origin="cli"
    )
    sync_jobs(scheduler, runtime)
    job = scheduler.get_job("demo-csv")
    assert job is not None and job.name == "every 1d"
    runtime.store.save_connector(registration.model_copy(update={"enabled": False}), origin="cli")
    sync_jobs(scheduler, runtime)
    assert scheduler.get_job("demo-csv") is None


def test_a_scheduled_run_ingests_matches_and_indexes(runtime: Runtime) -> None:
    run_scheduled(runtime, "demo-csv")
    (run,) = runtime.store.list_runs("demo-csv")
    assert run.status == "ok" and run.counts.new == 2
    assert runtime.backend.count() == 2
    runtime.store.save_connector(
        runtime.store.get_connector("demo-csv").model_copy(update={"enabled": False}), origin="cli"
    )
    run_scheduled(runtime, "demo-csv")  # disabled since: nothing runs
    assert len(runtime.store.list_runs("demo-csv")) == 1
    runtime.close()
