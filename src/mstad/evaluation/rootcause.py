"""Root-cause scores: how well per-sensor contributions (``explain``, ``[T, D]``) point at the
sensors labelled as causes.

* ``recall_at_k`` — MSCRED's RQ3 / Garg's RC-top-k: rank sensors by their contribution summed
  over the interval; share of true causes among the top k, averaged over intervals.
* ``hitrate_at_p`` / ``ndcg_at_p`` — OmniAnomaly's interpretation metrics (as in TranAD): at every
  anomalous step with labelled causes G, take the top ``⌊p/100 · |G|⌋`` sensors; HitRate is the
  share of G among them, NDCG discounts by rank. Averaged over those steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mstad.data.entity import Interval


def rank_sensors(explain: np.ndarray, interval: Interval) -> np.ndarray:
    """Sensor indices ordered by contribution over the interval, largest first."""
    total = np.asarray(explain)[interval.start : interval.end + 1].sum(axis=0)
    return np.argsort(-total, kind="stable")


def _with_causes(intervals: Sequence[Interval]) -> list[Interval]:
    return [iv for iv in intervals if iv.causes]


def recall_at_k(explain: np.ndarray, intervals: Sequence[Interval], k: int = 3) -> float:
    labelled = _with_causes(intervals)
    if not labelled:
        return math.nan
    recalls = [
        len(set(rank_sensors(explain, iv)[:k].tolist()) & set(iv.causes)) / len(iv.causes)
        for iv in labelled
    ]
    return float(np.mean(recalls))


def _per_step(explain: np.ndarray, intervals: Sequence[Interval], p: float, discounted: bool):
    values = []
    for iv in _with_causes(intervals):
        causes = set(iv.causes)
        size = int(math.floor(p / 100 * len(causes)))
        order = np.argsort(-np.asarray(explain)[iv.start : iv.end + 1], axis=1, kind="stable")
        for ranking in order[:, :size]:
            hits = [int(s) in causes for s in ranking]
            if discounted:
                dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
                ideal = sum(1 / math.log2(i + 2) for i in range(min(len(causes), size)))
                values.append(dcg / ideal)
            else:
                values.append(sum(hits) / len(causes))
    return float(np.mean(values)) if values else math.nan


def hitrate_at_p(explain: np.ndarray, intervals: Sequence[Interval], p: float = 100) -> float:
    return _per_step(explain, intervals, p, discounted=False)


def ndcg_at_p(explain: np.ndarray, intervals: Sequence[Interval], p: float = 100) -> float:
    return _per_step(explain, intervals, p, discounted=True)


def root_cause_metrics(explain: np.ndarray, intervals: Sequence[Interval]) -> dict[str, float]:
    return {
        "recall_at_3": recall_at_k(explain, intervals, 3),
        "hitrate_at_100": hitrate_at_p(explain, intervals, 100),
        "hitrate_at_150": hitrate_at_p(explain, intervals, 150),
        "ndcg_at_100": ndcg_at_p(explain, intervals, 100),
        "ndcg_at_150": ndcg_at_p(explain, intervals, 150),
    }
