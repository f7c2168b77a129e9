"""Input checks shared by every loader: one-line errors that name the file and the fix.

Nothing is dropped or imputed silently: non-finite values are an error (with a count and the
first position), constant sensors are a warning that travels with the entity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mstad.errors import DataError, reason

#: The shortest series any detector can use; models with windows ask for more themselves.
MIN_STEPS = 10
#: An entity name is used as a file name in run folders: letters (any script), digits, ``. _ -``.
_PLAIN_NAME = re.compile(r"^\w[\w.-]{0,199}$")
#: largest magnitude a value may have: it must survive the float32 cast
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_name(name: object, where: str) -> str:
    """An entity name that is a plain file name (it names files inside run folders), or a
    :class:`DataError` naming ``where`` it came from."""
    if not isinstance(name, str) or not _PLAIN_NAME.match(name) or set(name) == {"."}:
        raise DataError(
            f"{where}: entity name {name!r} is not a plain file name (letters, digits, '.', "
            "'_', '-'; no '/', no leading '.'); rename it"
        )
    return name


def find_folder(data_dir: Path, sub: str, holds: Callable[[Path], bool], fix: str) -> Path:
    """``data_dir`` itself or ``data_dir/sub``, whichever ``holds`` the data set's files (every
    file-based loader accepts both); otherwise a :class:`DataError` ending in ``fix``."""
    data_dir = Path(data_dir)
    for candidate in (data_dir, data_dir / sub):
        if holds(candidate):
            return candidate
    raise DataError(f"{data_dir}: {fix.format(here=data_dir / sub)}")


def load_npy(path: Path) -> np.ndarray:
    """Read an ``.npy`` file without pickle; a missing or corrupt file is a :class:`DataError`."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError, SyntaxError, TokenError…
        raise DataError(
            f"{path}: not a readable .npy array ({reason(exc)}); re-download or re-export the file"
        ) from None


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
    if np.iscomplexobj(arr) or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise DataError(
            f"{source}: expected real numbers (integer or float), got dtype {arr.dtype}; "
            "convert the column(s) before loading"
        )
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
    huge = np.abs(arr) > FLOAT32_MAX
    if huge.any():
        t, d = np.argwhere(huge)[0]
        raise DataError(
            f"{source}: {int(huge.sum())} value(s) beyond the float32 range (|x| > 3.4e38), "
            f"first {arr[t, d]!r} at step {t}, sensor {d}; rescale the sensor or fix the value"
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


def check_flags(flags: Sequence[int] | None, n_sensors: int, where: str) -> tuple[int, ...] | None:
    """Declared command-flag sensors as sorted unique 0-based indices (None stays None: the
    flags are then guessed from training values, :mod:`mstad.features.columns`)."""
    if flags is None:
        return None
    declared = tuple(sorted({int(f) for f in flags}))
    if not set(declared) <= set(range(n_sensors)):
        raise DataError(
            f"{where}: flag sensors {list(declared)} are not all among the {n_sensors} sensors "
            "(0-based column indices)"
        )
    return declared
