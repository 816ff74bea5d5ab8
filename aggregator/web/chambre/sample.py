"""/chambre/echantillon: the blind quality sample and its error rate per score band."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aggregator.models import RecordKey, RecordType, ShopRecord
from aggregator.runtime import Runtime
from aggregator.store.review import MODEL_FILE
from aggregator.web.chambre.auth import runtime_of
from aggregator.web.chambre.card import FIELDS, safe_url
from aggregator.web.chambre.pages import BAND_WORDS, MaybeReviewer, _login, admin_post, templates

router = APIRouter(prefix="/chambre/echantillon", include_in_schema=False)
MAX_SAMPLE = 500


def pair_scorer(runtime: Runtime):  # type: ignore[no-untyped-def]
    """``score(a, b)``: the probability the saved matching model gives two stored records."""
    from dedupe import MatchModel, explain, load_taxonomy

    saved = runtime.settings.data_dir / MODEL_FILE
    model = MatchModel.from_dict(json.loads(saved.read_text())) if saved.is_file() else None
    path = runtime.settings.config_dir / "taxonomy.yaml"
    taxonomy = load_taxonomy(path) if path.is_file() else None

    def score(a: str, b: str) -> float:
        records = []
        for text in (a, b):
            key = RecordKey.parse(text)
            stored = runtime.store.get_raw(key.platform, key.source_id, RecordType.shop)
            assert stored is not None  # drawn from the live entities a moment ago
            records.append(ShopRecord.model_validate(stored.record))
        return float(explain(records[0], records[1], taxonomy=taxonomy, model=model)["probability"])

    return score


@router.get("", response_class=HTMLResponse)
def sample_page(request: Request, reviewer: MaybeReviewer) -> Response:
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    pairs = store.sample_pairs()
    return templates.TemplateResponse(
        request,
        "sample.html",
        {
            "reviewer": reviewer,
            "rates": store.sample_error_rates(),
            "drawn": len(pairs),
            "decided": sum(p.ruling != "none" for p in pairs),
            "band_words": BAND_WORDS,
        },
    )


@router.post("/tirer")
async def draw(request: Request, reviewer: MaybeReviewer) -> Response:
    """An admin draws a new sample (size and seed), replacing the previous one."""
    checked = admin_post(request, reviewer, "sample")
    if isinstance(checked, Response):
        return checked
    reviewer = checked
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    size, seed = form.get("taille", ["50"])[0], form.get("graine", ["1"])[0]
    if not (size.isdigit() and seed.isdigit()) or not 1 <= int(size) <= MAX_SAMPLE:
        return Response(
            f"taille de 1 à {MAX_SAMPLE} et graine entière attendues",
            status_code=422,
            media_type="text/plain; charset=utf-8",
        )
    runtime = runtime_of(request)
    runtime.store.draw_sample(int(size), int(seed), pair_scorer(runtime), reviewer.name)
    return RedirectResponse("/chambre/echantillon", 303)


@router.get("/paire", response_class=HTMLResponse)
def blind_pair(request: Request, reviewer: MaybeReviewer) -> Response:
    """The first undecided sample pair, blind: values only, no score, no suggestion."""
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    pairs = store.sample_pairs()
    todo = [p for p in pairs if p.ruling == "none"]
    card = None
    if todo:
        records = []
        for text in (todo[0].a, todo[0].b):
            key = RecordKey.parse(text)
            stored = store.get_raw(key.platform, key.source_id, RecordType.shop)
            records.append(stored.record if stored is not None else {})
        rows = [
            (label, str(records[0].get(name) or ""), str(records[1].get(name) or ""))
            for label, name, _ in FIELDS
        ]
        card = {
            "a": todo[0].a,
            "b": todo[0].b,
            "rows": rows,
            "links": (safe_url(records[0].get("url")), safe_url(records[1].get("url"))),
        }
    return templates.TemplateResponse(
        request,
        "blind.html",
        {
            "reviewer": reviewer,
            "card": card,
            "left": len(todo),
            "drawn": len(pairs),
        },
    )
