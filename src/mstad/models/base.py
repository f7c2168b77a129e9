"""The detector API every model follows (scikit-learn / PyOD conventions).

* ``__init__`` only stores parameters; ``get_params`` reads them back from the signature.
* ``fit(train) -> self``: learns from normal data only, then calibrates its scores on a
  validation tail of ``train`` (:mod:`mstad.models.calibration`).
* ``score(series) -> [T]``: one calibrated score per time step, higher = more anomalous: the
  bounded surprise of :mod:`mstad.models.calibration` (``-log10`` of the validation tail
  probability, in ``[0, 10)``), comparable across detectors, entities and data sets.
* ``explain(series) -> [T, D]``: per-sensor contributions, where the model can say.
* ``predict(series) -> [T]``: 0/1 at a threshold fitted on the validation scores
  (``fit_threshold``), scikit-learn / PyOD style.
* ``streamer()``: the object behind :class:`mstad.models.streaming.Monitor`.
* ``save(dir)`` / ``load(dir)``: JSON parameters + arrays (``.npz``, no pickle).

Subclasses implement ``_fit``, ``_raw_score`` and ``_state``/``_set_state`` (and ``_explain``).
"""

from __future__ import annotations

import inspect
import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mstad import DEFAULT_THRESHOLD
from mstad.atomic import save_npz, write_text
from mstad.data.checks import MIN_STEPS, check_flags, check_series
from mstad.errors import DataError, MstadError
from mstad.models.calibration import Calibration
from mstad.params import checked_init

if TYPE_CHECKING:
    from mstad.models.streaming import StreamContext, Streamer
    from mstad.models.thresholds import FittedThreshold

#: Fraction of the training split held out as validation (the paper's 8,000 / 2,000 split).
VALIDATION_FRACTION = 0.2


def validation_split(n_steps: int, min_steps: int) -> int | None:
    """Index where the validation tail starts, or ``None`` when train is too short to split.

    The tail is 20 % of train, but at least ``min_steps`` long; the head must keep ``min_steps``.
    """
    tail = max(int(round(VALIDATION_FRACTION * n_steps)), min_steps)
    head = n_steps - tail
    return head if head >= min_steps else None


