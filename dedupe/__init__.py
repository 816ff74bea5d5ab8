"""Matching: normalisation, blocking, scoring, clustering, golden records, evaluation.

The pipeline calls :func:`match_shops` (and :func:`update` for incremental runs); reviewers'
tools call :func:`explain` and :func:`informative_pairs` (which pair to label next); labels
become decisions with :func:`decisions_from_labels`; benchmarks call :func:`match_table` and
:func:`evaluate`.
"""

from __future__ import annotations

from dedupe.block.keys import BlockingRules
from dedupe.config import MatchConfig, Thresholds
from dedupe.evaluation import evaluate
from dedupe.golden.records import GOLDEN_FIELDS
from dedupe.labels import InformativePair, decisions_from_labels, informative_pairs
from dedupe.matcher import MatchResult, explain, match_shops, match_table, update
from dedupe.prepare.table import ShopTable
from dedupe.prepare.taxonomy import Taxonomy, load_taxonomy, normalise_category
from dedupe.score.comparisons import Comparison, Level
from dedupe.score.defaults import DEFAULT_COMPARISONS
from dedupe.score.model import MatchModel
from dedupe.state.match_state import MatchState

__all__ = [
    "DEFAULT_COMPARISONS",
    "GOLDEN_FIELDS",
    "InformativePair",
    "BlockingRules",
    "Comparison",
    "Level",
    "MatchConfig",
    "MatchModel",
    "MatchResult",
    "MatchState",
    "ShopTable",
    "Taxonomy",
    "Thresholds",
    "decisions_from_labels",
    "evaluate",
    "explain",
    "informative_pairs",
    "load_taxonomy",
    "match_shops",
    "match_table",
    "normalise_category",
    "update",
]
