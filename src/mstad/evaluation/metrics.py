"""Time-step metrics, threshold-free first (scikit-learn underneath).

``entity_metrics`` scores one entity; ``aggregate`` pools entities both ways used in the
literature: **concat** (all steps of all entities in one vector, the SMAP protocol of seed 002)
and **per-entity mean** (Garg et al.). An entity whose test labels hold one class only has no
AUROC/AP; it is left out of the mean and counted in ``n_undefined``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

HEADLINE = ("auroc", "ap", "best_f1")


def best_f1(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Point-wise F1 at the best threshold (an *oracle*: it looks at the labels) and that
    threshold."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(f1[best]), float(thresholds[best]) if len(thresholds) else math.nan


def entity_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUROC, AP and oracle best-F1 of one score vector; NaN where undefined."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape:
        raise ValueError(f"{labels.shape[0]} labels for {scores.shape[0]} scores")
    if labels.all() or not labels.any():
        return {"auroc": math.nan, "ap": math.nan, "best_f1": math.nan}
    f1, _ = best_f1(labels, scores)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "ap": float(average_precision_score(labels, scores)),
        "best_f1": f1,
    }


def aggregate(
    per_entity: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, object]:
    """Metrics for ``{entity: (labels, scores)}``: concat, per-entity mean and each entity."""
    entities = {name: entity_metrics(lab, sc) for name, (lab, sc) in per_entity.items()}
    labels = np.concatenate([np.asarray(lab, dtype=bool) for lab, _ in per_entity.values()])
    scores = np.concatenate([np.asarray(sc, dtype=np.float64) for _, sc in per_entity.values()])
    mean = {}
    for key in HEADLINE:
        values = [m[key] for m in entities.values() if not math.isnan(m[key])]
        mean[key] = float(np.mean(values)) if values else math.nan
    return {
        "n_entities": len(entities),
        "n_undefined": sum(math.isnan(m["auroc"]) for m in entities.values()),
        "positive_rate": float(labels.mean()) if labels.size else math.nan,
        "concat": entity_metrics(labels, scores),
        "per_entity_mean": mean,
        "entities": entities,
    }
