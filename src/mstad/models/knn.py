"""Nearest-neighbour distance of sliding windows to training windows.

Each test window ``[s, s + window)`` (all sensors, standardised with training statistics) is
compared with the training windows; its score is the mean Euclidean distance to the ``k``
nearest. Step scores average the covering windows (``windows_to_steps``). Training windows are
thinned evenly to at most ``max_train_windows`` to bound memory and time.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from mstad.features.scaling import Standardizer
from mstad.features.windows import sliding_windows, window_starts, windows_to_steps
from mstad.models.base import Detector
from mstad.models.registry import register
from mstad.models.streaming import StreamContext
from mstad.params import spec


@register
class KNNDetector(Detector):
    name = "knn"
    supports_explain = True

    param_specs = {"window": spec(ge=1), "k": spec(ge=1), "max_train_windows": spec(ge=1)}
    state_shapes = {
        "train_windows": (None, "window*D"),
        "scaler_mean": ("D",),
        "scaler_std": ("D",),
    }

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        return {**super()._state_dims(state), "window*D": self.window * self.n_sensors_}

    def __init__(self, window: int = 100, k: int = 1, max_train_windows: int = 5000):
        if max_train_windows < k:
            raise ValueError(f"max_train_windows ({max_train_windows}) must be >= k ({k})")
        self.window = window
        self.k = k
        self.max_train_windows = max_train_windows

    @property
    def min_steps(self) -> int:
        return max(self.window, 10)

    def stream_context(self) -> StreamContext:
        # a step averages the windows that cover it: window - 1 rows either side
        return StreamContext(self.window - 1, self.window - 1)

    def _fit(self, train: np.ndarray) -> None:
        self.scaler_ = Standardizer().fit(train)
        windows = sliding_windows(self.scaler_.transform(train), self.window)
        keep = np.unique(np.linspace(0, len(windows) - 1, self.max_train_windows).round())
        keep = keep.astype(int) if len(windows) > self.max_train_windows else slice(None)
        self.train_windows_ = np.ascontiguousarray(windows[keep]).reshape(-1, windows[0].size)
        self._index = None

    def _neighbours(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if getattr(self, "_index", None) is None:
            k = min(self.k, len(self.train_windows_))
            self._index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(
                self.train_windows_
            )
        windows = sliding_windows(self.scaler_.transform(series), self.window)
        flat = np.ascontiguousarray(windows).reshape(len(windows), -1)
        dist, idx = self._index.kneighbors(flat)
        return flat, dist, idx

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        _, dist, _ = self._neighbours(series)
        starts = window_starts(len(series), self.window)
        return windows_to_steps(dist.mean(axis=1), starts, self.window, len(series))

    def _explain(self, series: np.ndarray) -> np.ndarray:
        flat, _, idx = self._neighbours(series)
        d = series.shape[1]
        diff = (flat - self.train_windows_[idx[:, 0]]).reshape(len(flat), self.window, d)
        per_sensor = (diff.astype(np.float64) ** 2).sum(axis=1)  # [N, D]
        starts = window_starts(len(series), self.window)
        return np.stack(
            [
                windows_to_steps(per_sensor[:, j], starts, self.window, len(series))
                for j in range(d)
            ],
            axis=1,
        )

    def _state(self) -> dict[str, np.ndarray]:
        return {"train_windows": self.train_windows_, **self.scaler_.state()}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.train_windows_ = state["train_windows"]
        self.scaler_ = Standardizer.from_state(state)
        self._index = None
