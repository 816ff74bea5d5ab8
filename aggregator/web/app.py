"""The public search page and the JSON API (FastAPI). No cookies, no third-party scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from aggregator.consistency import index_state
from aggregator.models import RecordType, ShopRecord
from aggregator.runtime import Runtime
from aggregator.web.limits import Deadline, RateLimit
from aggregator.web.operator import router as operator_router
from aggregator.web.operator.work import OperatorWork
from search import SearchQuery

HERE = Path(__file__).parent
#: Results (shops and offers together) on one page of the search page.
PAGE_SIZE = 20
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "interest-cohort=()",
}


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime()
    app = FastAPI(
        title="Acheter local: buy-local catalogue aggregator",
        description="One search over the shops and products of every local marketplace.",
        version="0.1.0",
        # Every route may be refused by the rate limit or cut by the deadline (web.limits).
        responses={
            429: {"description": "Too many requests: wait `Retry-After` seconds"},
            504: {"description": "Not answered within the request's deadline"},
        },
    )
    app.state.runtime = runtime
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(operator_router)

    app.state.operator_work = OperatorWork(runtime.settings)
    # Outermost first: a request over its rate is refused before anything else runs.
    app.add_middleware(Deadline, settings=runtime.settings)  # type: ignore[arg-type]
    app.add_middleware(RateLimit, settings=runtime.settings)  # type: ignore[arg-type]

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def build_query(
        q: str,
        city: str | None,
        category: str | None,
        page: int,
        per_page: int,
        **options: Any,
    ) -> SearchQuery:
        """A ``SearchQuery`` from request parameters; ``options`` are its other fields (empty
        values dropped, lists also accepted comma-separated). Invalid combinations are a 422."""
        fields: dict[str, Any] = {"text": q.lstrip()[:200], "city": city, "category": category}
        fields.update(options)
        for name in ("services", "interests", "facets"):
            if fields.get(name) is not None:
                fields[name] = [v.strip() for item in fields[name] for v in item.split(",")]
                fields[name] = [v for v in fields[name] if v]
        fields = {k: v for k, v in fields.items() if v is not None and v != ""}
        try:
            return SearchQuery(page=page, per_page=per_page, **fields)
        except ValidationError as error:
            detail = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
            raise HTTPException(status_code=422, detail=detail) from None

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        """Alive, with the schema revision and how far the search index is behind the store
        (``index.lag_entities`` changes, the oldest ``index.lag_s`` seconds old)."""
        state = index_state(runtime.store, runtime.backend, runtime.settings)
        return {
            "status": "ok",
            "schema": runtime.store.schema_revision(),
            "indexed": state.indexed,
            "index": state.as_dict(),
        }

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={503: {"description": "The store or search is unreachable, or search lags"}},
    )
    def readyz() -> Response:
        """200 when the store and search answer and the index lags by no more than
        ``ready_max_lag_s``; 503 with the reason otherwise (for a load balancer)."""
        problems: list[str] = []
        body: dict[str, Any] = {}
        try:
            state = index_state(runtime.store, runtime.backend, runtime.settings)
            body["index"] = state.as_dict()
            bound = runtime.settings.ready_max_lag_s
            if state.applied is None and state.stored:
                problems.append("the search index records no store state: it needs a rebuild")
            elif state.lag_s > bound:
                problems.append(
                    f"the search index lags the store by {state.lag_s:.0f} s "
                    f"({state.lag_entities} entities), more than {bound:g} s"
                )
        except Exception as error:  # unreachable store or index: say which, without a trace
            problems.append(f"{type(error).__name__}: {str(error)[:200]}")
        body.update(status="ready" if not problems else "not ready", problems=problems)
        return Response(
            json.dumps(body), status_code=503 if problems else 200, media_type="application/json"
        )

    @app.get("/api/search", tags=["search"])
    async def api_search(
        q: Annotated[str, Query(max_length=200, description="Words to look for")] = "",
        city: str | None = None,
        postcode: str | None = None,
        category: Annotated[str | None, Query(description="A taxonomy theme")] = None,
        platform: Annotated[str | None, Query(description="Listed on this platform")] = None,
        services: Annotated[
            list[str] | None, Query(description="Every one required, e.g. click_and_collect")
        ] = None,
        open_now: Annotated[bool, Query(description="Open now, Paris time")] = False,
        lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
        radius_m: Annotated[float | None, Query(gt=0, le=500_000)] = None,
        sort: Annotated[Literal["relevance", "distance"], Query()] = "relevance",
        interests: Annotated[
            list[str] | None, Query(description="Themes to move up, never to filter by")
        ] = None,
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 20,
        facets: Annotated[
            list[str] | None, Query(description="city, category, platforms, services")
        ] = None,
    ) -> Response:
        """Shops and offers for one query, ranked together (see docs/search.md)."""
        query = build_query(
            q,
            city,
            category,
            page,
            per_page,
            postcode=postcode,
            platform=platform,
            services=services,
            open_now=open_now,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            sort=sort,
            interests=interests,
            facets=facets,
        )
        backend = runtime.backend
        if getattr(backend, "in_process", False):
            # A CPU-bound search holding the GIL (the embedded index): handing it to a thread
            # only adds switches; workers scale as processes. A server's backend waits on I/O.
            answer = backend.search(query)
        else:
            answer = await run_in_threadpool(backend.search, query)
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.get(
        "/api/shops/{entity_id}",
        tags=["search"],
        responses={404: {"description": "No shop with this id"}},
    )
    def api_shop(entity_id: str) -> dict[str, Any]:
        return shop_payload(runtime, entity_id)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(
        request: Request,
        q: Annotated[str, Query(max_length=200)] = "",
        ville: str | None = None,
        categorie: str | None = None,
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> Response:
        answer, pages = None, 0
        if q or ville or categorie:
            answer = runtime.backend.search(build_query(q, ville, categorie, page, PAGE_SIZE))
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

    @app.get("/boutique/{entity_id}", response_class=HTMLResponse, include_in_schema=False)
    def shop_page(request: Request, entity_id: str) -> Response:
        shop = shop_payload(runtime, entity_id)
        return templates.TemplateResponse(request, "shop.html", {"shop": shop})

    return app


def shop_payload(runtime: Runtime, entity_id: str) -> dict[str, Any]:
    """The golden record with provenance, the member records and where the shop is listed."""
    entity = runtime.store.get_entity(entity_id)
    if entity is None:
        raise HTTPException(status_code=404, detail=f"no shop with id {entity_id!r}")
    members = []
    for key in entity.members:
        stored = runtime.store.get_raw(key.platform, key.source_id, RecordType.shop)
        if stored is not None:
            members.append(ShopRecord.model_validate(stored.record).model_dump(mode="json"))
    return {
        "entity_id": entity.entity_id,
        "golden": {k: v.model_dump(mode="json") for k, v in entity.golden.fields.items()},
        "names": entity.names,
        "platforms": sorted({listing.platform for listing in entity.listings}),
        "listings": [listing.model_dump(mode="json") for listing in entity.listings],
        "members": members,
    }
