"""The operators' room: the platform-scoped API for feed connectors, and their status page."""

from aggregator.web.operator.api import router
from aggregator.web.operator.status import router as status_router

__all__ = ["router", "status_router"]
