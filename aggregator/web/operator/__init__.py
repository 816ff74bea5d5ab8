"""The operators' room: the platform-scoped API for feed connectors."""

from aggregator.web.operator.api import router

__all__ = ["router"]
