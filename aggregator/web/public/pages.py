"""The search page and the shop pages (server-rendered HTML, French)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from aggregator.web.public.api import build_query, runtime_of, shop_payload

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
#: Results (shops and offers together) on one page of the search page.
PAGE_SIZE = 20

ERRORS = {
    400: ("Demande incomprise", "Un des paramètres de l'adresse n'est pas valide."),
    404: ("Page introuvable", "Cette page n'existe pas, ou ce commerce n'est plus référencé."),
    500: ("Erreur du serveur", "Une erreur est survenue de notre côté. Réessayez dans un moment."),
}

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html


@router.get("/", response_class=HTMLResponse)
def page(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    ville: str | None = None,
    categorie: str | None = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    answer, pages = None, 0
    if q or ville or categorie:
        started = time.perf_counter()
        backend = runtime_of(request).backend
        answer = backend.search(build_query(q, ville, categorie, page, PAGE_SIZE))
        # Only that a search happened and its time: never what was asked, nor by whom.
        log.info("search page: %.1f ms", (time.perf_counter() - started) * 1000)
        # Shops and offers share one ranked list: a page holds PAGE_SIZE of both.
        pages = min(1000, -(-(answer.total + answer.offers_total) // PAGE_SIZE))
    here = {"q": q, "ville": ville or "", "categorie": categorie or ""}
    asked = {k: v for k, v in here.items() if v}
    return templates.TemplateResponse(
        request,
        "search.html",
        {
            **here,
            "answer": answer,
            "page": page,
            "pages": pages,
            "link": lambda n: "/?" + urlencode({**asked, "page": n}),
        },
    )


@router.get("/boutique/{entity_id}", response_class=HTMLResponse)
def shop_page(request: Request, entity_id: str) -> Response:
    shop = shop_payload(runtime_of(request), entity_id)
    return templates.TemplateResponse(request, "shop.html", {"shop": shop})


def error_page(request: Request, status: int) -> Response:
    """A page in French for an error status (404 for any status not described)."""
    title, message = ERRORS.get(status, ERRORS[404 if status < 500 else 500])
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )
