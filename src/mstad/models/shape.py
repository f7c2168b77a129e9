"""``shape``: how unlike any training window of its own sensor each window's *shape* is.

The matrix profile of the literature (Yeh et al., ICDM 2016; stumpy's default; TSB-AD's
"MatrixProfile" baseline) compares z-normalised windows: blind to a sensor's level and scale,
it sees shape. ``discord`` compares raw windows (in training standard deviations), so a series
that moves to a level training never showed is far from every training window for as long as it
stays there; this view is not — and it sees a changed shape that keeps its level. It is the
second half of ``--model best`` (``ensemble`` with ``shape_view``; calibration rounds 32–34,
``benchmarks/results/calibration_log.md`` §33–§35).

* **Inputs.** Per input sensor (``inputs="continuous"``: command flags left out, see
  :mod:`mstad.features.columns`); sensors constant in training are left out too — a shape
  against a flat line says nothing, and their leaving the constant is ``discord``'s to see.
  With no sensor left the score is 0 everywhere (a defined, flat view).
* **Distances.** Each window's z-normalised distance to its nearest training window of the
  same sensor over ``sqrt(2m)`` (:mod:`mstad.models.shape_profile`: exact, all lengths from one
  pass), at every length of ``windows`` (``discord``'s own: round 33); a step takes the
  **mean** over the windows of a length that cover it (``steps="mean"``, round 40 on three
  fresh draws of nineteen sets: worst shortfall 0.018 against 0.051 for round 39's midpoint
  and 0.044 for the largest — the largest alone spreads one unusual window over 2m − 1 steps at
  full height; ``"max"`` and ``"mid"``, the midpoint of the two, are the others of
  :data:`STEP_RULES`).
* **Calibration.** Per sensor and length, on the validation tail (a copy fitted on the training
  head), floor :data:`SHAPE_FLOOR`; the lengths' surprises averaged per sensor; the entity's
  score is the largest sensor's (then calibrated as every detector's is). The validation score
  that entity calibration — and so the threshold — is fitted on is computed **out of sample**
  where the tail is long enough (each half at least one longest window): each half's
  per-sensor surprises come from calibrations fitted on the other half, as new data's come from
  calibrations that never saw them. In sample, no sensor's surprise on validation exceeds about
  log10 of the tail's length, and the largest of many sensors on new data passes the threshold
  far more often than its risk says (round 36: the example plant's false alarms at POT 23.6 % →
  9.7 %, F1 at the threshold 0.478 → 0.676; round 37, halves of one window rather than two:
  mean false-alarm share over eighteen label-free sets 0.232 → 0.201, generated batch plants
  0.206 → 0.066; entity AUROC unchanged by construction —
  ``benchmarks/results/calibration_log.md`` §36–§38).

Streams window by window (:class:`ShapeStreamer`): a step is final when its longest window has
arrived, and each window's distances are computed once, in O(training).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mstad.features.columns import INPUTS, input_columns
from mstad.features.scaling import Standardizer
from mstad.features.windows import window_starts, windows_to_steps
from mstad.models.base import Detector
from mstad.models.calibration import KNOTS, SURPRISE_FLOOR, Calibration
from mstad.models.registry import register
from mstad.models.shape_profile import ShapeRows, TrainingWindows, shape_profiles
from mstad.models.streaming import WindowStreamer
from mstad.params import spec

#: smallest calibration tail scale of a normalised z-distance (``sqrt(1 − ρ)``, 0 .. √2)
SHAPE_FLOOR = 0.05
#: shortest window a length is cut to when training is short
MIN_WINDOW = 4
#: the validation score from cross-fitted halves of the tail (round 36, calibration_log §37);
#: False reproduces rounds 34–35 (the selection benchmark sets it)
CROSS_FIT = True
#: a half of the tail must hold this many longest windows to be cross-fitted (round 37: 1;
#: round 36 ran with 2)
CROSS_FIT_WINDOWS = 1.0
#: how a step's distance comes from the windows of a length that cover it (``steps``): the
#: largest ("max", rounds 32–38), their mean ("mean", as ``discord`` maps its windows; chosen by
#: round 40: calibration_log §42) or the midpoint of the two ("mid", round 39's choice)
STEP_RULES = ("max", "mean", "mid")


def _step_distances(rule: str, largest: np.ndarray | None, mean: np.ndarray | None) -> np.ndarray:
    """A step's distance under ``rule`` (:data:`STEP_RULES`) from the largest and the mean of
    its covering windows (``mean`` is None when the rule is ``"max"``, ``largest`` when it is
    ``"mean"``)."""
    if rule == "max":
        return largest
    return mean if rule == "mean" else 0.5 * (largest + mean)


@register
class ShapeDetector(Detector):
    name = "shape"
    supports_explain = True
    score_floor = SURPRISE_FLOOR  # a maximum of per-sensor surprises: never stretch it
    param_specs = {
        "windows": spec(min_length=1, item_ge=MIN_WINDOW),
        "inputs": spec(choices=INPUTS),
        "steps": spec(choices=STEP_RULES),
    }
    #: folders saved before round 39 took the largest covering window
    params_before_added = {"steps": "max"}
    state_shapes = {
        "columns": ("C",),
        "sensors": (None,),
        "train": ("S", None),
        "lengths": (None,),
        "scaler_mean": ("C",),
        "scaler_std": ("C",),
        "calibrations": (None, None),
    }
    state_nonfinite = ("calibrations",)  # NaN-padded knots

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        return {**super()._state_dims(state), "S": int(np.asarray(state["sensors"]).size)}

    def __init__(
        self,
        windows: Sequence[int] = (25, 50, 100, 200),
        inputs: str = "continuous",
        steps: str = "mean",
    ):
        self.windows = tuple(int(w) for w in windows)
        self.inputs = inputs
        self.steps = steps

    @property
    def min_steps(self) -> int:
        return 2 * min(self.windows)

    def _fit_with_validation(self, train: np.ndarray, head: int | None) -> tuple[np.ndarray, str]:
        # one set of lengths and sensors for the validation copy and the final model
        fit_len = len(train) if head is None else head
        tail = len(train) if head is None else len(train) - head
        cap = max(min(fit_len // 2, tail // 2), MIN_WINDOW)
        self._lengths = sorted({min(w, cap) for w in self.windows})
        columns = input_columns(train, self.inputs, self.flags_)
        varying = np.ptp(train[:, columns], axis=0) > 0
        self._columns, self._sensors = columns, np.flatnonzero(varying)
        if head is None:
            self._fit(train)
            per_length = self._per_length(train)
        else:
            holdout = type(self)(**self.get_params())
            holdout._lengths, holdout._columns = self._lengths, self._columns
            holdout._sensors = self._sensors
            holdout._fit(train[:head])
            per_length = holdout._per_length(train[head:])
            self._fit(train)
        fitted_on = "train" if head is None else "validation"
        self.calibrations_ = self._fit_calibrations(per_length, fitted_on)
        raw = self._combine(per_length) if not CROSS_FIT else self._cross_fitted(per_length)
        self.raw_validation_ = raw  # the ensemble averages this (uncalibrated) view
        return raw, fitted_on

    @staticmethod
    def _fit_calibrations(per_length: np.ndarray, fitted_on: str) -> list[list[Calibration]]:
        """One calibration per sensor and length (``[S, lengths, n]`` step distances)."""
        return [
            [Calibration.fit(p, fitted_on, SHAPE_FLOOR) for p in sensor] for sensor in per_length
        ]

    def _cross_fitted(self, per_length: np.ndarray) -> np.ndarray:
        """The validation score with each half of the tail's per-sensor surprises taken from
        calibrations fitted on the other half: out of sample, as new data's are."""
        n = per_length.shape[-1]
        half = n // 2
        if half < CROSS_FIT_WINDOWS * max(self.lengths_) or not len(per_length):
            return self._combine(per_length)
        first, second = per_length[..., :half], per_length[..., half:]
        return np.concatenate(
            [
                self._combine(first, self._fit_calibrations(second, "validation")),
                self._combine(second, self._fit_calibrations(first, "validation")),
            ]
        )

    def _fit(self, train: np.ndarray) -> None:
        self.columns_ = self._columns
        self.sensors_ = np.asarray(self._sensors, dtype=np.int64)
        self.lengths_ = np.asarray(self._lengths, dtype=np.int64)
        self.scaler_ = Standardizer().fit(train[:, self.columns_])
        self.train_ = self.standardized(train)
        self._training = None
        self._forget_last_series()

    @property
    def training(self) -> TrainingWindows | None:
        """The training windows' statistics (computed once, on first use); None without
        sensors."""
        if self._training is None and len(self.sensors_):
            lengths = np.minimum(self.lengths_, self.train_.shape[1])
            self._training = TrainingWindows(self.train_, lengths)
        return self._training

    def standardized(self, series: np.ndarray) -> np.ndarray:
        """The varying input sensors, standardised (float64, so a constant window stays
        exactly constant): ``[S, T]``."""
        x = self.scaler_.transform(series[:, self.columns_])[:, self.sensors_]
        return np.ascontiguousarray(x.T, dtype=np.float64)

    def _per_length(self, series: np.ndarray) -> np.ndarray:
        """``[S, lengths, T]`` step distances: per sensor and length, the normalised
        z-distances of the windows covering each step, taken by ``steps``. The last
        series' result is kept: ``score`` then ``explain`` of the same series — what a run with
        ``--explain`` and the ensemble's explanation do — search the training windows once."""
        return self._for_last_series(series, self._search)

    def _search(self, series: np.ndarray) -> np.ndarray:
        n = len(series)
        out = np.zeros((len(self.sensors_), len(self.lengths_), n))
        if not len(self.sensors_):
            return out
        x = self.standardized(series)
        training = self.training
        if n < training.windows.max():  # shorter than a window: those lengths shortened
            training = TrainingWindows(self.train_, np.minimum(training.windows, n))
        for s, dist in enumerate(shape_profiles(x, training)):
            w = int(training.windows[s])
            starts = window_starts(n, w)
            largest = None
            if self.steps != "mean":
                largest = windows_to_steps(dist.T, starts, w, n, how="max").T
            mean = None if self.steps == "max" else windows_to_steps(dist.T, starts, w, n).T
            out[:, s] = _step_distances(self.steps, largest, mean)
        return out

    def _calibrated(self, per_length: np.ndarray, calibrations=None) -> np.ndarray:
        """``[S, T]``: each sensor's lengths' surprises averaged (under ``calibrations``, by
        default the fitted ones)."""
        if not len(per_length):
            return np.zeros((0, per_length.shape[-1]))
        calibrations = self.calibrations_ if calibrations is None else calibrations
        return np.stack(
            [
                np.mean([c.apply(p) for c, p in zip(cals, sensor, strict=True)], axis=0)
                for cals, sensor in zip(calibrations, per_length, strict=True)
            ]
        )

    def _combine(self, per_length: np.ndarray, calibrations=None) -> np.ndarray:
        """The largest sensor's averaged surprise per step (0 without sensors)."""
        per_sensor = self._calibrated(per_length, calibrations)
        return per_sensor.max(axis=0) if len(per_sensor) else np.zeros(per_length.shape[-1])

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._combine(self._per_length(series))

    def _explain(self, series: np.ndarray) -> np.ndarray:
        out = np.zeros((len(series), self.n_sensors_))
        out[:, np.asarray(self.columns_)[self.sensors_]] = self._calibrated(
            self._per_length(series)
        ).T
        return out

    def streamer(self, max_past_windows: int | None = None):
        return ShapeStreamer(self)

    def _state(self) -> dict[str, np.ndarray]:
        cals = [c.to_array() for sensor in self.calibrations_ for c in sensor]
        return {
            "columns": np.asarray(self.columns_, dtype=np.int64),
            "sensors": self.sensors_,
            "train": self.train_,
            "lengths": self.lengths_,
            **self.scaler_.state(),
            "calibrations": np.array(cals) if cals else np.zeros((0, 5 + 2 * KNOTS)),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.columns_ = state["columns"]
        self.sensors_ = state["sensors"]
        self.train_ = np.ascontiguousarray(state["train"], dtype=np.float64)
        self.lengths_ = state["lengths"]
        self.scaler_ = Standardizer.from_state(state)
        flat = [Calibration.from_array(a) for a in state["calibrations"]]
        per = len(self.lengths_)
        self.calibrations_ = [flat[i : i + per] for i in range(0, len(flat), per)]
        self._training = None
        self._forget_last_series()


class ShapeStreamer(WindowStreamer):
    """Raw ``shape`` scores of the steps that became final: each window's distances are
    computed once, when its last row arrives (:class:`~mstad.models.shape_profile.ShapeRows`);
    a step is final when the longest window starting at it has arrived."""

    def __init__(self, detector: ShapeDetector):
        self.lengths = [int(w) for w in detector.lengths_]
        training = detector.training
        n_sensors = len(detector.sensors_)
        self.rows = [ShapeRows(training, s) for s in range(len(self.lengths))] if n_sensors else []
        self._start(detector, n_sensors, max(self.lengths))
        # per length: window distances [S, kept], of windows base .. next − 1
        self.dist = [np.empty((n_sensors, 0)) for _ in self.lengths]
        self.base = [0] * len(self.lengths)
        self.next = [0] * len(self.lengths)

    def _steps(self, upto: int, end: int) -> np.ndarray:
        """Raw scores of steps ``emitted .. upto − 1`` of a series seen up to ``end``."""
        if upto <= self.emitted:
            return np.empty(0)
        e = self.emitted
        per_length = []
        for s, w in enumerate(self.lengths):
            lo, hi = max(e - w + 1, 0), min(e, end - w)  # the windows covering step e
            if upto == e + 1 and hi >= lo:  # one step (a stream of single rows): its windows
                # directly — the general path below costs a dozen numpy calls per length
                seg = self.dist[s][:, lo - self.base[s] : hi - self.base[s] + 1]
                mean = None if self.d.steps == "max" else seg.mean(axis=1, keepdims=True)
                largest = None if self.d.steps == "mean" else seg.max(axis=1, keepdims=True)
                per_length.append(_step_distances(self.d.steps, largest, mean))
                continue
            # V[i] for windows i = e − w + 1 .. upto − 1: −inf where there is no window
            first, last = e - w + 1, min(upto - 1, end - w)
            values = np.full((len(self.dist[s]), upto - first), -np.inf)
            a = max(first, 0)
            if last >= a:
                values[:, a - first : last - first + 1] = self.dist[s][
                    :, a - self.base[s] : last - self.base[s] + 1
                ]
            mean = None
            # the mean over the windows that exist, as running sums over these steps alone:
            # windows_to_steps would map every step the windows cover, O(w²) per emitted row
            # (a stream of one row at a time ran at half the speed with it)
            if self.d.steps != "max":
                known = np.isfinite(values)
                total = np.cumsum(np.where(known, values, 0.0), axis=-1)
                count = np.cumsum(known, axis=-1)
                total[:, w:] -= total[:, :-w].copy()
                count[:, w:] -= count[:, :-w].copy()
                mean = total[:, w - 1 :] / np.maximum(count[:, w - 1 :], 1)
            largest = None
            if self.d.steps != "mean":
                largest = sliding_window_view(values, w, axis=-1).max(axis=-1)
            per_length.append(_step_distances(self.d.steps, largest, mean))
        self.emitted = upto
        return self.d._combine(np.stack(per_length, axis=1))

    def _trim(self) -> None:
        for s, w in enumerate(self.lengths):
            cut = max(0, self.emitted - w + 1) - self.base[s]
            if cut > 0:
                self.dist[s], self.base[s] = self.dist[s][:, cut:], self.base[s] + cut
        # the row before each next window: its update from the previous window reads it
        cut = self._cut_rows(max(0, min(self.next) - 1))
        for rows in self.rows:
            rows.shift(cut)

    def _add_windows(self) -> None:
        for s, w in enumerate(self.lengths):
            last = self.total - w + 1  # windows 0 .. last − 1 are complete
            if last > self.next[s]:
                lo, hi = self.next[s] - self.offset, last - self.offset
                new = (
                    self.rows[s].advance(self.x, lo, hi)
                    if self.rows
                    else np.empty((0, last - self.next[s]))
                )
                self.dist[s] = np.concatenate([self.dist[s], new], axis=1)
                self.next[s] = last
