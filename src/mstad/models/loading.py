"""Loading a saved detector folder, checked before it is trusted.

A model folder (``detector.json`` + ``state.npz`` + the model's own files) may be truncated,
from another version, or edited. :func:`load_detector` checks, and reports with one line naming
the folder: the required keys; the parameters, through the same validation as
``make_detector``; the calibration (finite, positive scales: :class:`Calibration` checks
itself); every state array the detector declares in ``state_shapes`` — present, of the
declared shape in terms of the stored sensor count, finite; and finally that the loaded
detector scores a probe series of the stored width to finite values. No pickle is ever read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mstad.errors import MstadError, reason
from mstad.models.calibration import Calibration

if TYPE_CHECKING:
    from mstad.models.base import Detector

REQUIRED = ("model", "params", "n_sensors", "calibration")


class ModelFolderError(MstadError):
    """A model folder that cannot be loaded as it is."""


def _fail(path: Path, what: str) -> ModelFolderError:
    return ModelFolderError(f"{path}: {what}; save the detector again (mstad run --save-models)")


def check_state(detector: Detector, arrays: dict[str, np.ndarray], path: Path) -> None:
    """Every declared state array present, of its declared shape, finite where it must be."""
    dims = detector._state_dims(arrays)
    for key, shape in detector.state_shapes.items():
        optional = key.endswith("?")
        key = key.rstrip("?")
        if key not in arrays:
            if optional:
                continue
            raise _fail(path, f"state.npz lacks the array {key!r}")
        array = arrays[key]
        expected = tuple(dims.get(d, d) if isinstance(d, str) else d for d in shape)
        ok = array.ndim == len(expected) and all(
            e is None or a == e for a, e in zip(array.shape, expected, strict=True)
        )
        if not ok:
            shown = tuple("any" if e is None else e for e in expected)
            raise _fail(path, f"state array {key!r} has shape {array.shape}, expected {shown}")
        if array.dtype.kind == "f" and key not in detector.state_nonfinite:
            if not np.isfinite(array).all():
                raise _fail(path, f"state array {key!r} holds NaN or inf")
        elif array.dtype.kind not in "fiub":
            raise _fail(path, f"state array {key!r} has dtype {array.dtype}, expected numbers")
    for key in ("scaler_std", "scaler_span"):  # scales a model divides by
        if key in arrays and not (arrays[key] > 0).all():
            raise _fail(path, f"state array {key!r} must be > 0")
    columns = arrays.get("columns")
    if (
        columns is not None
        and columns.size
        and not (columns.dtype.kind in "iu" and columns.min() >= 0 and columns.max() < dims["D"])
    ):
        raise _fail(path, f"state array 'columns' must be sensor indices 0..{dims['D'] - 1}")


def load_detector(path: Path | str, expected: str = "detector") -> Detector:
    """The detector saved in ``path``; ``expected`` (a model name) must match unless it is the
    base class's ``"detector"``."""
    from mstad.models.registry import detector_class

    path = Path(path)
    meta_file = path / "detector.json"
    if not meta_file.is_file():
        raise ModelFolderError(f"{path}: no detector.json; point at a folder written by save()")
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise _fail(path, f"detector.json is not readable JSON ({reason(exc)})") from None
    if not isinstance(meta, dict) or any(k not in meta for k in REQUIRED):
        raise _fail(path, f"detector.json needs the keys {', '.join(REQUIRED)}")
    if expected not in ("detector", meta["model"]):
        raise ModelFolderError(f"{path}: holds a {meta['model']!r} detector, not {expected!r}")
    n_sensors = meta["n_sensors"]
    if type(n_sensors) is not int or n_sensors < 1 or not isinstance(meta["params"], dict):
        raise _fail(path, "detector.json: n_sensors must be an integer >= 1, params a mapping")
    try:
        cls = detector_class(meta["model"])
        detector = cls(**{**cls.params_before_added, **meta["params"]})
    except MstadError as exc:
        raise _fail(path, f"detector.json: {exc}") from None
    try:
        detector.calibration_ = Calibration.from_dict(meta["calibration"])
    except (TypeError, ValueError, KeyError) as exc:
        raise _fail(path, f"detector.json: calibration is not valid ({reason(exc)})") from None
    detector.n_sensors_ = n_sensors
    history = meta.get("history")
    if isinstance(history, list) and all(isinstance(h, dict) for h in history):
        detector.history_ = history
    try:
        with np.load(path / "state.npz", allow_pickle=False) as state:
            arrays = dict(state)
    except Exception as exc:  # FileNotFoundError, BadZipFile, ValueError (pickled object)…
        raise _fail(path, f"state.npz is not readable ({reason(exc)})") from None
    scores = arrays.pop("_validation_scores", None)
    if scores is None or scores.ndim != 1 or not np.isfinite(scores).all():
        raise _fail(path, "state.npz: _validation_scores must be a finite 1-D array")
    detector.validation_scores_ = scores
    sensor_range = arrays.pop("_sensor_range", None)  # absent in older model folders
    if sensor_range is not None and (
        sensor_range.shape != (2, n_sensors) or not np.isfinite(sensor_range).all()
    ):
        raise _fail(path, f"state.npz: _sensor_range is {sensor_range.shape}, not (2, {n_sensors})")
    if sensor_range is not None:
        detector.sensor_range_ = sensor_range
    check_state(detector, arrays, path)
    try:
        detector._set_state(arrays)
        detector._load_extra(path)
    except MstadError:
        raise
    except Exception as exc:  # a weights file cut short, of another architecture…
        raise _fail(path, f"the saved state does not fit the model ({reason(exc)})") from None
    _probe(detector, path)
    return detector


def _probe(detector: Detector, path: Path) -> None:
    """Score a short series of the stored width: a state that broadcasts wrongly or does not
    fit the parameters fails here, at load, not at the first real score."""
    probe = np.zeros((detector.min_steps, detector.n_sensors_), dtype=np.float32)
    probe += np.linspace(0.0, 1.0, len(probe), dtype=np.float32)[:, None]
    try:
        scores = detector.score(probe)
    except Exception as exc:
        raise _fail(path, f"the loaded detector cannot score ({reason(exc)})") from None
    if scores.shape != (len(probe),) or not np.isfinite(scores).all():
        raise _fail(path, "the loaded detector gives non-finite or misshaped scores")
