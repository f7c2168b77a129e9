"""Per-entity score calibration from scores of normal (training / validation) data.

Raw scores of different entities live on different scales, so pooled (concatenated) metrics and
shared thresholds would compare apples with pears. Every detector maps its raw scores with

    calibrated = (raw - median) / (q99 - median)

where median and 99th percentile come from scores of held-out *training* data (the validation
tail, or the training data itself when it is too short to split). A calibrated score of 1 is "as
high as the top 1 % of normal data"; test labels are never involved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    loc: float
    scale: float
    fitted_on: str  # "validation" or "train"
    n_scores: int

    @classmethod
    def fit(cls, scores: np.ndarray, fitted_on: str, min_scale: float = 0.0) -> Calibration:
        """``min_scale`` floors the spread, in raw score units, for detectors whose held-out
        scores can all be equal (a validation tail that repeats training exactly)."""
        scores = np.asarray(scores, dtype=np.float64)
        loc = float(np.median(scores))
        spread = float(np.quantile(scores, 0.99)) - loc
        floor = max(1e-6 * max(abs(loc), 1e-6), min_scale)
        return cls(loc, max(spread, floor), fitted_on, int(scores.size))

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return (np.asarray(raw, dtype=np.float64) - self.loc) / self.scale

    def to_dict(self) -> dict:
        return asdict(self)


#: the values a detector's ``baseline`` parameter may take
BASELINES = ("none", "past_median")


def past_median_removed(scores: np.ndarray, block: int = 100) -> np.ndarray:
    """Scores minus the median of all scores before their block of ``block`` steps (0 for the
    first block): a causal baseline, as an online monitor would keep."""
    out = np.array(scores, dtype=np.float64)
    for lo in range(block, len(out), block):
        out[lo : lo + block] -= np.median(scores[:lo])
    return out


def remove_baseline(scores: np.ndarray, baseline: str) -> np.ndarray:
    """Apply a detector's ``baseline`` (one of :data:`BASELINES`) to its raw scores."""
    return past_median_removed(scores) if baseline == "past_median" else scores
