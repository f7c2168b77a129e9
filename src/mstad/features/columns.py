"""Which sensors a detector reads: all of them, or only those that are not 0/1 flags.

NASA telemetry (SMAP/MSL) has one telemetry value (dim 0) and 24 binary command flags; the flags
swamp any distance or likelihood over the one value that carries the anomalies, so detectors
offer ``inputs="continuous"``. The columns are chosen on training data only.
"""

from __future__ import annotations

import numpy as np

#: the values a detector's ``inputs`` parameter may take
INPUTS = ("continuous", "all")


def continuous_columns(train: np.ndarray) -> np.ndarray:
    """Sensors that are not 0/1 flags in training (all sensors when every one is a flag)."""
    keep = [j for j in range(train.shape[1]) if not np.isin(train[:, j], (0.0, 1.0)).all()]
    return np.asarray(keep or range(train.shape[1]), dtype=np.int64)


def input_columns(train: np.ndarray, inputs: str) -> np.ndarray:
    """The columns of ``train`` a detector with ``inputs`` (one of :data:`INPUTS`) reads."""
    if inputs == "continuous":
        return continuous_columns(train)
    return np.arange(train.shape[1], dtype=np.int64)
