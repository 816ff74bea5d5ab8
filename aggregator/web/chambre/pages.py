"""The review desk's pages under /chambre/: login, queue, pair card, my decisions.

Server-rendered: every action is a form that works without script; ``desk.js`` only adds the
keyboard (M, D, I, S, Z, arrows, ?) and prefetches the next card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from aggregator.store.review import BANDS, QueueItem, ReviewError, model_label
from aggregator.store.reviewers import SESSION_TTL, Reviewer
from aggregator.web.chambre.auth import (
    COOKIE,
    COOKIE_PATH,
    admin_refusal,
    is_admin,
    page_reviewer,
    runtime_of,
    same_origin,
)
from aggregator.web.chambre.card import build_card

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/chambre", include_in_schema=False)
VERDICT_WORDS = {
    "must_link": "même commerce",
    "cannot_link": "différents",
    "unsure": "incertain",
    "none": "sans décision",
}
templates.env.globals["verdict_words"] = VERDICT_WORDS
BAND_WORDS = {"bas": "< 0,5", "moyen": "0,5 – 0,8", "haut": "0,8 – 0,95", "tres-haut": "≥ 0,95"}
templates.env.globals["band_words"] = BAND_WORDS
templates.env.globals["field_words"] = {
    "name": "Nom",
    "address": "Adresse",
    "postcode": "Code postal",
    "city": "Commune",
    "phone": "Téléphone",
    "website": "Site web",
    "siret": "SIRET",
}

MaybeReviewer = Annotated[Reviewer | None, Depends(page_reviewer)]
#: The columns of the decisions log as exported, oldest row first.
LOG_COLUMNS = [
    "id", "decided_at", "reviewer", "role", "action", "undoes", "a", "b", "before", "after",
    "probability", "model", "note",
]  # fmt: skip


def refused(request: Request, reviewer: Reviewer, action: str) -> Response:
    """403: a reviewer asked for what only an admin may do; the page says what and why."""
    return templates.TemplateResponse(
        request,
        "refused.html",
        {"reviewer": reviewer, "message": admin_refusal(action)},
        status_code=403,
    )


def admin_post(request: Request, reviewer: Reviewer | None, action: str) -> Reviewer | Response:
    """The admin who sent a form, or the page to answer instead: a cross-site post raises, an
    expired session gets the sign-in page (401), a reviewer who is not an admin the refusal."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    if not is_admin(reviewer):
        return refused(request, reviewer, action)
    return reviewer


def _login(request: Request, error: str = "", status: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"error": error, "reviewer": None}, status_code=status
    )


