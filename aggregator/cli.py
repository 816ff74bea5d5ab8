"""The `aggregator` command line."""

from __future__ import annotations

import csv
import json
import logging
import socket
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from aggregator.registrations import RegistrationError
from aggregator.runtime import Runtime, describe_run
from aggregator.settings import Settings
from aggregator.store import StoreError
from connectors.base import ConnectorError

app = typer.Typer(help="Buy-local catalogue aggregator.", no_args_is_help=True)
connectors_app = typer.Typer(help="Register, check and run feed connectors.", no_args_is_help=True)
export_app = typer.Typer(help="Export data.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")
app.add_typer(export_app, name="export")


def _runtime() -> Runtime:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return Runtime(Settings())


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _print_runs(runs: list) -> None:
    for run in runs:
        d = describe_run(run)
        typer.echo(
            f"{d['connector_id']}: {d['status']} fetched={d['fetched']} new={d['new']} "
            f"changed={d['changed']} unchanged={d['unchanged']} gone={d['gone']} "
            f"rejected={d['rejected']} ({d['duration_s']} s)"
        )
        for error in d["errors"]:
            typer.echo(f"  ! {error}")


@app.command()
def run() -> None:
    """Run every enabled connector, then matching, then indexing."""
    runtime = _runtime()
    report = runtime.run_all()
    _print_runs(report.runs)
    if report.matching:
        typer.echo(
            f"matching: {report.matching.entities} shops, "
            f"{report.matching.candidate_pairs} pairs to review, "
            f"{len(report.matching.changed)} changed, {len(report.matching.removed)} removed"
        )
    typer.echo(f"indexing: {report.indexing}")
    runtime.close()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: int = 1,
    schedule: Annotated[
        bool, typer.Option("--schedule/--no-schedule", help="Run connectors on their schedules")
    ] = True,
) -> None:
    """Serve the search page and the API, and run connectors on their schedules (this process
    is the only one that writes the index; web workers only read it)."""
    import uvicorn

    from scheduler import build_scheduler

    runtime = _runtime()
    runtime.import_config_registrations()
    scheduler = build_scheduler(runtime) if schedule else None
    if scheduler is not None:
        scheduler.start()
    typer.echo(f"Serving on http://{host}:{port}/")
    try:
        if workers > 1:
            _serve_workers(host, port, workers)
        else:
            uvicorn.run(
                "aggregator.web.app:create_app", factory=True, host=host, port=port, workers=workers
            )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        runtime.close()


