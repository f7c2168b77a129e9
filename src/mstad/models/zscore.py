"""Z-score / train-range detector: how far each sensor leaves its training behaviour.

``mode="z"``: ``max_d |x_d - mean_d| / max(std_d, min_std)``.
``mode="range"``: distance outside the training ``[min_d, max_d]`` in units of the sensor's
training range (0 inside the range), the range-deviation baseline of Sarfraz et al. (ICML 2024).
"""

from __future__ import annotations

import numpy as np

from mstad.models.base import Detector
from mstad.models.registry import register
from mstad.models.streaming import StreamContext
from mstad.params import spec


@register
class ZScore(Detector):
    name = "zscore"
    supports_explain = True
    state_shapes = {"mean": ("D",), "std": ("D",), "min": ("D",), "max": ("D",)}
    param_specs = {"mode": spec(choices=("z", "range")), "min_std": spec(gt=0)}

    def __init__(self, mode: str = "z", min_std: float = 1e-3):
        self.mode = mode
        self.min_std = min_std

    def stream_context(self) -> StreamContext:
        return StreamContext(0, 0)  # each step on its own

    def _fit(self, train: np.ndarray) -> None:
        x = train.astype(np.float64)
        self.mean_, self.std_ = x.mean(axis=0), x.std(axis=0)
        self.min_, self.max_ = x.min(axis=0), x.max(axis=0)

    def _explain(self, series: np.ndarray) -> np.ndarray:
        x = series.astype(np.float64)
        if self.mode == "z":
            return np.abs(x - self.mean_) / np.maximum(self.std_, self.min_std)
        width = np.maximum(self.max_ - self.min_, self.min_std)
        return np.maximum(np.maximum(x - self.max_, self.min_ - x), 0.0) / width

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._explain(series).max(axis=1)

    def _state(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "std": self.std_, "min": self.min_, "max": self.max_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.mean_, self.std_ = state["mean"], state["std"]
        self.min_, self.max_ = state["min"], state["max"]
