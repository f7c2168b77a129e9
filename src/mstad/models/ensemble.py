"""An ensemble of complementary detectors on calibrated scores.

Every member is fitted as usual — and so calibrated on the validation tail of the training
split, where 1 means "as high as the top 1 % of normal data" — then the members' calibrated
scores are combined per step (``max``: any member that finds the step unusual raises it;
``mean``: members must agree). Shape detectors (``discord``) and correlation detectors (``pca``)
fail on different anomalies, which is why they are combined. Command-flag sensors are dropped
first (``inputs="continuous"``, see :mod:`mstad.features.columns`), so every member sees the
same columns. No label is involved anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mstad.features.columns import INPUTS, input_columns
from mstad.models.base import Detector, check_choice
from mstad.models.registry import make_detector, register


@register
class EnsembleDetector(Detector):
    name = "ensemble"
    supports_explain = True
    score_floor = 1.0  # members' scores are calibrated already: never amplify beyond them

    def __init__(
        self,
        members: Sequence[str] = ("discord", "pca"),
        combine: str = "mean",
        inputs: str = "continuous",
    ):
        members = tuple(members)
        if not members or "ensemble" in members:
            raise ValueError("members must be a non-empty list of other detectors")
        check_choice("combine", combine, ("max", "mean"))
        check_choice("inputs", inputs, INPUTS)
        self.members = members
        self.combine = combine
        self.inputs = inputs

    @property
    def min_steps(self) -> int:
        return max(make_detector(m).min_steps for m in self.members)

    def _combine(self, scores: list[np.ndarray]) -> np.ndarray:
        stacked = np.stack(scores)
        return stacked.max(axis=0) if self.combine == "max" else stacked.mean(axis=0)

    def _fit_with_validation(self, train: np.ndarray, head: int | None) -> tuple[np.ndarray, str]:
        self.columns_ = input_columns(train, self.inputs)
        x = train[:, self.columns_]
        self.members_ = [make_detector(m).fit(x) for m in self.members]
        # each member calibrated on a tail ending where train ends: align them on the shortest
        n = min(len(m.validation_scores_) for m in self.members_)
        validation = self._combine([m.validation_scores_[-n:] for m in self.members_])
        return validation, self.members_[0].calibration_.fitted_on

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        x = series[:, self.columns_]
        return self._combine([m.score(x) for m in self.members_])

    def _explain(self, series: np.ndarray) -> np.ndarray:
        """Members' per-sensor contributions in their calibrated units, summed."""
        x = series[:, self.columns_]
        out = np.zeros((len(series), self.n_sensors_))
        for member in self.members_:
            if member.supports_explain:
                out[:, self.columns_] += member.explain(x) / member.calibration_.scale
        return out

    def _state(self) -> dict[str, np.ndarray]:
        return {"columns": self.columns_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.columns_ = state["columns"]

    def _save_extra(self, path: Path) -> None:
        for i, member in enumerate(self.members_):
            member.save(path / f"member_{i}")

    def _load_extra(self, path: Path) -> None:
        self.members_ = [Detector.load(path / f"member_{i}") for i in range(len(self.members))]
