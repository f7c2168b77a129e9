"""Input checks shared by every loader: one-line errors that name the file and the fix.

Nothing is dropped or imputed silently: non-finite values are an error (with a count and the
first position), constant sensors are a warning that travels with the entity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mstad.errors import DataError

#: The shortest series any detector can use; models with windows ask for more themselves.
MIN_STEPS = 10


def load_npy(path: Path) -> np.ndarray:
    """Read an ``.npy`` file without pickle; a missing or corrupt file is a :class:`DataError`."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(
            f"{path}: not a readable .npy array ({exc}); re-download or re-export the file"
        ) from exc


def check_series(arr: np.ndarray, source: str, min_steps: int = MIN_STEPS) -> np.ndarray:
    """Validate one ``[T, D]`` series and return it as contiguous float32.

    ``source`` names the file (or field) in error messages.
    """
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise DataError(
            f"{source}: expected a 2-D array [time, sensors], got shape {arr.shape}; "
            "reshape a single sensor to (T, 1)"
        )
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise DataError(f"{source}: expected numbers, got dtype {arr.dtype}")
    if arr.shape[0] < min_steps:
        raise DataError(
            f"{source}: only {arr.shape[0]} time steps, need at least {min_steps}; "
            "use a longer recording"
        )
    if arr.shape[1] == 0:
        raise DataError(f"{source}: has no sensor columns")
    bad = ~np.isfinite(arr)
    if bad.any():
        t, d = np.argwhere(bad)[0]
        raise DataError(
            f"{source}: {int(bad.sum())} non-finite values (NaN/inf), first at step {t}, "
            f"sensor {d}; impute or remove them before loading (mstad drops nothing silently)"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def constant_sensor_warnings(train: np.ndarray, source: str) -> list[str]:
    """Warn about sensors that never change in training data (they carry no normal pattern)."""
    constant = np.flatnonzero(np.ptp(train, axis=0) == 0)
    if constant.size == 0:
        return []
    shown = ", ".join(str(i) for i in constant[:8]) + (" …" if constant.size > 8 else "")
    return [f"{source}: {constant.size} sensor(s) constant in train (index {shown})"]


def check_same_width(train: np.ndarray, test: np.ndarray, train_src: str, test_src: str) -> None:
    """Train and test must have the same sensors."""
    if train.shape[1] != test.shape[1]:
        raise DataError(
            f"{test_src}: {test.shape[1]} sensors but {train_src} has {train.shape[1]}; "
            "train and test need the same columns in the same order"
        )
