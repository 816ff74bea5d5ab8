"""The web app: each room's routes, the static files, the error pages and the headers every
response carries."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from aggregator import metrics
from aggregator.runtime import Runtime
from aggregator.web.chambre import router as chambre_router
from aggregator.web.health import router as health_router
from aggregator.web.limits import Deadline, RateLimit
from aggregator.web.operator import router as operator_router
from aggregator.web.operator import status_router
from aggregator.web.operator.work import OperatorWork
from aggregator.web.public import STATIC_DIR, api_router, docs_router, pages_router
from aggregator.web.public.pages import error_page

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # The search page may ask for the position (on the customer's click); nothing else may.
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), browsing-topics=(), "
    "interest-cohort=()",
}
#: Paths answered in JSON whatever happens; every other path is a page and errs in French HTML.
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json")

log = logging.getLogger(__name__)


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime()
    app = FastAPI(
        title="Acheter local: buy-local catalogue aggregator",
        description="One search over the shops and products of every local marketplace.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        # Every route may be refused by the rate limit or cut by the deadline (web.limits).
        responses={
            429: {"description": "Too many requests: wait `Retry-After` seconds"},
            504: {"description": "Not answered within the request's deadline"},
        },
    )
    app.state.runtime = runtime
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(docs_router)
    app.include_router(operator_router)
    app.include_router(status_router)
    metrics.install(app, runtime)
    app.include_router(chambre_router)

    # Pages hold no secret (no cookie, no token), so compressing what they echo gives nothing away.
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    app.state.operator_work = OperatorWork(runtime.settings)
    # Outermost first: a request over its rate is refused before anything else runs.
    app.add_middleware(Deadline, settings=runtime.settings)  # type: ignore[arg-type]
    app.add_middleware(RateLimit, settings=runtime.settings)  # type: ignore[arg-type]

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        try:
            response: Response = await call_next(request)
        except Exception as error:
            # Answered here rather than by the outermost handler, which re-raises after its
            # answer and so makes the server close the connection under the client's next
            # request on it (a reset where a browser expects a reusable connection).
            return crashed(request, error)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def is_api(request: Request) -> bool:
        return request.url.path.startswith(API_PREFIXES)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if is_api(request):
            return await http_exception_handler(request, error)
        page = error_page(request, error.status_code)
        page.headers.update(error.headers or {})  # e.g. WWW-Authenticate on a 401
        return page

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if is_api(request):
            return await request_validation_exception_handler(request, error)
        return error_page(request, 400)

    def crashed(request: Request, error: Exception) -> Response:
        # The path only, never the query string (it holds what the customer searched for).
        log.error("unhandled error on %s", request.url.path, exc_info=error)
        response = (
            Response('{"detail":"internal error"}', 500, media_type="application/json")
            if is_api(request)
            else error_page(request, 500)
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> Response:
        # An error in the middlewares outside the one above.
        return crashed(request, error)

    return app
