"""MSCRED's residual matrices → scores: per sample, per scale and per sensor.

``residual`` is ``(X_target − X̂)²`` per sample, ``[N, S, n, n]`` (S signature scales, n input
sensors); ``scale`` the typical residual of each entry on held-out normal data
(:func:`~mstad.models.mscred.samples.typical_residual`), ``[S, n, n]``; ``theta`` the paper's
broken-entry threshold τ. Pure functions, so the detector's modes can be checked on arrays.
"""

from __future__ import annotations

import numpy as np

#: how a sample's residual becomes its score (``MSCRED(score_mode=…)``)
SCORE_MODES = ("relative", "sse", "count", "count_upper", "sensor", "sensor_median")
#: the modes that score a step by its most broken sensor: the largest of the sensors' rows,
#: each row's relative residual taken by its mean (``"sensor"``) or median (``"sensor_median"``)
#: — an explanation's per-sensor parts (:func:`sensor_parts`), whose largest is the score
SENSOR_MODES = {"sensor": "relative", "sensor_median": "median"}
#: how it is shared among the sensors (``MSCRED(explain_mode=…)``)
EXPLAIN_MODES = ("relative", "median", "sum", "count")


def scale_counts(residual: np.ndarray, theta: float) -> np.ndarray:
    """Entries with residual > θ per scale, ``[N, S]`` (full matrix, as the paper counts)."""
    return (residual > theta).sum(axis=(2, 3)).astype(np.float64)


def sample_scores(residual: np.ndarray, mode: str, scale: np.ndarray, theta: float) -> np.ndarray:
    """One score per sample, ``[N]``: the mean residual relative to its entry's typical value
    (``"relative"``), the sum of squares (``"sse"``), the paper's count of broken entries on
    the shortest scale (``"count"``; ``"count_upper"``: the upper triangle only), or the largest
    sensor's row summed over the scales (:data:`SENSOR_MODES`)."""
    if mode in SENSOR_MODES:
        return sensor_parts(residual, SENSOR_MODES[mode], scale, theta).sum(axis=1).max(axis=1)
    if mode == "relative":
        return (residual / scale).mean(axis=(1, 2, 3))
    if mode == "sse":
        return residual.sum(axis=(1, 2, 3))
    broken = residual[:, 0] > theta
    if mode == "count_upper":
        broken = broken & np.triu(np.ones(broken.shape[1:], dtype=bool))
    return broken.sum(axis=(1, 2)).astype(np.float64)


def scale_parts(residual: np.ndarray, mode: str, scale: np.ndarray, theta: float) -> np.ndarray:
    """Each scale's share of :func:`sample_scores`, ``[N, S]`` (their sum is the score; the
    count modes count scale 0 only, so the other scales' shares are 0)."""
    if mode == "relative":
        return (residual / scale).mean(axis=(2, 3)) / residual.shape[1]
    if mode == "sse":
        return residual.sum(axis=(2, 3))
    parts = np.zeros(residual.shape[:2])
    parts[:, 0] = sample_scores(residual, mode, scale, theta)
    return parts


def sensor_parts(residual: np.ndarray, mode: str, scale: np.ndarray, theta: float) -> np.ndarray:
    """Each sensor's (row's) part per sample and scale, ``[N, S, n]``: its mean or median
    relative residual, its broken-entry count on the shortest scale, or its sum of squares."""
    if mode == "relative":
        return (residual / scale).mean(axis=3) / residual.shape[1]
    if mode == "median":
        return np.median(residual / scale, axis=3) / residual.shape[1]
    if mode == "count":
        parts = np.zeros(residual.shape[:3])
        parts[:, 0] = (residual[:, 0] > theta).sum(axis=2)
        return parts
    return residual.sum(axis=3)
