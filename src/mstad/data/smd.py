"""Server Machine Dataset (Su et al., KDD 2019, OmniAnomaly layout).

``train/<machine>.txt``, ``test/<machine>.txt`` (comma-separated floats, 38 columns),
``test_label/<machine>.txt`` (one 0/1 per test row) and optional
``interpretation_label/<machine>.txt`` with lines ``start-end:d1,d2,…`` (sensors numbered from 1).

Per-step labels come from ``test_label``. Interpretation ranges are half-open ``[start, end)`` and
0-based (``392-416`` covers the 24 labelled rows 392..415 of machine-1-3); they are stored as
inclusive intervals with 0-based root-cause sensors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mstad.data.checks import (
    check_name,
    check_same_width,
    check_series,
    constant_sensor_warnings,
    find_folder,
)
from mstad.data.entity import Dataset, Entity, Interval
from mstad.errors import DataError

_LINE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*:\s*(\d+(?:\s*,\s*\d+)*)\s*$")


def find_smd_dir(data_dir: Path) -> Path:
    """The folder holding ``train/`` and ``test/``: ``data_dir`` itself or ``data_dir/smd``."""
    return find_folder(
        data_dir,
        "smd",
        lambda d: (d / "train").is_dir() and (d / "test").is_dir(),
        "no train/ and test/ folders here or in {here}; download the OmniAnomaly "
        "ServerMachineDataset and pass its folder as --data-dir",
    )


def _read_matrix(path: Path) -> np.ndarray:
    try:
        arr = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DataError(
            f"{path}: not a comma-separated table of numbers ({exc}); fix or re-export the file"
        ) from exc
    return check_series(arr, str(path))


def _read_labels(path: Path, length: int) -> np.ndarray:
    try:
        labels = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except ValueError as exc:
        raise DataError(f"{path}: expected one 0/1 value per line ({exc})") from exc
    if labels.shape != (length,):
        raise DataError(
            f"{path}: {labels.size} labels for {length} test rows; the files must match row by row"
        )
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: labels must be 0 or 1")
    return labels.astype(bool)


def read_interpretation(
    path: Path, length: int, n_sensors: int, labels: np.ndarray | None = None
) -> list[Interval]:
    """Parse ``start-end:d1,d2`` lines into inclusive intervals with 0-based causes; with
    ``labels``, each range must cover at least one labelled step (else the files disagree)."""
    intervals = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise DataError(
                f"{path} line {number}: {line.strip()!r} is not 'start-end:d1,d2,…' "
                "(e.g. 392-416:12,15)"
            )
        start, end = int(match[1]), int(match[2])
        causes = tuple(sorted({int(d) - 1 for d in match[3].split(",")}))
        if not start < end <= length:
            raise DataError(
                f"{path} line {number}: range {start}-{end} is not within 0..{length} "
                "(half-open, end > start)"
            )
        if causes[0] < 0 or causes[-1] >= n_sensors:
            raise DataError(
                f"{path} line {number}: sensors are numbered 1..{n_sensors}, got {match[3]}"
            )
        if labels is not None and not labels[start:end].any():
            raise DataError(
                f"{path} line {number}: range {start}-{end} covers no step labelled 1 in "
                "test_label; the interpretation and label files do not belong together"
            )
        intervals.append(Interval(start, end - 1, causes))
    return intervals


def load_smd(data_dir: Path, machines: Sequence[str] | None = None) -> Dataset:
    """Load every machine that has both train and test files (or the named ones)."""
    root = find_smd_dir(Path(data_dir))
    found = sorted(p.stem for p in (root / "train").glob("*.txt"))
    if not found:
        raise DataError(f"{root / 'train'}: no <machine>.txt files; the folder is empty")
    names = list(machines) if machines else found
    unknown = [m for m in names if m not in found]
    if unknown:
        raise DataError(
            f"{root / 'train'}: unknown machine(s) {', '.join(unknown)}; found {', '.join(found)}"
        )
    entities = []
    for name in names:
        check_name(name, str(root / "train" / f"{name}.txt"))
        train_src, test_src = root / "train" / f"{name}.txt", root / "test" / f"{name}.txt"
        if not test_src.is_file():
            raise DataError(f"{test_src}: missing; every train/<machine>.txt needs a test file")
        train, test = _read_matrix(train_src), _read_matrix(test_src)
        check_same_width(train, test, str(train_src), str(test_src))
        label_src = root / "test_label" / f"{name}.txt"
        labels = _read_labels(label_src, len(test)) if label_src.is_file() else None
        interp_src = root / "interpretation_label" / f"{name}.txt"
        intervals = (
            read_interpretation(interp_src, len(test), train.shape[1], labels)
            if interp_src.is_file()
            else []
        )
        entities.append(
            Entity(
                name=name,
                train=train,
                test=test,
                labels=labels,
                intervals=tuple(intervals),
                sensors=tuple(f"metric_{i:02d}" for i in range(1, train.shape[1] + 1)),
                warnings=tuple(constant_sensor_warnings(train, str(train_src))),
            )
        )
    return Dataset("smd", tuple(entities))
