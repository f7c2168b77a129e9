"""Multi-scale nearest-neighbour discords against training data and the series' own past.

The core of mstad's named default (``--model best``). A window's score is its distance to the
most similar *normal* window. ``reference="train+past"`` takes as normal every training window
**plus every window of the scored series that ended before this one began** (the left matrix
profile of Yeh et al. 2016 joined with the training data) — what an online monitor that learns
from what it has seen does: a new operating level alarms when it starts and not for the rest of
the series. ``reference="train"`` compares with training alone: a change that persists alarms
for as long as it lasts. ``reference="both"`` (the default since round 24 of the label-free
selection, as it has been ``best``'s member's since round 15) scores each window both ways (the
two distances come from the same pass), calibrates each view per sensor on its own validation
distances and averages the two surprises: a change that persists keeps the train-only half of
its alarm. Rounds 22–24 decided between ``both`` and ``train+past`` by one set's draw each time
(the online view's shortfall on ``servers-long``: 0.105, 0.065, 0.125, against ``both``'s 0.114
on the plant): the two are close, and ``-p reference=train+past`` is the choice where test data
move to levels training never showed (``benchmarks/results/calibration_log.md`` §21–§23).
Nothing about labels is involved in any of them.

* **Inputs.** ``inputs="continuous"`` drops the command flags, which swamp a distance over the
  one telemetry value (dim 0): those the data set declares (NASA's dims 1 onward), else the
  sensors whose training values are all 0 or 1 (:mod:`mstad.features.columns`). A series made
  only of flags keeps all of them. (A sensor constant in training at another value stays: its
  leaving that value is news.)
* **Scales.** RMS distances to the ``k``-th nearest normal window (per step and sensor, in
  training standard deviations) at every window length of ``windows``, each averaged over the
  windows covering a step, then averaged over scales: short windows localise spikes, long ones
  see changed shapes. Exact, every window against every reference window, all lengths from one
  pass (:mod:`mstad.models.matrix_profile`). With ``k > 1`` the neighbours must lie ``zone``
  window lengths apart, so an anomaly seen once before in the series is still far from its
  second neighbour.
* **Budget** (off by default): ``max_train_windows`` / ``max_past_windows`` compare only the
  most recent that many training / past windows (a bounded stream does the same).
* **Baseline.** ``baseline="past_median"`` subtracts from each score the median of the series'
  earlier scores (blocks of 100 steps), so a slowly rising level of novelty does not outrank a
  sudden one; ``"none"`` keeps the distances as they are.
* **Calibration.** From the validation tail (train head as reference): with
  ``calibrate_sensors`` each sensor's distance first becomes its surprise under its own
  validation distances (:class:`~mstad.models.calibration.Calibration`; the idea of Garg et
  al.'s Gauss-D-K: judge each sensor against its own normal error), so ``combine="max"`` picks
  the most unusual sensor rather than the noisiest; then the entity's combined score is
  calibrated as every detector's is. ``scales="surprise"`` (an option) calibrates each window
  length's distances on their own (per sensor and view) and averages the surprises, so a length
  whose normal distances are wide does not outweigh one whose normal distances are tight; the
  default ``"distance"`` averages the lengths' distances first (calibration rounds 27–28:
  +0.015 on cyclic server metrics, −0.005 to −0.012 where the longest window sees the anomaly,
  a tie by the rule; ``benchmarks/results/calibration_log.md`` §27–§28). Per-sensor tail
  scales are floored at 0.1 training standard deviations (RMS per step), and distances are told
  apart only to that resolution: a tail that repeats training (nearly) exactly would otherwise
  make every later distance infinitely surprising, and differences of a few thousandths of a
  standard deviation are not news.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mstad.features.columns import INPUTS, input_columns
from mstad.features.scaling import Standardizer
from mstad.features.windows import window_starts, windows_to_steps
from mstad.models.base import Detector
from mstad.models.calibration import BASELINES, SURPRISE_FLOOR, Calibration, remove_baseline
from mstad.models.matrix_profile import knn_profiles
from mstad.models.registry import register
from mstad.params import spec
from mstad.progress import report

#: what a window is compared with (see the module docstring)
REFERENCES = ("train+past", "train", "both")
#: smallest per-sensor calibration spread: 0.1 training standard deviations (RMS per step)
GROUP_FLOOR = 0.1
#: how the window lengths' distances become one score per group (see the module docstring)
SCALE_RULES = ("distance", "surprise")
#: the past a stream keeps by default where the detector sets no budget (windows per scale)
STREAM_PAST_WINDOWS = 20000


@register
class DiscordDetector(Detector):
    name = "discord"
    supports_explain = True  # per_sensor mode; joint mode spreads the score evenly
    score_floor = GROUP_FLOOR
    param_specs = {
        "windows": spec(min_length=1, item_ge=2),
        "inputs": spec(choices=INPUTS),
        "reference": spec(choices=REFERENCES),
        "k": spec(ge=1),
        "zone": spec(gt=0),
        "max_train_windows": spec(ge=1),
        "max_past_windows": spec(ge=1),
        "baseline": spec(choices=BASELINES),
        "mode": spec(choices=("per_sensor", "joint", "both")),
        "combine": spec(choices=("max", "mean")),
        "scales": spec(choices=SCALE_RULES),
    }

    state_shapes = {
        "columns": ("C",),
        "train": (None, "C"),
        "lengths": (None,),
        "scaler_mean": ("C",),
        "scaler_std": ("C",),
        "group_calibrations?": ("G", None),
    }
    state_nonfinite = ("group_calibrations",)  # NaN-padded knots

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        dims = super()._state_dims(state)
        n = dims.get("C", 0)
        groups = 1 if n == 1 or self.mode == "joint" else n + (self.mode == "both")
        dims["G"] = groups * self.views * self.scale_columns(len(state["lengths"]))
        return dims

    def __init__(
        self,
        windows: Sequence[int] = (25, 50, 100, 200),
        inputs: str = "continuous",
        reference: str = "both",
        k: int = 1,
        zone: float = 1.0,
        max_train_windows: int | None = None,
        max_past_windows: int | None = None,
        baseline: str = "none",
        mode: str = "per_sensor",
        combine: str = "max",
        calibrate_sensors: bool = True,
        scales: str = "distance",
    ):
        if scales == "surprise" and not calibrate_sensors:
            raise ValueError("scales='surprise' calibrates each window length: calibrate_sensors")
        self.windows = tuple(windows)
        self.inputs = inputs
        self.reference = reference
        self.k = int(k)
        self.zone = float(zone)
        self.max_train_windows = max_train_windows
        self.max_past_windows = max_past_windows
        self.baseline = baseline
        self.mode = mode
        self.combine = combine
        self.calibrate_sensors = bool(calibrate_sensors)
        self.scales = scales
        # per-sensor surprises are calibrated already: never stretch them
        self.score_floor = SURPRISE_FLOOR if self.calibrate_sensors else GROUP_FLOOR

    @property
    def views(self) -> int:
        """Distance rules scored per group: 2 with ``reference="both"`` (train+past, then train
        alone), else 1."""
        return 2 if self.reference == "both" else 1

    @property
    def min_steps(self) -> int:
        return 2 * min(self.windows)

    def scale_columns(self, n_lengths: int) -> int:
        """Score columns per view and group: one per window length with ``scales="surprise"``
        (each calibrated apart), else one (the lengths' distances averaged)."""
        return n_lengths if self.scales == "surprise" else 1

    def merge_scales(self, per_length: list[np.ndarray]) -> np.ndarray:
        """Each window length's ``[T, V·G]`` step distances → the columns calibrated: their mean
        (``"distance"``), or side by side, length-major (``"surprise"``)."""
        if self.scales == "surprise":
            return np.concatenate(per_length, axis=1)
        return sum(per_length) / len(per_length)

    def _fit_with_validation(self, train: np.ndarray, head: int | None) -> tuple[np.ndarray, str]:
        # One set of window lengths for the validation copy and the final model, so calibration
        # sees the same score: none longer than the validation tail or half the training head.
        fit_len = len(train) if head is None else head
        tail = len(train) if head is None else len(train) - head
        cap = max(min(fit_len // 2, tail), min(self.windows))
        self._lengths = sorted({min(w, cap) for w in self.windows})
        # one set of input columns too, chosen on all of train: the head alone can see a sensor
        # as a 0/1 flag that moves otherwise later, and the groups would then not line up
        self._columns = input_columns(train, self.inputs, self.flags_)
        if head is None:
            self._fit(train)
            groups = self._group_scores(train)
        else:
            holdout = type(self)(**self.get_params())
            holdout._lengths, holdout._columns = self._lengths, self._columns
            holdout._fit(train[:head])
            groups = holdout._group_scores(train[head:])
            self._fit(train)
        fitted_on = "train" if head is None else "validation"
        self.group_calibrations_ = (
            [Calibration.fit(g, fitted_on, GROUP_FLOOR, GROUP_FLOOR) for g in groups.T]
            if self.calibrate_sensors
            else None
        )
        return self._combine(groups), fitted_on

    def _fit(self, train: np.ndarray) -> None:
        self.columns_ = columns = self._columns
        self.scaler_ = Standardizer().fit(train[:, columns])
        self.train_ = np.ascontiguousarray(
            self.scaler_.transform(train[:, columns]), dtype=np.float32
        )
        self.lengths_ = np.asarray(self._lengths, dtype=np.int64)
        self._forget_last_series()

    def _groups(self) -> list[np.ndarray]:
        """Input columns compared together: all at once, each sensor alone, or both (joint
        first). A single input column is one group in every mode."""
        n = len(self.columns_)
        joint, alone = [np.arange(n)], [np.array([j]) for j in range(n)]
        if n == 1 or self.mode == "joint":
            return joint
        return alone if self.mode == "per_sensor" else joint + alone

    def _group_scores(self, series: np.ndarray) -> np.ndarray:
        """RMS nearest-neighbour distance per step and group, averaged over scales: [T, G].

        The last series' result is kept: ``score`` then ``explain`` of the same series search
        the neighbours once."""
        return self._for_last_series(series, self._search)

    def _search(self, series: np.ndarray) -> np.ndarray:
        """``[T, views · G]``: each view's groups in turn (train+past first)."""
        x = self.standardized(series)
        train = np.asarray(self.train_, dtype=np.float64).T
        lengths = [int(min(w, len(series), len(self.train_))) for w in self.lengths_]
        distinct = sorted(set(lengths))
        groups = self._groups()
        # one pass for the joint group, one for all single sensors together: [V, G, scales, T]
        parts = []
        if len(groups[0]) > 1 or len(groups) == 1:
            report("discord: nearest windows, joint", 0, 1)
            parts.append(self.profiles(x, train, distinct)[:, None])
        if len(groups) > 1:
            report("discord: nearest windows, per sensor", 0, 1)
            parts.append(self.profiles(x, train, distinct, per_sensor=True))
        sq = np.concatenate(parts, axis=1)
        per_length = []
        for w in lengths:
            out = np.zeros((len(series), self.views * len(groups)))
            n, starts = len(series) - w + 1, window_starts(len(series), w)
            for v in range(self.views):
                for g, cols in enumerate(groups):
                    dist = np.sqrt(sq[v, g, distinct.index(w), :n] / (w * len(cols)))
                    out[:, v * len(groups) + g] = windows_to_steps(dist, starts, w, len(series))
            per_length.append(out)
        return self.merge_scales(per_length)

    def standardized(self, series: np.ndarray) -> np.ndarray:
        """Input columns, standardised and rounded to float32 as the training copy is: [C, T]."""
        x = self.scaler_.transform(series[:, self.columns_]).astype(np.float32)
        return np.ascontiguousarray(x.T, dtype=np.float64)

    def profile_rule(self, max_past: int | None = None) -> dict:
        """The reference rule and budgets the batch and the stream share (keyword arguments of
        :mod:`~mstad.models.matrix_profile`); ``max_past`` overrides the detector's budget."""
        return {
            "k": self.k,
            "zone": self.zone,
            "past": self.reference != "train",
            "max_reference": self.max_train_windows,
            "max_past": self.max_past_windows if max_past is None else max_past,
        }

    def profiles(self, x, train, windows, per_sensor=False) -> np.ndarray:
        """Squared distances of ``x [c, T]``'s windows by the detector's rule, one leading
        entry per view (:func:`~mstad.models.matrix_profile.knn_profiles`)."""
        both = self.views == 2
        sq = knn_profiles(
            x, train, windows, per_sensor=per_sensor, views=both, **self.profile_rule()
        )
        return sq if both else sq[None]

    def _calibrated_groups(self, groups: np.ndarray) -> np.ndarray:
        """Each group's distances as surprise under its own validation distances (or as they
        are, without ``calibrate_sensors``), the views (and with ``scales="surprise"`` the
        window lengths) averaged: ``[T, lengths · views · G] → [T, G]``."""
        if self.group_calibrations_ is not None:
            groups = np.stack(
                [c.apply(g) for c, g in zip(self.group_calibrations_, groups.T, strict=True)],
                axis=1,
            )
        per_group = self.views * self.scale_columns(len(self.lengths_))  # no group list built:
        return groups.reshape(len(groups), per_group, -1).mean(axis=1)  # a stream calls per row

    def _combine(self, groups: np.ndarray) -> np.ndarray:
        """Group scores → one score per step: calibrate each group, combine, remove baseline."""
        scores = self._calibrated_groups(groups)
        total = scores.max(axis=1) if self.combine == "max" else scores.mean(axis=1)
        return remove_baseline(total, self.baseline)

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._combine(self._group_scores(series))

    def streamer(self, max_past_windows: int | None = None):
        from mstad.models.discord_stream import DiscordStreamer

        return DiscordStreamer(self, max_past_windows)

    def _explain(self, series: np.ndarray) -> np.ndarray:
        scores = self._calibrated_groups(self._group_scores(series))
        out = np.zeros((len(series), self.n_sensors_))
        if len(self._groups()) == 1:  # joint: spread evenly over the inputs
            out[:, self.columns_] = scores / len(self.columns_)
        else:  # per sensor (in "both", the joint group comes first and is left out)
            out[:, self.columns_] = scores[:, -len(self.columns_) :]
        return out

    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "columns": self.columns_,
            "train": self.train_,
            "lengths": self.lengths_,
            **self.scaler_.state(),
        }
        if self.group_calibrations_ is not None:
            state["group_calibrations"] = np.stack([c.to_array() for c in self.group_calibrations_])
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._forget_last_series()
        self.columns_ = state["columns"]
        self.train_ = state["train"]
        self.lengths_ = state["lengths"]
        self.group_calibrations_ = (
            [Calibration.from_array(a) for a in state["group_calibrations"]]
            if "group_calibrations" in state
            else None
        )
        self.scaler_ = Standardizer.from_state(state)
