"""The customers' room: the search page, the shop pages and the public JSON API."""

from aggregator.web.public.api import router as api_router
from aggregator.web.public.api_docs import router as docs_router
from aggregator.web.public.pages import STATIC_DIR
from aggregator.web.public.pages import router as pages_router

__all__ = ["STATIC_DIR", "api_router", "docs_router", "pages_router"]
