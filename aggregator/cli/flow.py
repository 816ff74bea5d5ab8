"""The flow commands: run, serve, demo, search, evaluate."""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path
from typing import Annotated

import typer

from aggregator.cli.common import MatchProcesses, fail, print_runs, runtime

app = typer.Typer()


@app.command()
def run(
    match_processes: MatchProcesses = None,
) -> None:
    """Run every enabled connector, then matching, then indexing, showing progress as it goes
    (records read with their rate, matching and index build, time left from the last time)."""
    from aggregator.jobs import match_after, run_connector, worker_name
    from aggregator.models import utcnow
    from aggregator.progress import Progress
    from aggregator.runlock import RunInProgress

    rt = runtime()
    rt.start_match_pool(match_processes)  # forked now: no thread runs yet
    progress, worker = Progress(), worker_name()
    runs = []
    try:
        with rt.exclusive():  # nothing is written before the data dir's run lock is held
            rt.import_config_registrations()
            for registration in rt.store.list_connectors():
                if registration.enabled:
                    run_ = run_connector(rt, registration.effective_id(), progress)
                    if run_ is not None:
                        runs.append(run_)
            print_runs(runs)
            matching = match_after(rt, utcnow(), worker, progress)
    except RunInProgress as error:
        rt.close()
        raise fail(str(error)) from None
    if matching:
        typer.echo(
            f"matching: {matching.entities} shops, "
            f"{matching.candidate_pairs} pairs to review, "
            f"{matching.written} changed, {len(matching.removed)} removed"
        )
    rt.close()


@app.command()
def migrate() -> None:
    """Bring the store's schema to the latest revision (every command does so on opening the
    store; a deployment runs this once before starting the web and the workers)."""
    from aggregator.store import Store

    rt = runtime()
    store = Store.open(rt.settings.resolved_database_url, migrate=False)
    before = store.schema_revision()
    store.migrate()
    typer.echo(f"schema: {before or 'empty'} -> {store.schema_revision()}")
    store.dispose()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: int = 1,
    schedule: Annotated[
        bool,
        typer.Option(
            "--schedule/--no-schedule",
            help="Also be the worker: run connectors on their schedules and the run-now queue "
            "(one machine, no `aggregator worker`)",
        ),
    ] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines")] = False,
) -> None:
    """Serve the search page, the API and /metrics. Connector runs, matching and indexing are
    the worker's (`aggregator worker`), unless --schedule makes this process its own worker."""
    import uvicorn

    from aggregator.logs import uvicorn_log_config

    rt = runtime(log_json=log_json)
    rt.import_config_registrations()
    worker = None
    if schedule:
        from scheduler import Worker

        worker = Worker(rt).start()
    typer.echo(f"Serving on http://{host}:{port}/")
    log_config = uvicorn_log_config(json_lines=rt.settings.log_json)
    try:
        if workers > 1:
            _serve_workers(host, port, workers, log_config)
        else:
            uvicorn.run(
                "aggregator.web.app:create_app",
                factory=True,
                host=host,
                port=port,
                access_log=False,  # no log line with a client address or a search query
                log_config=log_config,
            )
    finally:
        if worker is not None:
            worker.stop()
        rt.close()


def _serve_workers(host: str, port: int, workers: int, log_config: dict | None = None) -> None:
    """uvicorn's supervisor and ``workers`` worker processes, on a listening socket of ours.

    ``uvicorn.run(workers=N)`` creates its socket with protocol 0, and asyncio sets
    ``TCP_NODELAY`` only on connections accepted from a socket that says ``IPPROTO_TCP``: without
    it each response, written in two parts (headers, then body), waits for the client's delayed
    ACK, about 40 ms a request (see docs/search.md and ``benchmarks/search_serve.py``).
    """
    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    config = Config(
        "aggregator.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=log_config,
        # The supervisor kills a worker whose ping is not answered in time, dropping every
        # connection it holds; on a busy machine a worker that is merely starved of CPU answers
        # late (uvicorn's default: 5 s). See docs/reliability.md.
        timeout_worker_healthcheck=30,
    )
    try:
        sock = _listening_socket(host, port)
    except OSError as error:
        raise fail(f"cannot listen on {host}:{port}: {error}") from error
    with sock:
        Multiprocess(config, sockets=[sock]).run()


def _listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket the worker processes inherit and accept on (IPv6 when ``host`` is an
    IPv6 address, as uvicorn decides)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Asyncio sets it on each connection (the protocol above); on the listener as well, for
        # the systems whose accepted connections inherit it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    shops: int = 600,
    serve_page: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Start the demo platforms on loopback, register them, run the flow and serve the page."""
    from aggregator.demo.session import run_demo

    run_demo(host=host, port=port, shops=shops, serve=serve_page)


@app.command()
def search(
    query: str,
    city: str | None = None,
    category: str | None = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: int = 10,
) -> None:
    """Search like the API does; each hit carries its entity_id."""
    from search import SearchQuery

    rt = runtime()
    answer = rt.backend.search(
        SearchQuery(text=query, city=city, category=category, per_page=limit)
    )
    if as_json:
        typer.echo(answer.model_dump_json(indent=1))
        return
    typer.echo(f"{answer.total} shops ({answer.took_ms:.1f} ms)")
    for hit in answer.hits:
        platforms = ", ".join(hit.platforms)
        typer.echo(f"{hit.entity_id}  {hit.name} — {hit.city or ''} [{platforms}]")


@app.command()
def evaluate(truth: Annotated[Path, typer.Option("--truth")]) -> None:
    """Precision, recall and F1 of the current entities against FILE.csv
    (columns platform,source_id,true_id)."""
    from aggregator.models import RecordKey
    from dedupe import evaluate as score

    rt = runtime()
    truth_map: dict[RecordKey, str] = {}
    with truth.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth_map[RecordKey(platform=row["platform"], source_id=row["source_id"])] = row[
                "true_id"
            ]
    figures = score(rt.store.entity_ids_by_record(), truth_map)
    typer.echo(json.dumps(figures, indent=1))
