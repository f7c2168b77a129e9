"""Which sensors a detector reads: all of them, or only those that are not 0/1 flags.

NASA telemetry (SMAP/MSL) has one telemetry value (dim 0) and binary command flags (24 on SMAP,
54 on MSL); the flags swamp any distance or likelihood over the one value that carries the
anomalies, so detectors offer ``inputs="continuous"``. The columns are chosen on training data
only: the flags a data set declares (``Entity.flags``: the NASA loader's command columns), else
the sensors whose training values are all 0 or 1 — a guess that takes a telemetry value constant
at exactly 0 or 1 in training for a flag, which is why loaders that know should declare.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: the values a detector's ``inputs`` parameter may take
INPUTS = ("continuous", "all")


def continuous_columns(train: np.ndarray) -> np.ndarray:
    """Sensors that are not 0/1 flags in training (all sensors when every one is a flag)."""
    keep = [j for j in range(train.shape[1]) if not np.isin(train[:, j], (0.0, 1.0)).all()]
    return np.asarray(keep or range(train.shape[1]), dtype=np.int64)


def input_columns(train: np.ndarray, inputs: str, flags: Sequence[int] | None = None) -> np.ndarray:
    """The columns of ``train`` a detector with ``inputs`` (one of :data:`INPUTS`) reads;
    ``flags`` are the declared flag sensors (None: inferred, :func:`continuous_columns`)."""
    if inputs != "continuous":
        return np.arange(train.shape[1], dtype=np.int64)
    if flags is None:
        return continuous_columns(train)
    declared = set(flags)
    keep = [j for j in range(train.shape[1]) if j not in declared]
    return np.asarray(keep or range(train.shape[1]), dtype=np.int64)
