"""The chambers' room: the review desk's pages under /chambre/, its API under /api/review/."""

from __future__ import annotations

from fastapi import APIRouter

from aggregator.web.chambre.api import router as api_router
from aggregator.web.chambre.errors import router as errors_router
from aggregator.web.chambre.keys import router as keys_router
from aggregator.web.chambre.pages import router as pages_router
from aggregator.web.chambre.reports import router as reports_router
from aggregator.web.chambre.sample import router as sample_router
from aggregator.web.chambre.shops import router as shops_router

router = APIRouter()
router.include_router(api_router)
router.include_router(pages_router)
router.include_router(reports_router)
router.include_router(shops_router)
router.include_router(sample_router)
router.include_router(errors_router)
router.include_router(keys_router)

__all__ = ["router"]
