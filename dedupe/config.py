"""What a matching run is set up with: thresholds, model, blocking rules, taxonomy, priorities.

Default thresholds are chosen a priori, not fitted (``docs/matching.md``): a pair merges at a
match probability of 0.9 or more (about 3.2 bits), goes to review from 0.5 (0 bits), and a merge
is refused when two records it would join show 4 bits of conflicting evidence (e.g. a different
phone *and* a different address: two shops, whatever the names say).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dedupe.block.keys import BlockingRules
from dedupe.prepare.taxonomy import Taxonomy
from dedupe.score.model import MatchModel


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: ``upper`` and above merge, ``lower`` to ``upper`` go to review.

    ``conflict_bits``: a merge is refused when two records it would join show conflict
    evidence (see :mod:`dedupe.score.model`) at or below minus this many bits.
    """

    upper: float = 0.9
    lower: float = 0.5
    conflict_bits: float = 4.0

    def __post_init__(self) -> None:
        if not 0.0 < self.lower <= self.upper < 1.0:
            raise ValueError("thresholds: expected 0 < lower <= upper < 1")

    @staticmethod
    def weight(p: float) -> float:
        """The match weight (bits) of a probability."""
        return math.log2(p / (1.0 - p))


@dataclass(frozen=True)
class MatchConfig:
    """Everything a run needs besides the records and decisions.

    ``model=None`` lets the first full run estimate weights from the data (``estimate``:
    ``"auto"`` does so when there are enough records, see :mod:`dedupe.score.estimate`), falling
    back to the a priori defaults when the estimate fails its sanity checks.
    """

    thresholds: Thresholds = field(default_factory=Thresholds)
    model: MatchModel | None = None
    estimate: bool | str = "auto"
    blocking: BlockingRules = field(default_factory=BlockingRules)
    taxonomy: Taxonomy | None = None
    platform_domains: tuple[str, ...] = ()
    platform_priority: Mapping[str, int] = field(default_factory=dict)
    record_dates: dict[str, datetime] = field(default_factory=dict)
    #: Worker processes (forked) for normalising a big first run; 1: none. Forking a process
    #: that runs threads (a web server) is unsafe: only batch callers should raise it.
    processes: int = 1
    #: Worker processes forked before the caller started any thread
    #: (:func:`dedupe.prepare.columns_of.start_pool`): used instead of ``processes``.
    pool: Any = None
    #: Keep the last run's candidate pairs (``MatchState.last_pairs``), for measuring blocking.
    keep_pairs: bool = False
