"""Sliding windows and the one exact mapping from window scores back to time steps."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mstad.errors import DataError


def window_starts(n_steps: int, length: int, stride: int = 1) -> np.ndarray:
    """Start indices of windows ``[s, s + length)`` at ``stride``; the last window always ends at
    ``n_steps`` so that every step is covered."""
    if length < 1 or stride < 1:
        raise ValueError(f"window length {length} and stride {stride} must be >= 1")
    if stride > length:
        raise ValueError(f"stride {stride} > window length {length} would leave steps unscored")
    if n_steps < length:
        raise DataError(
            f"series of {n_steps} steps is shorter than the window of {length}; "
            "use a smaller window or a longer series"
        )
    starts = np.arange(0, n_steps - length + 1, stride)
    if starts[-1] != n_steps - length:
        starts = np.append(starts, n_steps - length)
    return starts


def sliding_windows(series: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Windows ``[N, length, D]`` of ``series [T, D]`` at the starts of :func:`window_starts`.

    A read-only strided view (no copy) when the stride tiles the series exactly; otherwise the
    extra last window needs fancy indexing, which copies.
    """
    starts = window_starts(series.shape[0], length, stride)
    view = np.lib.stride_tricks.sliding_window_view(series, length, axis=0)  # [T-L+1, D, L]
    picked = view[::stride] if len(view[::stride]) == len(starts) else view[starts]
    return picked.transpose(0, 2, 1)


def windows_to_steps(
    window_scores: np.ndarray, starts: np.ndarray, length: int, n_steps: int, how: str = "mean"
) -> np.ndarray:
    """Per-step scores from scores of windows ``[start, start + length)``.

    Each step takes the mean (or max) over all windows that cover it. Every step must be covered
    (``window_starts`` guarantees it); an uncovered step is an error rather than a silent fill.
    A window's score may be an array (``[N, ...]`` → ``[n_steps, ...]``). The max keeps each
    start's largest score, then takes a sliding maximum over the ``length`` starts that reach a
    step (a strided view: no copy per window).
    """
    window_scores = np.asarray(window_scores, dtype=np.float64)
    starts = np.asarray(starts)
    if window_scores.shape[:1] != starts.shape:
        raise ValueError(f"{window_scores.shape} window scores for {starts.shape[0]} starts")
    # distinct starts (every caller's: window_starts) need no unbuffered ufunc.at, 10× slower
    distinct = len(starts) < 2 or bool(np.all(np.diff(starts) > 0))
    if how == "mean":
        total = np.zeros((n_steps + 1, *window_scores.shape[1:]))
        count = np.zeros(n_steps + 1)
        if distinct:
            total[starts] += window_scores
            total[starts + length] -= window_scores
            count[starts] += 1
            count[starts + length] -= 1
        else:
            np.add.at(total, starts, window_scores)
            np.add.at(total, starts + length, -window_scores)
            np.add.at(count, starts, 1)
            np.add.at(count, starts + length, -1)
        total, count = np.cumsum(total, axis=0)[:n_steps], np.cumsum(count)[:n_steps]
        covered = count > 0.5
        per_step = np.where(covered, count, 1).reshape(-1, *[1] * (window_scores.ndim - 1))
        out = total / per_step
        out[~covered] = np.nan
    elif how == "max":
        rest = window_scores.shape[1:]
        per_start = np.full((n_steps + length - 1, *rest), -np.inf)  # first length − 1: padding
        if distinct:
            per_start[starts + length - 1] = window_scores
        else:
            np.maximum.at(per_start, starts + length - 1, window_scores)
        out = sliding_window_view(per_start, length, axis=0).max(axis=-1)
        covered = np.isfinite(out).reshape(n_steps, -1).all(axis=1)
        out[~covered] = np.nan
    else:
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}")
    if not covered.all():
        raise ValueError(f"{int((~covered).sum())} steps are covered by no window")
    return out


def window_maps_to_steps(maps: np.ndarray, starts: np.ndarray, n_steps: int) -> np.ndarray:
    """Per-step scores from per-position scores ``[N, L]`` of windows ``[start, start + L)``.

    Step ``t`` averages ``maps[i, t - starts[i]]`` over every window ``i`` that covers it, so a
    score keeps its own position inside each window. Uncovered steps are an error.
    """
    maps = np.asarray(maps, dtype=np.float64)
    starts = np.asarray(starts)
    if maps.ndim != 2 or maps.shape[0] != starts.shape[0]:
        raise ValueError(f"maps of shape {maps.shape} for {starts.shape[0]} window starts")
    index = (starts[:, None] + np.arange(maps.shape[1])[None, :]).ravel()
    if index.max(initial=-1) >= n_steps:
        raise ValueError(f"a window reaches step {index.max()} of a series of {n_steps}")
    total = np.bincount(index, weights=maps.ravel(), minlength=n_steps)
    count = np.bincount(index, minlength=n_steps)
    if (count == 0).any():
        raise ValueError(f"{int((count == 0).sum())} steps are covered by no window")
    return total / count
