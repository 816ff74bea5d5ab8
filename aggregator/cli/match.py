"""`aggregator match`: inspect what the matcher decides and why, and teach it with labels."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aggregator.cli.common import fail, runtime

if TYPE_CHECKING:
    from aggregator.models import Decision, ShopRecord
    from aggregator.runtime import Runtime
    from dedupe import MatchModel

match_app = typer.Typer(
    help="Inspect what the matcher decides and why; teach it with labels.", no_args_is_help=True
)

#: What a labels file may say, and the verdict each word stands for.
VERDICTS = {"same": "must_link", "different": "cannot_link"}
#: Shop fields shown side by side when a pair is asked.
SHOWN = ("name", "address", "postcode", "city", "phone", "website", "email", "category")


def _saved_model(rt: Runtime) -> MatchModel | None:
    """The weights of the last matching run when it saved them, else None (a priori ones)."""
    from aggregator.matching import MODEL_FILE
    from dedupe import MatchModel

    saved = rt.settings.data_dir / MODEL_FILE
    return MatchModel.from_dict(json.loads(saved.read_text())) if saved.is_file() else None


def _taxonomy(rt: Runtime) -> Any:
    from dedupe import load_taxonomy

    path = rt.settings.config_dir / "taxonomy.yaml"
    return load_taxonomy(path) if path.is_file() else None


def _print_evidence(detail: dict[str, Any]) -> None:
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


@match_app.command("explain")
def match_explain(
    a: str,
    b: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Why shop records A and B (PLATFORM:SOURCE_ID, read from the store) do or do not match:
    each field's values, level and weight in bits, then the total and the probability."""
    from aggregator.models import RecordKey, RecordType, ShopRecord
    from dedupe import explain

    rt = runtime()
    records = []
    for text in (a, b):
        try:
            key = RecordKey.parse(text)
        except ValueError as error:
            raise fail(str(error)) from None
        stored = rt.store.get_raw(key.platform, key.source_id, RecordType.shop)
        if stored is None:
            raise fail(f"no shop record {text} in the store")
        records.append(ShopRecord.model_validate(stored.record))
    detail = explain(records[0], records[1], taxonomy=_taxonomy(rt), model=_saved_model(rt))
    if as_json:
        typer.echo(json.dumps(detail, indent=1, ensure_ascii=False))
        return
    typer.echo(f"{detail['a']}  vs  {detail['b']}")
    _print_evidence(detail)


# -- labels from a file ------------------------------------------------------------------------


def read_labels(path: Path, reviewer: str) -> list[tuple[int, Decision]]:
    """Every row of a labels file as ``(line, decision)``, or ``ValueError`` naming the first
    bad line.

    Columns ``a,b,verdict`` (``same`` or ``different``), optionally ``reviewer`` and ``note``;
    ``a`` and ``b`` are record keys ``PLATFORM:SOURCE_ID``. A pair labelled both ways in one
    file is refused: which one was meant cannot be told."""
    from aggregator.models import Decision, RecordKey, Verdict

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in ("a", "b", "verdict") if c not in header]
    if missing:
        raise ValueError(
            f"{path}: line 1: missing column(s) {', '.join(missing)} (header: {header})"
        )
    reader.fieldnames = header
    decisions: list[tuple[int, Decision]] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for row in reader:
        line = reader.line_num
        where = f"{path}: line {line}"
        if None in row:
            raise ValueError(f"{where}: more cells than the header has columns")
        try:
            a, b = (RecordKey.parse((row[c] or "").strip()) for c in ("a", "b"))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        if a == b:
            raise ValueError(f"{where}: a record cannot be labelled against itself ({a})")
        word = (row["verdict"] or "").strip().lower()
        if word not in VERDICTS:
            raise ValueError(f"{where}: verdict {row['verdict']!r}: expected same or different")
        pair = (str(a), str(b)) if str(a) < str(b) else (str(b), str(a))
        if pair in seen and seen[pair][1] != word:
            raise ValueError(
                f"{where}: {pair[0]} / {pair[1]} labelled {word} here and "
                f"{seen[pair][1]} on line {seen[pair][0]}"
            )
        seen[pair] = (line, word)
        decision = Decision(
            a=a,
            b=b,
            verdict=Verdict(VERDICTS[word]),
            reviewer=(row.get("reviewer") or "").strip() or reviewer,
            note=(row.get("note") or "").strip() or None,
        )
        decisions.append((line, decision))
    return decisions


@match_app.command("import-labels")
def match_import_labels(
    path: Path,
    reviewer: Annotated[
        str, typer.Option(help="Reviewer of the rows whose reviewer cell is empty")
    ] = "import",
) -> None:
    """Store the labelled pairs of FILE.csv (columns a,b,verdict = same|different; optional
    reviewer, note) as decisions; the next `aggregator run` obeys them. Every row is checked
    first, its records included: on any error nothing is stored."""
    try:
        rows = read_labels(path, reviewer)
    except ValueError as error:
        raise fail(str(error)) from None
    rt = runtime()
    keys = {(k.platform, k.source_id) for _, d in rows for k in (d.a, d.b)}
    live = {(r.platform, r.source_id) for r in rt.store.get_raw_many(keys)}
    for line, decision in rows:
        for key in (decision.a, decision.b):
            if (key.platform, key.source_id) not in live:
                raise fail(f"{path}: line {line}: no live shop record {key} in the store")
    decisions = [decision for _, decision in rows]
    for decision in decisions:
        rt.store.add_decision(decision)
    same = sum(1 for d in decisions if d.verdict.value == "must_link")
    typer.echo(
        f"stored {len(decisions)} decisions ({same} same, {len(decisions) - same} different); "
        "the next `aggregator run` applies them"
    )


