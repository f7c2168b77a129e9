"""A causal exponentially weighted mean of a score stream — pandas' ``ewm(span).mean()``
(``adjust=True``: each step's mean of all steps so far, weights ``(1 − α)^age``, ``α = 2 /
(span + 1)``) — that gives the same numbers on a whole series and chunk by chunk, because both
run the one recursion (``scipy.signal.lfilter`` with its state carried).

Why: a score averaged over its recent past puts long anomalies on one level and calms single
noisy steps (telemanom smooths its errors this way; the matrix-profile entry that leads TSB-AD
smooths its profile). Used by ``lstm_ad`` (telemanom's error smoothing) and, as an option off
by default, by the ensemble (``smoothing``; why not by default:
``benchmarks/results/calibration_log.md`` §9).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


class CausalEwma:
    """Call it on consecutive chunks of one series; a fresh instance starts a new series."""

    def __init__(self, span: float):
        if span < 1:
            raise ValueError(f"span must be >= 1, got {span}")
        self.decay = 1.0 - 2.0 / (span + 1.0)
        self._sum = self._weight = None  # lfilter states of the weighted sum and total weight

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """Steps along axis 0 (a score ``[T]`` or per-sensor contributions ``[T, D]``)."""
        scores = np.asarray(scores, dtype=np.float64)
        if not len(scores):
            return scores
        if self._sum is None:
            self._sum = self._weight = np.zeros((1, *scores.shape[1:]))
        a = [1.0, -self.decay]
        total, self._sum = lfilter([1.0], a, scores, axis=0, zi=self._sum)
        weight, self._weight = lfilter([1.0], a, np.ones_like(scores), axis=0, zi=self._weight)
        return total / weight


def smoothed(scores: np.ndarray, span: float) -> np.ndarray:
    """One whole series; ``span`` 0 leaves it as it is."""
    return CausalEwma(span)(scores) if span else np.asarray(scores, dtype=np.float64)
