"""`aggregator review`: the chambers' queue of candidate pairs, rulings and undo."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime
from aggregator.store.review import ReviewError, model_label

review_app = typer.Typer(
    help="Review candidate pairs: list them, rule on them, undo. A ruling changes the public "
    "search after the next match run.",
    no_args_is_help=True,
)


@review_app.command("list")
def review_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
) -> None:
    """Candidate pairs with no ruling (direct or implied), most useful first."""
    items = runtime().store.review_queue(limit=limit)
    if as_json:
        payload = [
            {
                "a": item.a,
                "b": item.b,
                "probability": item.probability,
                "usefulness": item.usefulness,
            }
            for item in items
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    for item in items:
        typer.echo(f"{item.probability:.3f}\t{item.a}\t{item.b}")


@review_app.command("decide")
def review_decide(
    a: str,
    b: str,
    verdict: Annotated[str, typer.Argument(help="same, different or unsure")],
    reviewer: Annotated[str, typer.Option(help="Who decides (recorded in the log).")],
    note: Annotated[str | None, typer.Option(help="Why, in a sentence.")] = None,
) -> None:
    """Rule on shop records A and B (PLATFORM:SOURCE_ID); the next match run obeys."""
    rt = runtime()
    try:
        entry = rt.store.decide(
            a,
            b,
            verdict,
            reviewer=reviewer,
            role="cli",
            note=note,
            model=model_label(rt.settings.data_dir),
        )
    except ReviewError as error:
        raise fail(str(error)) from None
    typer.echo(json.dumps(entry.as_dict(), ensure_ascii=False))


@review_app.command("undo")
def review_undo(
    reviewer: Annotated[str, typer.Option(help="Whose latest ruling to undo.")],
) -> None:
    """Undo REVIEWER's latest ruling not undone yet (again: the one before, and so on)."""
    entry = runtime().store.undo_last(reviewer, role="cli")
    if entry is None:
        raise fail(f"{reviewer} has no ruling left to undo")
    typer.echo(json.dumps(entry.as_dict(), ensure_ascii=False))


@review_app.command("labels")
def review_labels() -> None:
    """The rulings in force as labels, CSV on stdout: ``a,b,verdict,reviewer,note`` (verdict
    ``same`` or ``different``), the columns ``aggregator match import-labels`` reads."""
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["a", "b", "verdict", "reviewer", "note"])
    words = {"must_link": "same", "cannot_link": "different"}
    for (a, b), entry in sorted(runtime().store.current_rulings().items()):
        if entry.after in words:
            writer.writerow([a, b, words[entry.after], entry.reviewer, entry.note or ""])
