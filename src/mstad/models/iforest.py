"""Isolation Forest (scikit-learn) on standardised points or flattened short windows.

Saving keeps the (scaled) training data and the seed instead of pickled trees; loading refits,
which rebuilds the identical forest and never unpickles anything.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from mstad.features.scaling import Standardizer
from mstad.features.windows import sliding_windows, window_starts, windows_to_steps
from mstad.models.base import Detector
from mstad.models.registry import register
from mstad.models.streaming import StreamContext
from mstad.params import SEED_SPEC, spec


@register
class IForestDetector(Detector):
    name = "iforest"

    param_specs = {"n_estimators": spec(ge=1), "window": spec(ge=1), "seed": SEED_SPEC}
    state_shapes = {"train_scaled": (None, "D"), "scaler_mean": ("D",), "scaler_std": ("D",)}

    def __init__(self, n_estimators: int = 100, window: int = 1, seed: int = 0):
        self.n_estimators = n_estimators
        self.window = window
        self.seed = seed

    @property
    def min_steps(self) -> int:
        return max(self.window, 10)

    def stream_context(self) -> StreamContext:
        # a step averages the windows that cover it: window - 1 rows either side
        return StreamContext(self.window - 1, self.window - 1)

    def _features(self, scaled: np.ndarray) -> np.ndarray:
        windows = sliding_windows(scaled, self.window)
        return np.ascontiguousarray(windows).reshape(len(windows), -1)

    def _fit(self, train: np.ndarray) -> None:
        self.scaler_ = Standardizer().fit(train)
        self.train_scaled_ = self.scaler_.transform(train)
        self._build()

    def _build(self) -> None:
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=self.seed, n_jobs=1
        ).fit(self._features(self.train_scaled_))

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        window_scores = -self.forest_.score_samples(self._features(self.scaler_.transform(series)))
        starts = window_starts(len(series), self.window)
        return windows_to_steps(window_scores, starts, self.window, len(series))

    def _state(self) -> dict[str, np.ndarray]:
        return {"train_scaled": self.train_scaled_, **self.scaler_.state()}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.train_scaled_ = state["train_scaled"]
        self.scaler_ = Standardizer.from_state(state)
        self._build()
