"""Label utilities for evaluation: expansion and per-interval helpers.

Intervals <-> labels and merging live in :mod:`mstad.data.labels` (loaders need them); this
module re-exports them so evaluation code has one place to import from.
"""

from __future__ import annotations

import numpy as np

from mstad.data.labels import intervals_to_labels, labels_to_intervals, merge_intervals
from mstad.features.windows import windows_to_steps

__all__ = [
    "expand_labels",
    "intervals_to_labels",
    "labels_to_intervals",
    "merge_intervals",
    "segments",
    "windows_to_steps",
]


def expand_labels(labels: np.ndarray, k: int) -> np.ndarray:
    """Widen every anomalous run by ``k`` steps on either side (clipped to the series)."""
    labels = np.asarray(labels, dtype=bool)
    if k <= 0:
        return labels.copy()
    out = np.zeros_like(labels)
    for iv in labels_to_intervals(labels):
        out[max(iv.start - k, 0) : iv.end + k + 1] = True
    return out


def segments(labels: np.ndarray) -> np.ndarray:
    """``[n, 2]`` array of inclusive (start, end) of each anomalous run."""
    ivs = labels_to_intervals(labels)
    return np.array([(iv.start, iv.end) for iv in ivs], dtype=np.int64).reshape(-1, 2)
