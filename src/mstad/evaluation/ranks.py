"""Threshold sweeps through score ranks: every "score >= θ" set is a prefix of the points
sorted by descending score, so per-threshold counts become cumulative sums — O(T log T) once
instead of O(T) per threshold."""

from __future__ import annotations

import numpy as np


class RankedScores:
    """Scores sorted once; ``count(θ)`` = number of points with score >= θ."""

    def __init__(self, scores: np.ndarray):
        self.scores = np.asarray(scores, dtype=np.float64)
        self.order = np.argsort(-self.scores, kind="stable")
        self.sorted_desc = self.scores[self.order]
        self.rank = np.empty(len(self.scores), dtype=np.int64)
        self.rank[self.order] = np.arange(len(self.scores))

    def counts_at(self, thresholds: np.ndarray) -> np.ndarray:
        """For each θ, how many points have score >= θ (ties included)."""
        ascending = self.sorted_desc[::-1]
        return len(ascending) - np.searchsorted(ascending, thresholds, side="left")

    def prefix_sum(self, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the top-``count`` points, for each count."""
        cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(values, float)[self.order])])
        return cumulative[counts]

    def first_rank(self, segments: np.ndarray) -> np.ndarray:
        """Best (smallest) rank inside each inclusive segment: the segment holds a predicted
        point exactly when ``first_rank < count``."""
        if len(segments) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.array([self.rank[s : e + 1].min() for s, e in segments], dtype=np.int64)
