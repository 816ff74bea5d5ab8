"""/chambre/signalements: the errors customers reported on shop pages, each tied to its shop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aggregator.store import StoreError
from aggregator.web.chambre.auth import runtime_of, same_origin
from aggregator.web.chambre.pages import MaybeReviewer, _form, _login, templates

router = APIRouter(prefix="/chambre/signalements", include_in_schema=False)
STATUS_WORDS = {"open": "à traiter", "resolved": "corrigés", "rejected": "rejetés"}


@router.get("", response_class=HTMLResponse)
def reports_queue(
    request: Request,
    reviewer: MaybeReviewer,
    etat: Annotated[str, Query(pattern="^(open|resolved|rejected)$")] = "open",
) -> Response:
    if reviewer is None:
        return _login(request)
    store = runtime_of(request).store
    reports = store.list_error_reports(etat, limit=500)
    names = {}
    for report in reports:
        entity = store.get_entity(report.entity_id)
        names[report.entity_id] = entity.golden.value("name", "") if entity else None
    return templates.TemplateResponse(
        request,
        "error_reports.html",
        {
            "reviewer": reviewer,
            "reports": reports,
            "names": names,
            "status": etat,
            "status_words": STATUS_WORDS,
        },
    )


@router.post("/{report_id}")
async def set_status(request: Request, reviewer: MaybeReviewer, report_id: int) -> Response:
    """Mark a report corrected, rejected, or open again."""
    same_origin(request)
    if reviewer is None:
        return _login(request, "Session expirée : reconnectez-vous.", status=401)
    form = await _form(request)
    try:
        runtime_of(request).store.set_error_report_status(report_id, form.get("etat", ""))
    except StoreError as error:
        return templates.TemplateResponse(
            request, "error.html", {"reviewer": reviewer, "message": str(error)}, 422
        )
    return RedirectResponse("/chambre/signalements", 303)
