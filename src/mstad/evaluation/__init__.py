"""Stage 4: metrics (threshold-free first), label utilities and aggregation over entities."""

from mstad.evaluation.metrics import aggregate, best_f1, entity_metrics

__all__ = ["aggregate", "best_f1", "entity_metrics"]
