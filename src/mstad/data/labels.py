"""Intervals <-> per-step boolean labels (inclusive ends), used by loaders and evaluation."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from mstad.data.entity import Interval


def intervals_to_labels(intervals: Iterable[Interval], length: int) -> np.ndarray:
    """Boolean ``[length]`` array, True inside every ``[start, end]`` (ends inclusive)."""
    labels = np.zeros(length, dtype=bool)
    for iv in intervals:
        labels[iv.start : iv.end + 1] = True
    return labels


def labels_to_intervals(labels: np.ndarray) -> list[Interval]:
    """Maximal runs of True as inclusive intervals (root causes unknown)."""
    padded = np.concatenate([[False], np.asarray(labels, dtype=bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [Interval(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def merge_intervals(intervals: Iterable[Interval], gap: int = 0) -> list[Interval]:
    """Sort and merge intervals that overlap or lie within ``gap`` steps of each other.

    Root causes of merged intervals are united (kept ``None`` only when all are ``None``).
    """
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: (i.start, i.end)):
        if merged and iv.start <= merged[-1].end + 1 + gap:
            last = merged[-1]
            causes = None
            if last.causes is not None or iv.causes is not None:
                causes = tuple(sorted(set(last.causes or ()) | set(iv.causes or ())))
            merged[-1] = Interval(last.start, max(last.end, iv.end), causes)
        else:
            merged.append(iv)
    return merged