async def _form(request: Request) -> dict[str, str]:
    """A posted form's fields (first value of each), read without a multipart parser."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in {"desk.js", "desk.css"}:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name)


@router.post("/connexion")
async def login(request: Request) -> Response:
    same_origin(request)
    form = await _form(request)
    store = runtime_of(request).store
    reviewer = store.reviewer_for_key(form.get("cle", "").strip())
    if reviewer is None:
        return _login(request, "Clé inconnue ou révoquée.", status=401)
    response = RedirectResponse("/chambre/", status_code=303)
    response.set_cookie(
        COOKIE,
        store.open_session(reviewer),
        max_age=int(SESSION_TTL.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/deconnexion")
def logout(request: Request) -> Response:
    same_origin(request)
    token = request.cookies.get(COOKIE)
    if token:
        runtime_of(request).store.close_session(token)
    response = RedirectResponse("/chambre/", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def _filters(
    commune: str | None,
    plateformes: str | None,
    score: str | None,
    categorie: str | None = None,
) -> dict[str, str]:
    out = {
        "commune": commune or "",
        "plateformes": plateformes or "",
        "score": score or "",
        "categorie": categorie or "",
    }
    if out["score"] not in BANDS:
        out["score"] = ""
    return {k: v for k, v in out.items() if v}


def _queue(request: Request, filters: dict[str, str]) -> list[QueueItem]:
    pair = filters.get("plateformes", "")
    platforms = tuple(pair.split("+", 1)) if "+" in pair else None
    return runtime_of(request).store.review_queue(
        commune=filters.get("commune"),
        platforms=platforms,  # type: ignore[arg-type]
        band=filters.get("score"),
        category=filters.get("categorie"),
    )


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    reviewer: MaybeReviewer,
    commune: Annotated[str | None, Query(max_length=100)] = None,
    plateformes: Annotated[str | None, Query(max_length=140)] = None,
    score: Annotated[str | None, Query(max_length=20)] = None,
    categorie: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    filters = _filters(commune, plateformes, score, categorie)
    everything = store.review_queue()
    items = _queue(request, filters) if filters else everything
    done, total = store.review_progress()
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "reviewer": reviewer,
            "items": items[:200],
            "count": len(items),
            "done": done,
            "total": total,
            "filters": filters,
            "query": urlencode(filters),
            "communes": sorted({c for i in everything for c in i.communes if c}),
            "pairs": sorted({"+".join(i.platforms) for i in everything}),
            "categories": sorted({c for i in everything for c in i.categories if c}),
            "bands": BANDS,
        },
    )


@router.get("/paire", response_class=HTMLResponse)
def pair_page(
    request: Request,
    reviewer: MaybeReviewer,
    pos: Annotated[int, Query(ge=0, le=100000)] = 0,
    a: Annotated[str | None, Query(max_length=330)] = None,
    b: Annotated[str | None, Query(max_length=330)] = None,
    commune: Annotated[str | None, Query(max_length=100)] = None,
    plateformes: Annotated[str | None, Query(max_length=140)] = None,
    score: Annotated[str | None, Query(max_length=20)] = None,
    categorie: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    filters = _filters(commune, plateformes, score, categorie)
    items = _queue(request, filters)
    if a and b:
        in_queue = next((n for n, i in enumerate(items) if {i.a, i.b} == {a, b}), None)
        pos = pos if in_queue is None else in_queue
    elif pos < len(items):
        a, b = items[pos].a, items[pos].b
    else:
        a = b = None
    card = None
    if a and b:
        try:
            card = build_card(store, a, b)
        except ValueError:
            card = None
    ruling = "none"
    if card is not None:
        log = store.decision_log(pair=(a, b), limit=1)  # type: ignore[arg-type]
        ruling = log[0].after if log else "none"
    done, total = store.review_progress()
    query = urlencode(filters)
    return templates.TemplateResponse(
        request,
        "pair.html",
        {
            "reviewer": reviewer,
            "card": card,
            "ruling": ruling,
            "pos": pos,
            "count": len(items),
            "done": done,
            "total": total,
            "filters": filters,
            "prev": f"/chambre/paire?{urlencode({**filters, 'pos': pos - 1})}" if pos > 0 else None,
            "next": f"/chambre/paire?{urlencode({**filters, 'pos': pos + 1})}"
            if pos + 1 < len(items)
            else None,
            "query": query,
            "mine": store.decision_log(reviewer.name, limit=5),
        },
        status_code=200 if card is not None or not (a and b) else 404,
    )


@router.post("/decision")
async def decision(request: Request, reviewer: MaybeReviewer) -> Response:
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    form = await _form(request)
    runtime = runtime_of(request)
    filters = _filters(
        form.get("commune"), form.get("plateformes"), form.get("score"), form.get("categorie")
    )
    try:
        runtime.store.decide(
            form.get("a", ""),
            form.get("b", ""),
            form.get("verdict", ""),
            reviewer=reviewer.name,
            role=reviewer.role,
            note=form.get("note", "").strip() or None,
            model=model_label(runtime.settings.data_dir),
        )
    except ReviewError as error:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"reviewer": reviewer, "message": str(error)},
            status_code=422,
        )
    if form.get("echantillon"):  # the blind sample: on to its next pair
        return RedirectResponse("/chambre/echantillon/paire", 303)
    back = form.get("retour", "")
    if back:  # decided from a record's view: back to it
        return RedirectResponse(f"/chambre/fiche?{urlencode({'cle': back})}", 303)
    # The decided pair leaves the queue: the card at the same position is the next one.
    pos = form.get("pos", "0")
    pos = pos if pos.isdigit() else "0"
    return RedirectResponse(f"/chambre/paire?{urlencode({**filters, 'pos': pos})}", 303)


@router.post("/annuler")
async def undo(request: Request, reviewer: MaybeReviewer) -> Response:
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    form = await _form(request)
    filters = _filters(
        form.get("commune"), form.get("plateformes"), form.get("score"), form.get("categorie")
    )
    author = form.get("de", "").strip() or reviewer.name
    if author != reviewer.name and not is_admin(reviewer):
        return refused(request, reviewer, "undo_others")
    store = runtime_of(request).store
    if author != reviewer.name:  # an admin takes back someone else's latest action
        entry = store.undo_last(author, role=reviewer.role, by=reviewer.name)
        back = urlencode({"qui": author, **({} if entry else {"rien": 1})})
        return RedirectResponse(f"/chambre/decisions?{back}", 303)
    entry = store.undo_last(reviewer.name, role=reviewer.role)
    if entry is None:
        return RedirectResponse("/chambre/decisions?rien=1", 303)
    if form.get("echantillon"):
        return RedirectResponse("/chambre/echantillon/paire", 303)
    # Back to the pair whose ruling was undone, to decide it again.
    target = {**filters, "a": entry.a, "b": entry.b}
    return RedirectResponse(f"/chambre/paire?{urlencode(target)}", 303)


@router.get("/decisions", response_class=HTMLResponse)
def my_decisions(
    request: Request,
    reviewer: MaybeReviewer,
    rien: int = 0,
    qui: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The reviewer's latest log rows; an admin may read anyone's (``qui``) and undo them."""
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    whose = qui or reviewer.name
    if whose != reviewer.name and not is_admin(reviewer):
        return refused(request, reviewer, "undo_others")
    log = store.decision_log(whose, limit=50)
    names: list[str] = []
    if is_admin(reviewer):  # everyone with a key or a row in the log
        names = sorted(
            {row[1] for row in store.list_reviewer_keys()}
            | {e.reviewer for e in store.decision_log(limit=2000)}
            | {whose}
        )
    return templates.TemplateResponse(
        request,
        "decisions.html",
        {
            "reviewer": reviewer,
            "log": log,
            "nothing_left": bool(rien),
            "whose": whose,
            "names": names,
        },
    )


@router.get("/decisions/journal.csv")
def export_log(request: Request, reviewer: MaybeReviewer) -> Response:
    """Every row of the decisions log, for an admin: CSV for a French spreadsheet."""
    from aggregator.store.reports import csv_text

    if reviewer is None:
        return _login(request)
    if not is_admin(reviewer):
        return refused(request, reviewer, "export")
    rows = [entry.as_dict() for entry in reversed(runtime_of(request).store.decision_log())]
    return Response(
        csv_text(rows, LOG_COLUMNS).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="journal-decisions.csv"'},
    )
