"""Stage 4: metrics (threshold-free first), thresholds fitted without test labels, label
utilities and root-cause scores."""

from mstad.evaluation.metrics import (
    PA_WARNING,
    aggregate,
    best_f1,
    entity_metrics,
    point_adjust,
    threshold_metrics,
)
from mstad.evaluation.vus import range_auc, vus

__all__ = [
    "PA_WARNING",
    "aggregate",
    "best_f1",
    "entity_metrics",
    "point_adjust",
    "range_auc",
    "threshold_metrics",
    "vus",
]
