"""Matching: normalisation, blocking, scoring, clustering, golden records, evaluation.

The pipeline calls :func:`match_shops`; reviewers' tools call :func:`explain`; benchmarks call
:func:`evaluate`.
"""

from __future__ import annotations

from dedupe.blocking import BlockingRules
from dedupe.comparisons import Comparison, Level
from dedupe.defaults import DEFAULT_COMPARISONS
from dedupe.evaluation import evaluate
from dedupe.golden import GOLDEN_FIELDS
from dedupe.matcher import MatchResult, Thresholds, explain, match_shops
from dedupe.scoring import MatchModel
from dedupe.taxonomy import Taxonomy, load_taxonomy, normalise_category

__all__ = [
    "DEFAULT_COMPARISONS",
    "GOLDEN_FIELDS",
    "BlockingRules",
    "Comparison",
    "Level",
    "MatchModel",
    "MatchResult",
    "Taxonomy",
    "Thresholds",
    "evaluate",
    "explain",
    "load_taxonomy",
    "match_shops",
    "normalise_category",
]