def _serve_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor and ``workers`` worker processes, on a listening socket of ours.

    ``uvicorn.run(workers=N)`` creates its socket with protocol 0, and asyncio sets
    ``TCP_NODELAY`` only on connections accepted from a socket that says ``IPPROTO_TCP``: without
    it each response, written in two parts (headers, then body), waits for the client's delayed
    ACK, about 40 ms a request (see docs/search.md and ``benchmarks/search_serve.py``).
    """
    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    config = Config(
        "aggregator.web.app:create_app", factory=True, host=host, port=port, workers=workers
    )
    try:
        sock = _listening_socket(host, port)
    except OSError as error:
        raise _fail(f"cannot listen on {host}:{port}: {error}") from error
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


@connectors_app.command("add")
def connectors_add(file: Path) -> None:
    """Validate FILE.yaml, check the feed, then register it (nothing is saved on failure)."""
    runtime = _runtime()
    try:
        ids = runtime.add_registration_file(file, origin="cli")
    except (RegistrationError, ConnectorError) as error:
        raise _fail(str(error)) from None
    for cid in ids:
        typer.echo(f"registered {cid}")


@connectors_app.command("list")
def connectors_list() -> None:
    """List registered connectors."""
    runtime = _runtime()
    runtime.import_config_registrations()
    for reg in runtime.store.list_connectors():
        state = "enabled" if reg.enabled else "disabled"
        typer.echo(f"{reg.effective_id()}\t{reg.platform}\t{reg.kind}\t{state}\t{reg.url}")


@connectors_app.command("check")
def connectors_check(connector_id: str, limit: int = 5) -> None:
    """Dry-run a registered connector: sample records and every refusal with its reason."""
    runtime = _runtime()
    try:
        registration = runtime.store.get_connector(connector_id)
        origin = runtime.store.connector_origin(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    report = runtime.check(registration, origin=origin, limit=limit)
    runtime.store.record_check(connector_id, registration, report.ok)  # `enable` counts on it
    typer.echo("check: " + ("ok" if report.ok else "FAILED"))
    for problem in report.problems:
        typer.echo(f"  problem: {problem}")
    for record in report.records:
        typer.echo("  " + record.model_dump_json(exclude_none=True))
    for rejection in report.rejections:
        typer.echo(f"  refused {rejection.locator}: {rejection.reason}")
    if not report.ok:
        raise typer.Exit(code=1)


@connectors_app.command("run")
def connectors_run(connector_id: str) -> None:
    """Run one connector, then matching and indexing."""
    runtime = _runtime()
    try:
        run_ = runtime.run_connector(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    _print_runs([run_])
    runtime.match_and_index()
    if run_.status == "failed":
        raise typer.Exit(code=1)


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


@export_app.command("entities")
def export_entities(
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
) -> None:
    """Every shop record with the entity it belongs to (csv: entity_id,platform,source_id)."""
    runtime = _runtime()
    entities = list(runtime.store.iter_entities())
    if format is ExportFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["entity_id", "platform", "source_id"])
        for entity in entities:
            for member in entity.members:
                writer.writerow([entity.entity_id, member.platform, _safe_cell(member.source_id)])
    else:
        json.dump(
            [
                {
                    "entity_id": e.entity_id,
                    "golden": {k: v.model_dump(mode="json") for k, v in e.golden.fields.items()},
                    "members": [m.model_dump() for m in e.members],
                    "listings": [listing.model_dump() for listing in e.listings],
                }
                for e in entities
            ],
            sys.stdout,
            ensure_ascii=False,
            indent=1,
        )
        sys.stdout.write("\n")


def _safe_cell(value: str) -> str:
    """CSV cells starting like a formula are quoted so spreadsheets do not run them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


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

    runtime = _runtime()
    answer = runtime.backend.search(
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

    runtime = _runtime()
    truth_map: dict[RecordKey, str] = {}
    with truth.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth_map[RecordKey(platform=row["platform"], source_id=row["source_id"])] = row[
                "true_id"
            ]
    figures = score(runtime.store.entity_ids_by_record(), truth_map)
    typer.echo(json.dumps(figures, indent=1))


# -- connectors: going live, history, removal (self-contained block) ---------------------------
@connectors_app.command("enable")
def connectors_enable(connector_id: str, limit: int = 20) -> None:
    """Put a connector live, after a passing check of its current registration.

    The last check counts if the registration has not changed since; otherwise a check is run
    now (and recorded). Nothing goes live when it fails.
    """
    runtime = _runtime()
    store = runtime.store
    try:
        registration = store.get_connector(connector_id)
        if not store.check_status(connector_id).passed:
            origin = store.connector_origin(connector_id)
            report = runtime.check(registration, origin=origin, limit=limit)
            store.record_check(connector_id, registration, report.ok)
            if not report.ok:
                raise _fail(f"{connector_id} failed its check: " + "; ".join(report.problems))
        store.enable_connector(connector_id)  # CheckRequired (a StoreError) if changed since
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"enabled {connector_id}")


@connectors_app.command("disable")
def connectors_disable(connector_id: str) -> None:
    """Stop running a connector; its records stay in search."""
    try:
        _runtime().store.disable_connector(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"disabled {connector_id}")


@connectors_app.command("delete")
def connectors_delete(connector_id: str) -> None:
    """Delete a registration with its runs and quarantine; its records are marked gone.

    Gone records are kept (registering the feed again brings them back); they leave search at
    the next matching.
    """
    try:
        gone = _runtime().store.retire_connector(connector_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"deleted {connector_id}; {gone} records marked gone")


@connectors_app.command("runs")
def connectors_runs(
    connector_id: str,
    limit: int = 20,
    quarantine: Annotated[
        int | None, typer.Option(metavar="RUN_ID", help="List the records this run refused.")
    ] = None,
) -> None:
    """A connector's latest runs (counts, duration, errors), or one run's refused records."""
    store = _runtime().store
    if quarantine is not None:
        run_ = store.get_run(quarantine)
        if run_ is None or run_.connector_id != connector_id:
            raise _fail(f"connector {connector_id!r} has no run {quarantine}")
        total, rejections = store.quarantine_page(quarantine, limit=limit)
        typer.echo(f"run {quarantine}: {total} refused records")
        for rejection in rejections:
            typer.echo(f"{rejection.locator}: {rejection.reason}\n  {rejection.excerpt}")
        return
    for run_ in store.list_runs(connector_id, limit=limit):
        typer.echo(f"run {run_.id} started {run_.started_at:%Y-%m-%d %H:%M:%S}", nl=False)
        typer.echo(" (" + (f"{run_.duration_s:.1f} s" if run_.finished_at else "running") + ")")
        _print_runs([run_])


