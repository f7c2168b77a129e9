"""Stage 4: metrics (threshold-free first), label
utilities and root-cause scores.

Names are imported on first use (PEP 562), so that light modules such as
:mod:`mstad.evaluation.layout` can be read without loading scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "aggregate": "metrics",
    "best_f1": "metrics",
    "entity_metrics": "metrics",
    "point_adjust": "metrics",
    "threshold_metrics": "metrics",
    "range_auc": "range_metrics",
    "vus": "range_metrics",
    "PA_WARNING": "layout",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mstad.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mstad.evaluation.{_EXPORTS[name]}"), name)
