"""``/docs`` (Swagger UI) and ``/redoc`` from copies served by the app: no CDN, no inline script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

#: Both viewers write ``<style>`` elements at run time and Redoc searches in a ``blob:`` worker;
#: still nothing but this origin.
DOCS_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
VENDOR = "/static/vendor"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><link rel="icon" href="/static/favicon.svg">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(
        "Acheter local API – Swagger UI",
        f'<link rel="stylesheet" href="{VENDOR}/swagger-ui/swagger-ui.css">',
        '<div id="swagger-ui" data-openapi-url="/openapi.json"></div>'
        f'<script src="{VENDOR}/swagger-ui/swagger-ui-bundle.js"></script>'
        f'<script src="{VENDOR}/swagger-ui/init.js"></script>',
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page(
        "Acheter local API – ReDoc",
        "",
        f'<redoc spec-url="/openapi.json"></redoc><script src="{VENDOR}/redoc/redoc.standalone.js">'
        "</script>",
    )
