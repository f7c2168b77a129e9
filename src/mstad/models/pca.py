"""PCA reconstruction error on standardised sensors (train-only scaling)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from mstad.features.scaling import Standardizer
from mstad.models.base import Detector
from mstad.models.registry import register
from mstad.models.streaming import StreamContext
from mstad.params import spec


@register
class PCADetector(Detector):
    """Score = squared residual after projecting onto the principal subspace of training data.

    ``n_components``: an int, or a float in (0, 1) = fraction of training variance to keep;
    capped at ``D - 1`` so that a residual always exists.
    """

    name = "pca"
    supports_explain = True
    models_correlations = True
    param_specs = {"n_components": spec(gt=0)}
    state_shapes = {
        "components": (None, "D"),
        "center": ("D",),
        "scaler_mean": ("D",),
        "scaler_std": ("D",),
    }

    def __init__(self, n_components: float = 0.95):
        if n_components >= 1 and n_components != int(n_components):
            raise ValueError(
                f"n_components must be a fraction in (0, 1) or a whole number of components, "
                f"got {n_components}"
            )
        self.n_components = int(n_components) if n_components >= 1 else n_components

    def stream_context(self) -> StreamContext:
        return StreamContext(0, 0)  # each step on its own

    def _fit(self, train: np.ndarray) -> None:
        self.scaler_ = Standardizer().fit(train)
        z = self.scaler_.transform(train).astype(np.float64)
        d = z.shape[1]
        self.center_ = z.mean(axis=0)
        if d == 1 or not z.var(axis=0).sum() > 0:  # nothing to project: the residual is z itself
            self.components_ = np.zeros((0, d))
            return
        pca = PCA(n_components=self.n_components, svd_solver="full").fit(z)
        self.components_ = pca.components_[: max(1, min(pca.n_components_, d - 1))]

    def _explain(self, series: np.ndarray) -> np.ndarray:
        z = self.scaler_.transform(series).astype(np.float64) - self.center_
        residual = z - (z @ self.components_.T) @ self.components_
        return residual**2

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._explain(series).sum(axis=1)

    def _state(self) -> dict[str, np.ndarray]:
        return {"components": self.components_, "center": self.center_, **self.scaler_.state()}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.components_, self.center_ = state["components"], state["center"]
        self.scaler_ = Standardizer.from_state(state)
