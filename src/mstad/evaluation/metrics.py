"""Time-step metrics, threshold-free first.

``entity_metrics`` returns every metric for one entity in one call; ``aggregate`` pools
entities both ways used in the literature: **concat** (all steps of all entities in one
vector, the SMAP protocol of seed 002) and **per-entity mean** (Garg et al.). An entity whose
test labels hold one class only has no ranking metric; it is left out of the mean and counted
in ``n_undefined``.

Threshold-free: AUROC, AP (scikit-learn), VUS-ROC/PR and range-AUC (:mod:`.range_metrics`).
Oracle (the threshold is chosen on the test labels — for comparison with papers, never for
deployment): ``best_f1`` (point-wise), ``best_composite_f1`` (point precision × event recall,
Garg et al.), ``best_pa_f1`` (point-adjusted, inflated: see ``PA_WARNING``).
At a given threshold (fitted without test labels): precision, recall, f1, composite_f1, pa_f1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from mstad.evaluation.labels import segments
from mstad.evaluation.layout import (  # noqa: F401 - re-exported: the metrics' own names
    AT_THRESHOLD,
    ORACLE,
    ORACLE_WARNING,
    PA_WARNING,
    THRESHOLD_FREE,
)
from mstad.evaluation.range_metrics import range_auc, vus
from mstad.evaluation.ranks import RankedScores


def _f1(precision, recall):
    precision, recall = np.asarray(precision, float), np.asarray(recall, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)


def best_f1(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Point-wise F1 at the best threshold (an oracle) and that threshold."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = _f1(precision[:-1], recall[:-1])
    best = int(np.argmax(f1))
    return float(f1[best]), float(thresholds[best])


def _event_sweep(labels: np.ndarray, scores: np.ndarray):
    """At every distinct threshold: predicted count, point TP, events hit, adjusted TP."""
    ranked = RankedScores(scores)
    counts = np.unique(ranked.counts_at(np.unique(scores)))
    point_tp = ranked.prefix_sum(labels, counts)
    segs = segments(labels)
    first = ranked.first_rank(segs)
    order = np.argsort(first)
    lengths = (segs[:, 1] - segs[:, 0] + 1)[order]
    hit = np.searchsorted(first[order], counts, side="left")  # events with first rank < count
    adjusted_tp = np.concatenate([[0], np.cumsum(lengths)])[hit]
    return counts, point_tp, hit, adjusted_tp, len(segs)


def oracle_event_f1(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(best composite F1, best point-adjusted F1) over all thresholds."""
    counts, point_tp, hit, adjusted_tp, n_events = _event_sweep(labels, scores)
    positives = labels.sum()
    composite = _f1(point_tp / counts, hit / n_events).max()
    false_pos = counts - point_tp
    pa = _f1(adjusted_tp / (adjusted_tp + false_pos), adjusted_tp / positives).max()
    return float(composite), float(pa)


def point_adjust(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Predictions with every true event that holds one predicted point marked whole."""
    adjusted = np.asarray(predictions, dtype=bool).copy()
    for s, e in segments(labels):
        if adjusted[s : e + 1].any():
            adjusted[s : e + 1] = True
    return adjusted


def threshold_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Precision, recall, F1, composite F1 and PA-F1 of ``scores > threshold``."""
    labels = np.asarray(labels, dtype=bool)
    predicted = np.asarray(scores) > threshold
    tp = float((predicted & labels).sum())
    precision = tp / predicted.sum() if predicted.any() else 0.0
    recall = tp / labels.sum() if labels.any() else math.nan
    segs = segments(labels)
    event_recall = (
        float(np.mean([predicted[s : e + 1].any() for s, e in segs])) if len(segs) else math.nan
    )
    adjusted = point_adjust(labels, predicted)
    pa_tp = float((adjusted & labels).sum())
    pa_precision = pa_tp / adjusted.sum() if adjusted.any() else 0.0
    pa_recall = pa_tp / labels.sum() if labels.any() else math.nan
    return {
        "threshold": float(threshold),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(_f1(precision, recall)),
        "composite_f1": float(_f1(precision, event_recall)),
        "pa_f1": float(_f1(pa_precision, pa_recall)),
    }


def entity_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float | None = None,
    vus_window: int = 100,
    full: bool = True,
) -> dict[str, float]:
    """Every metric of one score vector; NaN where undefined (one class only).

    ``full=False`` skips VUS/range-AUC and the event sweeps (AUROC, AP, best-F1 only).
    """
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"{labels.shape[0]} labels for {scores.shape[0]} scores")
    keys = ("auroc", "ap", "best_f1") if not full else THRESHOLD_FREE + ORACLE
    result = dict.fromkeys(keys, math.nan)
    if threshold is not None:
        result.update(threshold_metrics(labels, scores, threshold))
    if labels.all() or not labels.any():
        return result
    result["auroc"] = float(roc_auc_score(labels, scores))
    result["ap"] = float(average_precision_score(labels, scores))
    result["best_f1"] = best_f1(labels, scores)[0]
    if full:
        result["vus_roc"], result["vus_pr"] = vus(labels, scores, vus_window)
        result["range_auc_roc"], result["range_auc_pr"] = range_auc(labels, scores, vus_window)
        result["best_composite_f1"], result["best_pa_f1"] = oracle_event_f1(labels, scores)
    return result


def aggregate(
    per_entity: Mapping[str, tuple[np.ndarray, np.ndarray]],
    thresholds: Mapping[str, float] | None = None,
    vus_window: int = 100,
    full: bool = True,
) -> dict[str, object]:
    """Metrics for ``{entity: (labels, scores)}``: concat, per-entity mean and each entity.

    With ``thresholds`` (per entity, fitted without test labels) the at-threshold metrics are
    added; the concat ones use each entity's own threshold on its own steps.
    """
    thresholds = thresholds or {}
    entities = {
        name: entity_metrics(lab, sc, thresholds.get(name), vus_window, full)
        for name, (lab, sc) in per_entity.items()
    }
    labels = np.concatenate([np.asarray(lab, dtype=bool) for lab, _ in per_entity.values()])
    scores = np.concatenate([np.asarray(sc, dtype=np.float64) for _, sc in per_entity.values()])
    concat = entity_metrics(labels, scores, None, vus_window, full)
    if thresholds and all(name in thresholds for name in per_entity):
        flags = np.concatenate(
            [np.asarray(sc) > thresholds[name] for name, (_, sc) in per_entity.items()]
        )
        concat.update(threshold_metrics(labels, flags.astype(float), 0.5))
        concat.pop("threshold")
    keys = [k for k in next(iter(entities.values())) if k != "threshold"]
    mean = {}
    for key in keys:
        values = [m[key] for m in entities.values() if not math.isnan(m[key])]
        mean[key] = float(np.mean(values)) if values else math.nan
    return {
        "n_entities": len(entities),
        "n_undefined": sum(math.isnan(m["auroc"]) for m in entities.values()),
        "positive_rate": float(labels.mean()) if labels.size else math.nan,
        "concat": concat,
        "per_entity_mean": mean,
        "entities": entities,
        "warnings": [ORACLE_WARNING] + ([PA_WARNING] if full or thresholds else []),
    }
