"""`aggregator worker`: connector runs on their schedules, "run now" requests, matching and
indexing, apart from the web. Several may share one PostgreSQL store."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from aggregator.cli.common import MatchProcesses, runtime

worker_app = typer.Typer()


@worker_app.callback(invoke_without_command=True)
def worker(
    schedule: Annotated[
        bool, typer.Option("--schedule/--no-schedule", help="Run connectors on their schedules")
    ] = True,
    poll: Annotated[float, typer.Option(help="Seconds between looks at the run queue")] = 2.0,
    match: Annotated[
        bool,
        typer.Option(
            "--match/--no-match",
            help="Match and index after runs (--no-match: runs only; a matching worker follows)",
        ),
    ] = True,
    once: Annotated[
        bool, typer.Option("--once", help="Carry out the queued requests, then stop")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's /metrics on this port")
    ] = None,
    metrics_host: str = "127.0.0.1",
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines")] = False,
    match_processes: MatchProcesses = None,
) -> None:
    """Run connectors on their schedules and the operators' "run now" requests, then the
    matching and indexing their changes need (one matching at a time across every worker)."""
    import sys

    from aggregator.jobs import catch_up, drain_queue, worker_name
    from aggregator.progress import Progress
    from scheduler import Worker

    rt = runtime(log_json=log_json)
    rt.start_match_pool(match_processes)  # forked now: no thread runs yet
    rt.import_config_registrations()
    # A person watching: records read, matching and index build as they go. Logs stay logs.
    progress = Progress() if sys.stderr.isatty() and not rt.settings.log_json else None
    if once:
        done = drain_queue(rt, worker_name(), progress, match)
        if match:
            catch_up(rt, worker_name(), progress)
        typer.echo(f"{done} request(s) carried out")
        rt.close()
        return
    if metrics_port is not None:
        from aggregator.metrics import serve_worker_metrics

        serve_worker_metrics(metrics_port, metrics_host)
    running = Worker(rt, schedule=schedule, poll_s=poll, progress=progress, match=match)
    # SIGTERM (docker stop, systemd) ends the worker as Ctrl-C does: the run in progress is
    # abandoned, and its stored part kept; the next run reads the feed again.
    signal.signal(signal.SIGTERM, lambda *_: running.request_stop())
    running.start()
    typer.echo(
        f"worker {running.name}: schedule {'on' if schedule else 'off'}, "
        f"matching {'on' if match else 'off'}, queue polled every {poll:g} s"
    )
    try:
        running.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        rt.close()
