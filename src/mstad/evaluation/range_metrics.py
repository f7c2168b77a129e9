"""Range-AUC and VUS (Paparrizos et al., VLDB 2022), vectorised.

Semantics follow the reference implementation of the ``vus`` package (``RangeAUC_volume_opt``,
the version its ``get_metrics`` uses): each anomaly gets a soft buffer of ``ℓ // 2`` steps on
both sides with weight ``sqrt(1 - d / ℓ)``; at each of 250 thresholds taken at evenly spaced
ranks, predicted buffer points count as (weighted) true positives, recall is scaled by the
fraction of buffered segments that hold a prediction (existence), and the curves are
integrated with the trapezoid (ROC) and step (PR) rules. VUS averages the range-AUCs over
``ℓ = 0 … window``.

The reference loops over buffers × thresholds × points; here every threshold is a prefix of the
rank order (:mod:`mstad.evaluation.ranks`), so each buffer costs O(T). The tests keep a plain
transcription of the reference and check agreement.
"""

from __future__ import annotations

import math

import numpy as np

from mstad.evaluation.labels import segments
from mstad.evaluation.ranks import RankedScores

N_THRESHOLDS = 250


def soft_labels(labels: np.ndarray, segs: np.ndarray, buffer: int) -> np.ndarray:
    """Labels with a ``sqrt`` ramp of ``buffer // 2`` steps before and after each segment."""
    out = np.asarray(labels, dtype=np.float64).copy()
    n, half = len(out), buffer // 2
    for s, e in segs:
        after = np.arange(e + 1, min(e + half + 1, n))
        out[after] += np.sqrt(1 - (after - e) / buffer)
        before = np.arange(max(s - half, 0), s)
        out[before] += np.sqrt(1 - (s - before) / buffer)
    return np.minimum(out, 1.0)


def buffered_segments(segs: np.ndarray, buffer: int, n: int) -> np.ndarray:
    """Segments widened by ``buffer // 2`` and merged where the widened ones touch."""
    half = buffer // 2
    merged, start = [], max(segs[0][0] - half, 0)
    for (_, end), (nxt, _) in zip(segs[:-1], segs[1:], strict=True):
        if end + half < nxt - half:
            merged.append((start, end + half))
            start = nxt - half
    merged.append((start, min(segs[-1][1] + half, n - 1)))
    return np.array(merged, dtype=np.int64)


def _curves(ranked: RankedScores, labels: np.ndarray, segs: np.ndarray, buffer: int):
    """(TPR, FPR, precision) at the 250 rank thresholds for one buffer length."""
    n, positives = len(labels), float(labels.sum())
    picks = np.linspace(0, n - 1, N_THRESHOLDS).astype(int)
    counts = ranked.counts_at(ranked.sorted_desc[picks])
    soft = soft_labels(labels, segs, buffer)
    in_anomaly = ranked.prefix_sum(labels, counts)
    in_buffer = ranked.prefix_sum(np.where(labels, 0.0, soft), counts)
    true_pos = in_anomaly + in_buffer
    p_new = positives + in_buffer / 2
    wide = buffered_segments(segs, buffer, n)
    hit = ranked.first_rank(wide)[None, :] < counts[:, None]
    existence = hit.sum(axis=1) / len(wide)
    tpr = np.minimum(true_pos / p_new, 1.0) * existence
    fpr = (counts - true_pos) / (n - p_new)
    precision = true_pos / counts
    return tpr, fpr, precision


def _areas(tpr: np.ndarray, fpr: np.ndarray, precision: np.ndarray) -> tuple[float, float]:
    t = np.concatenate([[0.0], tpr, [1.0]])
    f = np.concatenate([[0.0], fpr, [1.0]])
    roc = float(np.dot(f[1:] - f[:-1], (t[1:] + t[:-1]) / 2))
    pr = float(np.dot(t[1:-1] - t[:-2], precision))
    return roc, pr


def _prepare(labels, scores):
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"{labels.shape[0]} labels for {scores.shape[0]} scores")
    if labels.all() or not labels.any():
        return None
    return labels.astype(np.float64), scores, segments(labels)


def range_auc(labels: np.ndarray, scores: np.ndarray, window: int = 100) -> tuple[float, float]:
    """(range-AUC-ROC, range-AUC-PR) with a soft buffer of ``window``; NaN if undefined."""
    prepared = _prepare(labels, scores)
    if prepared is None:
        return math.nan, math.nan
    lab, sc, segs = prepared
    return _areas(*_curves(RankedScores(sc), lab, segs, window))


def vus(labels: np.ndarray, scores: np.ndarray, window: int = 100) -> tuple[float, float]:
    """(VUS-ROC, VUS-PR): range-AUCs averaged over buffers 0..window; NaN if undefined."""
    prepared = _prepare(labels, scores)
    if prepared is None:
        return math.nan, math.nan
    lab, sc, segs = prepared
    ranked = RankedScores(sc)
    areas = np.array([_areas(*_curves(ranked, lab, segs, b)) for b in range(window + 1)])
    return float(areas[:, 0].mean()), float(areas[:, 1].mean())