# -- operators: API keys (self-contained block) -------------------------------------------------
operators_app = typer.Typer(
    help="Operator API keys: each acts for one platform; only a hash is kept.",
    no_args_is_help=True,
)
app.add_typer(operators_app, name="operators")


@operators_app.command("add-key")
def operators_add_key(
    platform: str,
    label: Annotated[str, typer.Option(help="Who holds the key, e.g. a person or a team.")] = "",
) -> None:
    """Create a key for PLATFORM's operators; it is printed once, alone on stdout.

    Only its hash is kept: store the key now, it cannot be shown again.
    """
    import re

    from aggregator.models import SLUG_PATTERN

    if not re.fullmatch(SLUG_PATTERN, platform):
        raise _fail(f"{platform!r} is not a platform slug (lowercase letters, digits, - and _)")
    key_id, key = _runtime().store.create_api_key(platform, label)
    typer.echo(f"key {key_id} for platform {platform} (shown once: store it now)", err=True)
    typer.echo(key)


@operators_app.command("list-keys")
def operators_list_keys(platform: str | None = None) -> None:
    """Keys by id, platform, label, creation and revocation (never the keys themselves)."""
    for key in _runtime().store.list_api_keys(platform):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        created = f"{key.created_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}\t{key.platform}\t{key.label or '-'}\t{created}\t{state}")


@operators_app.command("revoke-key")
def operators_revoke_key(key_id: int) -> None:
    """Revoke a key: requests carrying it are refused from now on."""
    try:
        key = _runtime().store.revoke_api_key(key_id)
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"revoked key {key.id} of platform {key.platform}")


# -- match: explain a pair of records (self-contained block) -----------------------------------
match_app = typer.Typer(help="Inspect what the matcher decides and why.", no_args_is_help=True)
app.add_typer(match_app, name="match")


@match_app.command("explain")
def match_explain(
    a: str,
    b: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Why shop records A and B (PLATFORM:SOURCE_ID, read from the store) do or do not match:
    each field's values, level and weight in bits, then the total and the probability."""
    from aggregator.models import RecordKey, RecordType, ShopRecord
    from dedupe import MatchModel, explain, load_taxonomy

    runtime = _runtime()
    records = []
    for text in (a, b):
        try:
            key = RecordKey.parse(text)
        except ValueError as error:
            raise _fail(str(error)) from None
        stored = runtime.store.get_raw(key.platform, key.source_id, RecordType.shop)
        if stored is None:
            raise _fail(f"no shop record {text} in the store")
        records.append(ShopRecord.model_validate(stored.record))
    path = runtime.settings.config_dir / "taxonomy.yaml"
    taxonomy = load_taxonomy(path) if path.is_file() else None
    # The weights of the last matching run when it saved them, else the a priori ones.
    saved = runtime.settings.data_dir / "matching-model.json"
    model = MatchModel.from_dict(json.loads(saved.read_text())) if saved.is_file() else None
    detail = explain(records[0], records[1], taxonomy=taxonomy, model=model)
    if as_json:
        typer.echo(json.dumps(detail, indent=1, ensure_ascii=False))
        return
    typer.echo(f"{detail['a']}  vs  {detail['b']}")
    typer.echo(f"{'field':<10} {'level':<14} {'bits':>7}  values")
    for name, field in detail["fields"].items():
        shown = "  |  ".join("-" if v is None else str(v) for v in field["values"])
        typer.echo(f"{name:<10} {field['level']:<14} {field['weight']:>+7.2f}  {shown}")
    typer.echo(f"{'prior':<25} {detail['prior_weight']:>+7.2f}")
    typer.echo(
        f"match weight {detail['match_weight']:+.2f} bits, probability "
        f"{detail['probability']:.4f}, conflict evidence {detail['conflict_weight']:+.2f} bits "
        f"({detail['weights']} weights)"
    )


if __name__ == "__main__":
    app()