class Detector:
    """Base class of all detectors; see the module docstring for the contract."""

    name: ClassVar[str] = "detector"
    supports_explain: ClassVar[bool] = False
    #: what :meth:`explain`'s values measure (a heatmap's colour bar)
    explain_unit: ClassVar[str] = "per-sensor contribution (the detector's own unit)"
    #: what :meth:`heatmap` shows, e.g. "residual matrix"; None when the model has no map
    heatmap_kind: ClassVar[str | None] = None
    #: what the values of :meth:`heatmap` measure (its colour bar)
    heatmap_unit: ClassVar[str | None] = None
    #: True for models of the relations between sensors (``pca``): their score carries
    #: information only where the sensors share structure (``ensemble``'s structure gate)
    models_correlations: ClassVar[bool] = False
    #: smallest calibration tail scale, in raw score units (see :class:`Calibration`)
    score_floor: ClassVar[float] = 0.0
    #: shape of each state array (``"D"`` sensors, ``"C"`` used columns, None any; a key
    #: ending in ``?`` is optional), checked when a saved detector is loaded
    state_shapes: ClassVar[dict[str, tuple]] = {}
    #: parameters added after a model could first be saved, with the value a folder saved before
    #: they existed was fitted with (when that is not today's default); applied on load
    params_before_added: ClassVar[dict[str, Any]] = {}
    #: state arrays that may hold NaN/inf (padding, undefined AUROCs)
    state_nonfinite: ClassVar[tuple[str, ...]] = ()
    #: ranges and choices of the ``__init__`` parameters (:func:`mstad.params.spec`)
    param_specs: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's ``__init__`` validates its parameters (:mod:`mstad.params`)."""
        super().__init_subclass__(**kwargs)
        checked_init(cls)

    # ---- parameters -------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def min_steps(self) -> int:
        """Shortest series the detector can fit or score."""
        return MIN_STEPS

    # ---- the API ------------------------------------------------------------------------------
    def fit(self, train: np.ndarray, flags: Sequence[int] | None = None) -> Detector:
        """Fit on normal data ``train`` ``[T, D]``; ``flags``: the sensors the data set declares
        as 0/1 command flags (``Entity.flags``), None to let ``inputs="continuous"`` infer them
        from training values (:mod:`mstad.features.columns`)."""
        train = check_series(train, "train", self.min_steps)
        self.n_sensors_ = train.shape[1]
        #: the declared flag sensors, or None (inferred); read when choosing input columns
        self.flags_ = check_flags(flags, self.n_sensors_, "train")
        #: per-sensor training minimum and maximum ``[2, D]``: what normal data spanned
        self.sensor_range_ = np.stack([train.min(axis=0), train.max(axis=0)]).astype(np.float64)
        head = validation_split(len(train), self.min_steps)
        calibration_scores, fitted_on = self._fit_with_validation(train, head)
        self.calibration_ = Calibration.fit(calibration_scores, fitted_on, self.score_floor)
        #: calibrated scores of the held-out normal data: what thresholds are fitted on
        self.validation_scores_ = self.calibration_.apply(calibration_scores)
        self.threshold_ = None  # fitted on demand (fit_threshold, predict)
        return self

    def score(self, series: np.ndarray) -> np.ndarray:
        """Calibrated anomaly score per time step, float64 ``[T]``."""
        series = self._check_input(series)
        return self.calibration_.apply(self._raw_score(series))

    def fit_threshold(self, method: str = DEFAULT_THRESHOLD, **params: Any) -> FittedThreshold:
        """Fit an alarm threshold on the calibrated validation scores — normal data only
        (:mod:`mstad.models.thresholds`; ``pot`` at risk 10⁻³ by default); kept as
        ``threshold_`` for :meth:`predict`."""
        from mstad.models.thresholds import make_thresholder

        if not hasattr(self, "calibration_"):
            raise MstadError(f"detector {self.name!r} is not fitted; call fit(train) first")
        thresholder = make_thresholder(method, **params)
        self.threshold_ = thresholder.fit_report(
            self.validation_scores_, self.calibration_.fitted_on
        )
        return self.threshold_

    def predict(self, series: np.ndarray) -> np.ndarray:
        """1 where the score is above the fitted threshold, else 0 (int8 ``[T]``); the default
        threshold (:meth:`fit_threshold`) is fitted on first use."""
        if getattr(self, "threshold_", None) is None:
            self.fit_threshold()
        return (self.score(series) > self.threshold_.value).astype(np.int8)

    def raw_score(self, series: np.ndarray) -> np.ndarray:
        """Uncalibrated score per time step (the model's own units)."""
        return np.asarray(self._raw_score(self._check_input(series)), dtype=np.float64)

    def explain(self, series: np.ndarray) -> np.ndarray:
        """Per-sensor contribution to the score, float64 ``[T, D]``."""
        if not self.supports_explain:
            raise MstadError(f"detector {self.name!r} cannot explain scores per sensor")
        return np.asarray(self._explain(self._check_input(series)), dtype=np.float64)

    def heatmap(self, series: np.ndarray, t: int) -> np.ndarray | None:
        """A 2-D map behind the score at step ``t`` (MSCRED: the residual matrix), or None."""
        if self.heatmap_kind is None:
            return None
        series = self._check_input(series)
        if not 0 <= t < len(series):
            raise MstadError(f"time step {t} is outside the series (0..{len(series) - 1})")
        return np.asarray(self._heatmap(series, int(t)), dtype=np.float64)

    def _heatmap(self, series: np.ndarray, t: int) -> np.ndarray:
        raise NotImplementedError

    # ---- streaming (mstad.models.streaming) ---------------------------------------------------
    def stream_context(self) -> StreamContext | None:
        """The rows a step's score reads, when that is a fixed number; None otherwise."""
        return None

    def stream_refusal(self) -> str:
        """Why :meth:`stream_context` is None, and what to do instead."""
        return "its score of a step depends on the whole series; score batches with `mstad score`"

    def streamer(self, max_past_windows: int | None = None) -> Streamer:
        """The object that turns arriving rows into final raw scores (see
        :class:`mstad.models.streaming.Monitor`)."""
        from mstad.models.streaming import ContextStreamer

        context = self.stream_context()
        if context is None:
            raise MstadError(f"detector {self.name!r} cannot be streamed: {self.stream_refusal()}")
        return ContextStreamer(self, context)

    def _check_input(self, series: np.ndarray) -> np.ndarray:
        if not hasattr(self, "calibration_"):
            raise MstadError(f"detector {self.name!r} is not fitted; call fit(train) first")
        series = check_series(series, "series", self.min_steps)
        if series.shape[1] != self.n_sensors_:
            raise DataError(
                f"series has {series.shape[1]} sensors but the detector was fitted on "
                f"{self.n_sensors_}; score data with the training columns"
            )
        return series

    # ---- persistence ------------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {
            "model": self.name,
            "params": self.get_params(),
            "n_sensors": self.n_sensors_,
            "calibration": self.calibration_.to_dict(),
        }
        if getattr(self, "history_", None):  # deep models: loss per training epoch
            meta["history"] = self.history_
        save_npz(
            path / "state.npz",
            _validation_scores=self.validation_scores_,
            _sensor_range=self.sensor_range_,
            **self._state(),
        )
        self._save_extra(path)
        write_text(path / "detector.json", json.dumps(meta, indent=2))  # last: marks it complete

    @classmethod
    def load(cls, path: Path | str) -> Detector:
        """The detector saved in ``path``, every file checked first
        (:func:`mstad.models.loading.load_detector`); errors name the folder."""
        from mstad.models.loading import load_detector

        return load_detector(path, cls.name)

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        """Sizes the symbols of :attr:`state_shapes` stand for: ``D`` the fitted sensors, ``C``
        the columns the model uses (``state["columns"]``); subclasses add their own."""
        dims = {"D": self.n_sensors_}
        if "columns" in state:
            dims["C"] = int(np.asarray(state["columns"]).size)
        return dims

    # ---- for subclasses -----------------------------------------------------------------------
    def _for_last_series(self, series: np.ndarray, compute) -> np.ndarray:
        """``compute(series)``, kept for the last series (keyed by its bytes): ``score`` then
        ``explain`` of the same series — what a run with ``--explain`` does — compute once.
        Refitting or loading forgets it (``_forget_last_series``)."""
        key = (series.shape, zlib.crc32(np.ascontiguousarray(series).tobytes()))
        cached = getattr(self, "_last_series", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        out = compute(series)
        self._last_series = (key, out)
        return out

    def _forget_last_series(self) -> None:
        self._last_series = None

    def _fit_with_validation(self, train: np.ndarray, head: int | None) -> tuple[np.ndarray, str]:
        """Fit, and return raw scores of held-out normal data and what they came from.

        Default (cheap models): a copy fitted on ``train[:head]`` scores the validation tail,
        then the model is refitted on all of ``train``. Deep models override this to train once
        with the tail as their early-stopping set.
        """
        if head is None:
            self._fit(train)
            return self._raw_score(train), "train"
        holdout = type(self)(**self.get_params())
        holdout._fit(train[:head])
        scores = holdout._raw_score(train[head:])
        self._fit(train)
        return scores, "validation"

    def _save_extra(self, path: Path) -> None:
        """Write files beyond ``state.npz`` (e.g. torch weights)."""

    def _load_extra(self, path: Path) -> None:
        """Read what ``_save_extra`` wrote."""

    def _fit(self, train: np.ndarray) -> None:
        raise NotImplementedError

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _explain(self, series: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError
