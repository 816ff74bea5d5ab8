"""`aggregator match`: inspect what the matcher decides and why."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from aggregator.cli.common import fail, runtime

match_app = typer.Typer(help="Inspect what the matcher decides and why.", no_args_is_help=True)


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
    path = rt.settings.config_dir / "taxonomy.yaml"
    taxonomy = load_taxonomy(path) if path.is_file() else None
    # The weights of the last matching run when it saved them, else the a priori ones.
    saved = rt.settings.data_dir / "matching-model.json"
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
