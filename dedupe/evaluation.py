"""Match quality against known truth: pairwise and B-cubed precision, recall and F1.

Only records present in ``truth`` count; a truth record the prediction does not mention is a
singleton. Pairwise scores count record pairs put together; B-cubed scores average, per record,
how much of its predicted cluster is right (precision) and how much of its true cluster it found
(recall), so one large wrong merge costs in proportion to the records it hurts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

#: A record's key: whatever the caller names records by (``RecordKey``, a row index...).
K = TypeVar("K", bound=Hashable)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pairs(sizes: Mapping[Any, int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def evaluate(predicted: Mapping[K, str], truth: Mapping[K, str]) -> dict[str, float]:
    """Pairwise and B-cubed precision/recall/F1 of ``predicted`` (record -> entity id) against
    ``truth`` (record -> true entity label), over the records in ``truth``."""
    records = list(truth)
    predicted_label = {r: ("p", predicted[r]) if r in predicted else ("single", r) for r in records}
    truth_sizes = Counter(truth[r] for r in records)
    predicted_sizes = Counter(predicted_label[r] for r in records)
    both = Counter((predicted_label[r], truth[r]) for r in records)

    true_pairs, predicted_pairs, found = _pairs(truth_sizes), _pairs(predicted_sizes), _pairs(both)
    precision = found / predicted_pairs if predicted_pairs else 1.0
    recall = found / true_pairs if true_pairs else 1.0

    n = len(records)
    b3_precision = b3_recall = 1.0
    if n:
        b3_precision = (
            sum(
                both[(predicted_label[r], truth[r])] / predicted_sizes[predicted_label[r]]
                for r in records
            )
            / n
        )
        b3_recall = (
            sum(both[(predicted_label[r], truth[r])] / truth_sizes[truth[r]] for r in records) / n
        )
    return {
        "records": n,
        "true_entities": len(truth_sizes),
        "predicted_entities": len(predicted_sizes),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": found,
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "bcubed_precision": b3_precision,
        "bcubed_recall": b3_recall,
        "bcubed_f1": _f1(b3_precision, b3_recall),
    }
