"""`aggregator doctor`: compare the search index with the store, and repair it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime

doctor_app = typer.Typer()


@doctor_app.command()
def doctor(
    check_only: Annotated[
        bool, typer.Option("--check", help="Report only; exit 1 when the index is behind.")
    ] = False,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep", help="Also compare every shop document with the store, field by field."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """How far the search index is behind the store (the last entity write it applied against
    the store's), repaired by upserts or an atomic rebuild. Takes the run lock to repair."""
    from aggregator.consistency import differences, index_state, load_entities_by_id
    from aggregator.runlock import RunInProgress

    rt = runtime()
    try:
        before = index_state(rt.store, rt.backend, rt.settings)
        report: dict[str, object] = {"before": before.as_dict()}
        mismatched: dict[str, list[str]] = {}
        if deep:
            mismatched = differences(rt.store, rt.backend)
            report["mismatched"] = len(mismatched)
            report["examples"] = dict(list(mismatched.items())[:10])
        behind = bool(before.lag_entities or before.indexed != before.stored or mismatched)
        if not check_only and behind:
            with rt.exclusive():
                repair = rt.sync_index()
                report["repair"] = repair
                # What the numbers could not see (a document changed behind their back).
                ids = [i for i in mismatched if i != "(index)"]
                if ids and not repair["rebuilt"]:
                    rt.backend.upsert(load_entities_by_id(rt.store, ids))
                    gone = [i for i in ids if rt.store.get_entity(i) is None]
                    rt.backend.delete(gone)
                    report["repaired_documents"] = len(ids)
            report["after"] = index_state(rt.store, rt.backend, rt.settings).as_dict()
    except RunInProgress as error:
        raise fail(str(error)) from None
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps(report, indent=1))
    else:
        for name, value in report.items():
            typer.echo(f"{name}: {value}")
    if check_only and behind:
        raise typer.Exit(code=1)
