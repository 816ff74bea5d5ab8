"""The blind quality sample: automatically merged pairs, drawn with a seed, judged unseen.

Reviewers see the two records without score or suggestion; their rulings are ordinary
decisions (a wrong merge ruled "différents" is split at the next run). The observed error rate
per score band is the share of decided sample pairs ruled different.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from aggregator import schema as t
from aggregator.models import utcnow
from aggregator.store.decisions import DecisionsMixin
from aggregator.store.entities import EntitiesMixin
from aggregator.store.review import BANDS

#: Pairs drawn per shop at most, so that one big shop does not fill the sample.
PER_SHOP = 1


@dataclass(frozen=True)
class SamplePair:
    a: str
    b: str
    probability: float
    #: The pair's ruling in force now (``none`` until decided).
    ruling: str

    @property
    def band(self) -> str:
        return next(name for name, (lo, hi) in BANDS.items() if lo <= self.probability < hi)


class SampleMixin(EntitiesMixin, DecisionsMixin):
    def draw_sample(
        self, size: int, seed: int, score: Callable[[str, str], float], drawn_by: str
    ) -> int:
        """Replace the sample with ``size`` merged pairs drawn with ``seed`` (one per shop);
        ``score(a, b)`` gives each drawn pair's probability. Returns how many were drawn."""
        groups: dict[str, list[str]] = {}
        for key, entity in sorted(self.entity_ids_by_record().items(), key=lambda kv: str(kv[0])):
            groups.setdefault(entity, []).append(str(key))
        rng = random.Random(seed)
        pairs = []
        for entity in sorted(groups):
            members = groups[entity]
            if len(members) >= 2:
                pairs.append(rng.choice(list(itertools.combinations(members, 2))))
        drawn = rng.sample(pairs, min(size, len(pairs)))
        now = utcnow()
        rows = [
            dict(a=a, b=b, probability=score(a, b), seed=seed, drawn_at=now, drawn_by=drawn_by)
            for a, b in drawn
        ]
        with self.engine.begin() as conn:
            conn.execute(t.quality_sample.delete())
            if rows:
                conn.execute(t.quality_sample.insert(), rows)
        return len(rows)

    def sample_pairs(self) -> list[SamplePair]:
        """The sample in drawing order, each with its ruling in force."""
        rulings = self.current_rulings()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.quality_sample).order_by(t.quality_sample.c.id)).all()
        out = []
        for row in rows:
            pair = (row.a, row.b) if row.a < row.b else (row.b, row.a)
            entry = rulings.get(pair)
            out.append(SamplePair(row.a, row.b, row.probability, entry.after if entry else "none"))
        return out

    def sample_error_rates(self) -> list[dict[str, object]]:
        """Per score band: pairs drawn, decided (same or different), wrong merges, error rate."""
        out = []
        pairs = self.sample_pairs()
        for band in BANDS:
            mine = [p for p in pairs if p.band == band]
            decided = [p for p in mine if p.ruling in ("must_link", "cannot_link")]
            wrong = sum(p.ruling == "cannot_link" for p in decided)
            out.append(
                {
                    "band": band,
                    "drawn": len(mine),
                    "decided": len(decided),
                    "wrong": wrong,
                    "error_rate": round(wrong / len(decided), 3) if decided else None,
                }
            )
        return out
