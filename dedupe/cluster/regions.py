"""Re-clustering the part of the state an update touched, and giving its clusters their ids.

The region is every row reachable, through edges at or above the upper threshold (and
must-links), from a row whose edges changed; old clusters never straddle its border, so
clustering it alone gives what clustering everything would. Ids: an entity inherits, by record
key, the id its members held (see :mod:`dedupe.cluster.entity_ids`); entities outside the
region keep theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from dedupe.cluster import decisions as rulings
from dedupe.cluster.clustering import Edges, cluster
from dedupe.cluster.id_assignment import assign_ids
from dedupe.trace import stage

if TYPE_CHECKING:
    from dedupe.state.match_state import MatchState


def recluster(
    state: MatchState,
    seeds: np.ndarray,
    dead: np.ndarray,
    old_ids: Mapping[str, str | None],
    previous_ids: Mapping[str, str] | None,
) -> tuple[np.ndarray, set[str]]:
    """Re-cluster the components of ``seeds``; returns the codes of the ids of the clusters
    made (see :class:`~dedupe.cluster.entity_ids.EntityIds`) and the ids that no longer exist."""
    must, cannot = rulings.as_rows(state.decided, state.row_of)
    links: dict[int, set[int]] = {}
    for x, y in must:
        links.setdefault(x, set()).add(y)
        links.setdefault(y, set()).add(x)
    full = len(seeds) == int(state.alive.sum())  # a full run: every row is a seed
    region = seeds if full else state.store.walk(seeds, links)
    inside = np.zeros(len(state.alive), bool)
    inside[region] = True
    before = {x for x in old_ids.values() if x}
    if not full:
        before |= {x for x in map(state.entity_of.__getitem__, region.tolist()) if x}
    a, b, w, c = (
        state.store.edges_among(region) if len(region) < len(inside) else state.store.edges()
    )
    model = state.model
    assert model is not None

    def conflict_of(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
        return model.score(state.prepared, pa, pb).conflicts

    result = cluster(
        Edges(a, b, w, c),
        state.table.keys,
        [(x, y) for x, y in must if inside[x]],
        [(x, y) for x, y in cannot if inside[x] or inside[y]],
        conflict_of,
        state.config.thresholds.conflict_bits,
    )
    state.labels[region] = region
    state.labels[result.pair_rows] = result.pair_labels
    for row, label in result.labels.items():
        state.labels[row] = label
    state.labels[dead] = -1
    state.entity_of.codes[dead] = -1
    gone = set(dead.tolist())
    state.refused = {
        p: v
        for p, v in state.refused.items()
        if not inside[p[0]] and p[0] not in gone and p[1] not in gone
    }
    state.refused.update(result.refused)
    state.refused_must_links = [
        p for p in state.refused_must_links if not inside[p[0]] and p[0] not in gone
    ] + result.refused_must_links
    stage("clustered")
    changes = assign_ids(state, region, inside, before, old_ids, previous_ids or {})
    stage("ids")
    return changes
