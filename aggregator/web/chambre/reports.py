"""/chambre/rapports: the chambers' reports; every figure links to the list it counts."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aggregator.store.reports import PLATFORM_FIGURES, SHARES, csv_text, report_rows, reports_for
from aggregator.store.upset import charts_available, upset_svg
from aggregator.web.chambre.auth import runtime_of
from aggregator.web.chambre.pages import MaybeReviewer, _login, admin_post, templates

router = APIRouter(prefix="/chambre/rapports", include_in_schema=False)
LIST_TITLES = {
    **PLATFORM_FIGURES,
    "overlap": "commerces présents sur les deux plateformes",
    "exclusives": "commerces présents sur une seule plateforme",
    "phoning": "liste d'appels",
    "changes": "changements depuis l'état enregistré",
    "all": "commerces distincts",
    "combination": "commerces présents exactement sur ces plateformes",
}
REPORTS = ("platforms", "overlap", "exclusives", "phoning")


Commune = Annotated[str, Query(max_length=100)]
Categorie = Annotated[str, Query(max_length=100)]


def _scope(commune: str, categorie: str) -> str:
    """The narrowing as a query string to carry on every link ("" when none)."""
    pairs = {k: v for k, v in (("commune", commune), ("categorie", categorie)) if v}
    return "&" + urlencode(pairs) if pairs else ""


@router.get("", response_class=HTMLResponse)
def reports_page(
    request: Request, reviewer: MaybeReviewer, commune: Commune = "", categorie: Categorie = ""
) -> Response:
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    reports = reports_for(store, commune=commune or None, category=categorie or None)
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "reviewer": reviewer,
            "table": reports.platform_table(),
            "figures": PLATFORM_FIGURES,
            "shares": SHARES,
            "platforms": reports.platforms,
            "overlap": reports.overlap(),
            "combinations": list(reports.combinations().items()),
            "exclusives": len(reports.rows("exclusives")),
            "phoning": len(reports.rows("phoning")),
            "shops": len(reports.shops),
            "snapshot": reports.snapshot,
            "chart": charts_available() and bool(reports.shops),
            "scope": _scope(commune, categorie),
            "commune": commune,
            "categorie": categorie,
            "communes": reports.communes,
            "categories": reports.categories,
            "changes": len(reports.rows("changes")),
        },
    )


@router.get("/recouvrement.svg")
def upset_chart(
    request: Request, reviewer: MaybeReviewer, commune: Commune = "", categorie: Categorie = ""
) -> Response:
    """The UpSet chart of the overlap, drawn by the app itself (no outside service)."""
    if reviewer is None:
        return Response(status_code=401)
    if not charts_available():
        return Response("charts extra not installed", status_code=404, media_type="text/plain")
    reports = reports_for(
        runtime_of(request).store, commune=commune or None, category=categorie or None
    )
    if not reports.shops:
        return Response("aucun commerce", status_code=404, media_type="text/plain; charset=utf-8")
    svg = upset_svg(reports.combinations(), reports.platforms)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private"})


@router.post("/etat")
def save_state(request: Request, reviewer: MaybeReviewer) -> Response:
    """An admin keeps the present state: the changes report compares with it from now on."""
    checked = admin_post(request, reviewer, "snapshot")
    if isinstance(checked, Response):
        return checked
    reviewer = checked
    runtime_of(request).store.save_snapshot(reviewer.name)
    return RedirectResponse("/chambre/rapports#changements", 303)


@router.get("/liste", response_class=HTMLResponse)
def list_page(
    request: Request,
    reviewer: MaybeReviewer,
    figure: Annotated[str, Query(max_length=40)],
    plateforme: Annotated[str, Query(max_length=64)] = "",
    autre: Annotated[str, Query(max_length=64)] = "",
    format: Annotated[str, Query(pattern="^(html|csv|json)$")] = "html",  # noqa: A002
    commune: Commune = "",
    categorie: Categorie = "",
) -> Response:
    if reviewer is None:
        return _login(request)
    if figure not in LIST_TITLES:
        return Response("liste inconnue", status_code=404, media_type="text/plain; charset=utf-8")
    reports = reports_for(
        runtime_of(request).store, commune=commune or None, category=categorie or None
    )
    rows = reports.rows(figure, plateforme, autre)
    if format != "html":
        return _export(rows, f"{figure}-{plateforme or 'tout'}", format)
    return templates.TemplateResponse(
        request,
        "list.html",
        {
            "reviewer": reviewer,
            "title": LIST_TITLES[figure],
            "figure": figure,
            "platform": plateforme,
            "other": autre,
            "rows": rows,
            "columns": list(rows[0]) if rows else [],
            "scope": _scope(commune, categorie),
        },
    )


@router.get("/export")
def export(
    request: Request,
    reviewer: MaybeReviewer,
    rapport: Annotated[str, Query(pattern="^(platforms|overlap|exclusives|phoning|changes)$")],
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "csv",  # noqa: A002
    commune: Commune = "",
    categorie: Categorie = "",
) -> Response:
    if reviewer is None:
        return _login(request)
    reports = reports_for(
        runtime_of(request).store, commune=commune or None, category=categorie or None
    )
    rows = report_rows(reports, rapport)
    return _export(rows, rapport, format)


def _export(rows: list[dict[str, Any]], name: str, fmt: str) -> Response:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    if fmt == "json":
        return Response(
            json.dumps(rows, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{safe}.json"'},
        )
    return Response(
        csv_text(rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )
