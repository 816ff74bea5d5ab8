"""Prometheus metrics: what a process measures as it works (run, stage and search durations)
and what the store says at scrape time (runs by status, records by outcome, queue, freshness,
index size).

The web serves ``/metrics``; a worker serves its own with ``aggregator worker --metrics-port``.
Web processes started as several uvicorn workers share their histograms through
``PROMETHEUS_MULTIPROC_DIR`` when it is set (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from aggregator.models import Run, utcnow

if TYPE_CHECKING:
    from fastapi import FastAPI

    from aggregator.runtime import Runtime

RUN_SECONDS = Histogram(
    "aggregator_run_duration_seconds",
    "Connector runs, from start to stored, by final status",
    ["status"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
STAGE_SECONDS = Histogram(
    "aggregator_stage_duration_seconds",
    "The stages after a run: matching, indexing",
    ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
SEARCH_SECONDS = Histogram(
    "aggregator_search_latency_seconds",
    "Search requests (API and page), from request to response",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
#: The paths whose latency is a search's.
SEARCH_ROUTES = {"/api/search": "api", "/": "page"}
OUTCOMES = ("fetched", "new", "changed", "unchanged", "gone", "rejected")


def observe_run(run: Run, seconds: float) -> None:
    RUN_SECONDS.labels(status=run.status).observe(seconds)


def observe_stage(stage: str, seconds: float) -> None:
    STAGE_SECONDS.labels(stage=stage).observe(seconds)


class StoreCollector(Collector):
    """Figures read from the store and the index each time Prometheus scrapes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Any]:
        store = self.runtime.store
        by_status = CounterMetricFamily(
            "aggregator_runs", "Connector runs stored, by status", labels=["status"]
        )
        records = CounterMetricFamily(
            "aggregator_records",
            "Records read by connector runs, by outcome (fetched = all of them)",
            labels=["outcome"],
        )
        statuses, outcomes = store.run_totals()
        for status, count in sorted(statuses.items()):
            by_status.add_metric([status], count)
        for outcome in OUTCOMES:
            records.add_metric([outcome], outcomes.get(outcome, 0))
        yield by_status
        yield records
        yield GaugeMetricFamily(
            "aggregator_run_requests_queued",
            "Run-now requests waiting for a worker",
            value=store.count_queued(),
        )
        index = GaugeMetricFamily("aggregator_index_documents", "Shops in the search index")
        index.add_metric([], self.runtime.backend.count())
        yield index
        last = store.last_matching(status="ok")
        freshness = GaugeMetricFamily(
            "aggregator_freshness_seconds",
            "Seconds since the last matching and indexing went through (NaN: never)",
        )
        age = float("nan")
        if last is not None and last.finished_at is not None:
            age = (utcnow() - last.finished_at).total_seconds()
        freshness.add_metric([], age)
        yield freshness
        success = GaugeMetricFamily(
            "aggregator_connector_last_success_timestamp_seconds",
            "When each connector's last successful run ended (Unix time)",
            labels=["connector_id"],
        )
        for cid, moment in sorted(store.last_success_by_connector().items()):
            success.add_metric([cid], moment.timestamp())
        yield success


def registry_for(runtime: Runtime) -> CollectorRegistry:
    """The process's histograms (or every web worker's, in multiprocess mode) and the store's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (RUN_SECONDS, STAGE_SECONDS, SEARCH_SECONDS):
            registry.register(collector)
    registry.register(StoreCollector(runtime))
    return registry


def install(app: FastAPI, runtime: Runtime) -> None:
    """``GET /metrics`` and the search latency measurement, on the web app."""
    from fastapi import Request, Response

    registry = registry_for(runtime)

    @app.middleware("http")
    async def _time_searches(request: Request, call_next: Any) -> Response:
        route = SEARCH_ROUTES.get(request.url.path)
        if route is None or (route == "page" and not request.url.query):
            return await call_next(request)
        started = time.perf_counter()
        response: Response = await call_next(request)
        SEARCH_SECONDS.labels(route=route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def serve_worker_metrics(port: int, addr: str = "127.0.0.1") -> None:
    """A worker's own ``/metrics`` (its run and stage histograms) on a port of its own."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=addr, registry=REGISTRY)