# -- labels asked in the terminal --------------------------------------------------------------

HELP = (
    "y = same shop, n = different shops, u = unsure (skip), back = undo the last answer, q = quit"
)


def _show_pair(rt: Runtime, records: dict[str, ShopRecord], question: Any, model: Any) -> None:
    from dedupe import explain

    a, b = records[str(question.a)], records[str(question.b)]
    typer.echo("")
    state = "now together" if question.same_entity else "now apart"
    typer.echo(
        f"{question.a}  vs  {question.b}   probability {question.probability:.3f} "
        f"({state}; a verdict moves {question.effect} record(s))"
    )
    for name in SHOWN:
        left, right = getattr(a, name), getattr(b, name)
        if left is None and right is None:
            continue
        typer.echo(f"  {name:<9} {'-' if left is None else left!s:<40.40} | {right or '-'}")
    if a.lat is not None or b.lat is not None:
        typer.echo(f"  {'lat, lon':<9} {f'{a.lat}, {a.lon}':<40} | {b.lat}, {b.lon}")
    _print_evidence(explain(a, b, taxonomy=_taxonomy(rt), model=model))


@match_app.command("label")
def match_label(
    reviewer: Annotated[str, typer.Option(help="Name stored with each decision")] = "labeller",
    limit: Annotated[int, typer.Option(help="Stop after this many answers (0: no limit)")] = 0,
) -> None:
    """Ask, one pair at a time, the pair whose answer teaches the matcher most (closest to the
    merge threshold, times the records a verdict would move), with its fields and evidence
    side by side.

    Answers: y / n / u / back / q. Each answer is stored as a decision when the next one is
    given (or at the end), so `back` can take the last one back without a trace in the
    store; the next `aggregator run` obeys them."""
    from aggregator.models import Decision, RecordType, ShopRecord, Verdict
    from dedupe import match_shops, update

    rt = runtime()
    shops = [ShopRecord.model_validate(r.record) for r in rt.store.iter_raw(RecordType.shop)]
    if not shops:
        raise fail("no shop records in the store: run `aggregator run` first")
    records = {str(s.key): s for s in shops}
    stored = rt.store.list_decisions()
    model = _saved_model(rt)
    result = match_shops(
        shops,
        stored,
        rt.store.entity_ids_by_record(),
        taxonomy=_taxonomy(rt),
        model=model,
        keep_pairs=True,
    )
    model = result.state.model
    # Every pair blocking proposed, also those scored too low to store: a label may find a
    # merge the run missed (the rows stay the same while decisions update the result).
    proposed = result.state.last_pairs
    pending: Decision | None = None
    unsure: list[tuple[str, str]] = []  # pairs answered "unsure": not asked again
    again: Any = None  # a pair taken back: asked again first
    last: str | None = None  # "answer" or "unsure": what `back` undoes
    answered = saved = 0
    typer.echo(HELP)
    while not limit or answered < limit:
        question = again or _next_pair(result, unsure, proposed)
        if question is None:
            typer.echo("no more pairs to ask")
            break
        _show_pair(rt, records, question, model)
        typer.echo("same shop? [y/n/u/back/q] ", nl=False)
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:  # Ctrl-C ends the session like q: the last answer is kept
            line = ""
        answer = line.strip().lower()
        if not line or answer in ("q", "quit"):
            break
        if answer in ("b", "back"):
            if last == "unsure":
                again = _question_of(result, unsure.pop())
            elif last == "answer" and pending is not None:
                again = _question_of(result, (str(pending.a), str(pending.b)))
                pending = None
                answered -= 1
                result = update(result, decisions=stored)
            else:
                typer.echo("nothing to take back (stored answers stay; answer a pair anew)")
            last = None
            continue
        if answer in ("u", "unsure", "s", "skip"):
            unsure.append((str(question.a), str(question.b)))
            again, last = None, "unsure"
            continue
        if answer not in ("y", "yes", "n", "no"):
            typer.echo(HELP)
            again = question
            continue
        if pending is not None:
            rt.store.add_decision(pending)
            stored.append(pending)
            saved += 1
        verdict = Verdict.must_link if answer.startswith("y") else Verdict.cannot_link
        pending = Decision(
            a=question.a,
            b=question.b,
            verdict=verdict,
            reviewer=reviewer,
            note="aggregator match label",
        )
        answered += 1
        again, last = None, "answer"
        # The clusters follow the answer at once, so the next question reflects it.
        result = update(result, decisions=[*stored, pending])
    if pending is not None:
        rt.store.add_decision(pending)
        saved += 1
    typer.echo(f"\nstored {saved} decisions; the next `aggregator run` applies them")


def _next_pair(result: Any, unsure: list[tuple[str, str]], proposed: Any = None) -> Any:
    """The most informative pair (:func:`dedupe.labels.informative_pairs`) not answered
    "unsure" in this session, or None when none is left."""
    from dedupe.labels import informative_pairs

    # The pairs passed over come first in the order: one more than them is enough.
    for candidate in informative_pairs(result, limit=len(unsure) + 1, candidates=proposed):
        if (str(candidate.a), str(candidate.b)) not in unsure:
            return candidate
    return None


def _question_of(result: Any, pair: tuple[str, str]) -> Any:
    """The question for a pair taken back (its figures in the current result)."""
    from aggregator.models import RecordKey
    from dedupe.labels import InformativePair
    from dedupe.score.model import probability

    detail = result.explain(*pair)
    return InformativePair(
        a=RecordKey.parse(pair[0]),
        b=RecordKey.parse(pair[1]),
        probability=probability(detail["match_weight"]),
        effect=1,
        value=0.0,
        same_entity=bool(detail["same_entity"]),
    )
