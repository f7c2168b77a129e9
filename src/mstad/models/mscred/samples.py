"""MSCRED's samples and their step mapping: training samples pooled from several series
(:class:`PooledStacks`, used by the warped copies), each sample's value spread back over the
steps it covers, and the typical residual a relative score divides by."""

from __future__ import annotations

import numpy as np

from mstad.features.windows import windows_to_steps


class PooledStacks:
    """Sample stacks of several series indexed as one collection, without copying them:
    ``pool[index]`` is the ``[len(index), h, S, n, n]`` array of those samples."""

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        self.offsets = np.cumsum([0] + [len(p) for p in parts])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index)
        part = np.searchsorted(self.offsets, index, side="right") - 1
        out = np.empty((len(index), *self.parts[0].shape[1:]), dtype=self.parts[0].dtype)
        for k in np.unique(part):
            chosen = part == k
            out[chosen] = self.parts[k][index[chosen] - self.offsets[k]]
        return out


def samples_to_steps(values: np.ndarray, sample_ends: np.ndarray, gap: int, n_steps: int):
    """Each sample covers ``[t_end - gap, t_end)``; earlier steps take the first sample's value."""
    out = np.empty((n_steps,) + values.shape[1:], dtype=np.float64)
    starts = sample_ends - gap
    index = np.searchsorted(starts, np.arange(n_steps), side="right") - 1
    out[:] = values[np.maximum(index, 0)]
    return out


def scale_windows_to_steps(
    parts: np.ndarray, ends: np.ndarray, windows: tuple[int, ...], n_steps: int
) -> np.ndarray:
    """``parts [N, S, ...]``: each scale's share of a sample's score, over the steps its matrix
    sums over, ``[end - w, end)``. Per scale, each step takes the mean over the samples whose
    window covers it (steps before the scale's first window take its first value); the result is
    the scales' sum ``[n_steps, ...]`` (``ends[-1]`` must be ``n_steps``)."""
    out = np.zeros((n_steps, *parts.shape[2:]))
    for s, w in enumerate(windows):
        lo = int(ends[0]) - w  # the first step this scale's windows cover
        covered = windows_to_steps(parts[:, s], ends - w - lo, w, n_steps - lo)
        out[lo:] += covered
        out[:lo] += covered[:1]
    return out


def typical_residual(residual: np.ndarray) -> np.ndarray:
    """Median residual of every matrix entry over held-out normal samples, ``[S, n, n]``, floored
    at 1 % of its mean so that an entry the model always reconstructs exactly cannot divide by
    zero."""
    median = np.median(residual, axis=0)
    return np.maximum(median, 0.01 * median.mean() + 1e-12)
