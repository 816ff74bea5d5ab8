"""The public JSON API: search and one shop with provenance (see docs/api.md)."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from aggregator.models import RecordType, ShopRecord
from aggregator.runtime import Runtime
from search import SearchQuery

log = logging.getLogger(__name__)
router = APIRouter()


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


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


@router.get("/api/search", tags=["search"])
async def api_search(
    request: Request,
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
    runtime = runtime_of(request)
    query = build_query(
        q,
        city,
        category,
        page,
        per_page,
        at=runtime.settings.clock,  # None: the real clock
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
    started = time.perf_counter()
    backend = runtime.backend
    if getattr(backend, "in_process", False):
        # A CPU-bound search holding the GIL (the embedded index): handing it to a thread
        # only adds switches; workers scale as processes. A server's backend waits on I/O.
        answer = backend.search(query)
    else:
        answer = await run_in_threadpool(backend.search, query)
    # Only that a search happened and its time: never what was asked, nor by whom.
    log.info("search (api /api/search): %.1f ms", (time.perf_counter() - started) * 1000)
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get(
    "/api/shops/{entity_id}",
    tags=["search"],
    responses={404: {"description": "No shop with this id"}},
)
def api_shop(request: Request, entity_id: str) -> dict[str, Any]:
    return shop_payload(runtime_of(request), entity_id)


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
