"""The search page, the shop pages and the plain pages (server-rendered HTML, French)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from aggregator.runtime import Runtime
from aggregator.store import StoreError
from aggregator.web.public import reports, view
from aggregator.web.public.api import runtime_of, shop_payload
from aggregator.web.public.cards import result_cards, shop_view
from aggregator.web.public.catalogue import (
    find_place,
    interest_themes,
    platform_names,
    taxonomy,
)
from aggregator.web.public.filters import RADII_KM, SERVICE_PARAMS, read_filters
from aggregator.web.public.map import Spot, results_map, shop_map
from aggregator.web.public.spelling import (
    catalogue_communes,
    commune_spellings,
    merged_facet,
)
from search import SearchQuery
from search.opening_hours import PARIS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
#: Shops and products (one ranked list) on a page: a little more than a screenful, so that
#: interests kept in the browser have something to reorder.
PAGE_SIZE = 24
MAX_FORM_BYTES = 16_384
#: A shop page's plan: the catalogue's shops within this many metres, at most this many.
NEAR_M = 1500
NEAR_SHOPS = 15
ERRORS = {
    400: ("Demande incomprise", "Un des paramètres de l'adresse n'est pas valide."),
    404: ("Page introuvable", "Cette page n'existe pas, ou ce commerce n'est plus référencé."),
    500: ("Erreur du serveur", "Une erreur est survenue de notre côté. Réessayez dans un moment."),
}

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html


def now_of(runtime: Runtime) -> datetime:
    """The settings' fixed clock when there is one (demos, tests), else now in Paris."""
    clock = runtime.settings.clock
    if clock is None:
        return datetime.now(PARIS)
    return clock if clock.tzinfo else clock.replace(tzinfo=PARIS)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    runtime = runtime_of(request)
    filters = read_filters(dict(request.query_params))
    now = now_of(runtime)
    context: dict[str, Any] = {
        "f": filters,
        "now": now,
        "answer": None,
        "radii": RADII_KM,
        "service_params": SERVICE_PARAMS,
        "services": view.SERVICES,
        "themes": interest_themes(runtime),
    }
    place = find_place(runtime, filters.pres) if filters.pres else None
    context["place"] = place
    context["place_unknown"] = bool(filters.pres) and place is None
    if filters.asked or place is not None:
        started = time.perf_counter()
        query = SearchQuery(
            text=filters.q,
            city=filters.ville or None,
            category=filters.categorie or None,
            page=filters.page,
            per_page=PAGE_SIZE,
            **filters.query_fields(place, now),
        )
        answer = runtime.backend.search(query)
        # Only that a search happened and its time: never what was asked, nor by whom.
        log.info("search (page /): %.1f ms", (time.perf_counter() - started) * 1000)
        pages = max(1, min(1000, -(-(answer.total + answer.offers_total) // PAGE_SIZE)))
        if filters.page > pages:  # never "page 6 sur 5": the last page instead
            return RedirectResponse(filters.link(page=pages if pages > 1 else None), 303)
        names = platform_names(runtime)
        tax = taxonomy(runtime)
        communes = {
            **commune_spellings(answer.facets.get("city", {})),
            **catalogue_communes(runtime),
        }
        cards = result_cards(answer, names, tax, now, communes)
        context.update(
            answer=answer,
            pages=pages,
            cities=merged_facet(answer.facets.get("city", {}), communes),
            cards=cards,
            map=results_map(answer.hits, cards),
            category_label=tax.label,
        )
    partial = request.headers.get("x-partial") == "results"
    response = templates.TemplateResponse(
        request, "partial.html" if partial else "search.html", context
    )
    response.headers["Vary"] = "X-Partial"
    return response


@router.get("/boutique/{entity_id}", response_class=HTMLResponse)
def shop_page(request: Request, entity_id: str, signale: str = "") -> Response:
    runtime = runtime_of(request)
    context = shop_context(runtime, shop_payload(runtime, entity_id))
    context["reported"] = signale == "1"
    return templates.TemplateResponse(request, "shop.html", context)


@router.post("/boutique/{entity_id}/signaler", response_class=HTMLResponse)
async def report_error(request: Request, entity_id: str) -> Response:
    runtime = runtime_of(request)
    if runtime.store.get_entity(entity_id) is None:
        raise HTTPException(status_code=404)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=400)
    # A urlencoded form of a few fields: read here rather than with another dependency.
    try:
        parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=8)
    except ValueError:
        raise HTTPException(status_code=400) from None
    form = {name: values[0] for name, values in parsed.items()}
    context = shop_context(runtime, shop_payload(runtime, entity_id))
    fields = {field for field, _ in context["report_fields"]}
    sender = request.client.host if request.client else ""
    verdict = reports.judge(runtime, entity_id, form, fields, sender)
    # Only what became of a report: never who sent it, nor what it says.
    log.info("error report: %s", verdict.action)
    if verdict.action == "store":
        try:
            runtime.store.add_error_report(entity_id, form["message"], form.get("champ") or None)
        except StoreError:
            verdict = reports.Verdict("again", "Décrivez l'erreur en quelques mots.", 400)
    if verdict.action == "again":
        context.update(
            report_error=verdict.problem,
            message=form.get("message", "")[: reports.MAX_MESSAGE],
            champ=form.get("champ", ""),
        )
        return templates.TemplateResponse(request, "shop.html", context, status_code=verdict.status)
    # Post/redirect/get: a reload does not send the report twice.
    return RedirectResponse(f"/boutique/{entity_id}?signale=1#signaler", 303)


def shop_context(runtime: Runtime, shop: dict[str, Any]) -> dict[str, Any]:
    context = shop_view(
        runtime,
        shop,
        platform_names(runtime),
        taxonomy(runtime),
        now_of(runtime),
    )
    context["report_stamp"] = reports.stamp(runtime, shop["entity_id"])
    context["honeypot"] = reports.HONEYPOT
    context["map"] = neighbourhood(runtime, shop, context["name"])
    return context


def neighbourhood(runtime: Runtime, shop: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The plan of the shop among the catalogue's shops within ``NEAR_M`` (one search)."""
    golden = shop["golden"]
    lat, lon = (golden.get(f, {}).get("value") for f in ("lat", "lon"))
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    city = (golden.get("city") or {}).get("value")
    query = SearchQuery(lat=lat, lon=lon, radius_m=NEAR_M, sort="distance", per_page=NEAR_SHOPS)
    around = runtime.backend.search(query).hits
    spot = Spot(shop["entity_id"], name, city, lat, lon, 0)
    return shop_map(spot, around, catalogue_communes(runtime))


@router.get("/ce-que-nous-gardons", response_class=HTMLResponse)
def what_we_keep(request: Request) -> Response:
    return templates.TemplateResponse(request, "privacy.html", {})


@router.get("/accessibilite", response_class=HTMLResponse)
def accessibility(request: Request) -> Response:
    return templates.TemplateResponse(request, "accessibility.html", {})


def error_page(request: Request, status: int) -> Response:
    """A page in French for an error status (404 for any status not described)."""
    title, message = ERRORS.get(status, ERRORS[404 if status < 500 else 500])
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )
