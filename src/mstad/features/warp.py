"""Time-warped copies of a training series: the same behaviour at other speeds.

A plant's batches, a machine's load cycles or a spacecraft's orbits do not all run at the speed
the training data happened to show; a model of windows (MSCRED's signature matrices sum over 10
to 60 steps) then meets normal dynamics it never saw. Training on the series resampled at a few
speeds — standard time-warping augmentation — shows it those, from training data alone.
"""

from __future__ import annotations

import numpy as np


def time_warp(series: np.ndarray, speed: float) -> np.ndarray:
    """``series [T, D]`` played ``speed`` times as fast (linear interpolation between steps):
    ``speed > 1`` gives about ``T / speed`` steps of faster dynamics, ``< 1`` more, slower ones.
    Values stay inside each sensor's range; ``speed == 1`` returns the series unchanged."""
    if speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    series = np.asarray(series)
    if speed == 1 or len(series) < 2:
        return series
    t = np.arange(0.0, len(series) - 1 + 1e-9, speed)
    left = np.minimum(np.floor(t).astype(np.int64), len(series) - 2)
    frac = (t - left)[:, None]
    warped = (1 - frac) * series[left] + frac * series[left + 1]
    return warped.astype(series.dtype, copy=False)
