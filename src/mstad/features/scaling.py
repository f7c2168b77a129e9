"""Per-sensor scaling fitted on training data only and applied unchanged to everything else.

Scaled values are bounded at ±:data:`SCALED_BOUND` training spreads: any input float32 can hold
is accepted (the data checks reject only non-finite values and values beyond float32), and an
absurd one — 3·10³⁸, or 1 on a sensor whose training spread is 10⁻⁸ — would otherwise overflow
to ±inf in the float32 result and turn distances, sums and networks downstream into inf − inf =
NaN. At the bound it is as far from normal as anything can be, and arithmetic stays finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the largest scaled value, in training spreads (standard deviations or min–max spans)
SCALED_BOUND = 1e6


def bounded(scaled: np.ndarray) -> np.ndarray:
    """``scaled`` clipped to ±:data:`SCALED_BOUND` (float64 kept; the scalers cast after)."""
    return np.clip(scaled, -SCALED_BOUND, SCALED_BOUND)


@dataclass
class Standardizer:
    """``(x - mean) / std`` per sensor; a sensor constant in train gets ``std = 1``, so it only
    moves when test data leaves its training value."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, train: np.ndarray) -> Standardizer:
        train = np.asarray(train, dtype=np.float64)
        self.mean = train.mean(axis=0)
        std = train.std(axis=0)
        self.std = np.where(std > 1e-8, std, 1.0)
        return self

    def transform(self, series: np.ndarray) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform called before fit")
        scaled = (np.asarray(series, dtype=np.float64) - self.mean) / self.std
        return bounded(scaled).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"scaler_mean": self.mean, "scaler_std": self.std}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Standardizer:
        return cls(mean=state["scaler_mean"], std=state["scaler_std"])


@dataclass
class MinMaxScaler:
    """``(x - min) / (max - min)`` per sensor, fitted on training data: normal data lands in
    ``[0, 1]`` (what a sigmoid output layer can reconstruct; USAD, TranAD, OmniAnomaly) and test
    data outside the training range lands outside it. A sensor constant in train gets a span of
    1, so it only moves when test data leaves its training value (no division by ~0)."""

    low: np.ndarray | None = None
    span: np.ndarray | None = None

    def fit(self, train: np.ndarray) -> MinMaxScaler:
        train = np.asarray(train, dtype=np.float64)
        fitted = self.from_range(train.min(axis=0), train.max(axis=0))
        self.low, self.span = fitted.low, fitted.span
        return self

    @classmethod
    def from_range(cls, low: np.ndarray, high: np.ndarray) -> MinMaxScaler:
        """The scaler of training data with per-sensor minimum ``low`` and maximum ``high``."""
        low = np.asarray(low, dtype=np.float64)
        span = np.asarray(high, dtype=np.float64) - low
        return cls(low=low, span=np.where(span > 1e-8, span, 1.0))

    def transform(self, series: np.ndarray) -> np.ndarray:
        if self.low is None or self.span is None:
            raise RuntimeError("MinMaxScaler.transform called before fit")
        scaled = (np.asarray(series, dtype=np.float64) - self.low) / self.span
        return bounded(scaled).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"scaler_low": self.low, "scaler_span": self.span}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> MinMaxScaler:
        return cls(low=state["scaler_low"], span=state["scaler_span"])
