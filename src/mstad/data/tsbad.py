"""TSB-AD series files (Liu & Paparrizos, NeurIPS 2024 Datasets and Benchmarks track;
https://github.com/TheDatumOrg/TSB-AD), one entity per file.

Each file is a CSV with a header: the sensor columns, then ``Label`` (0/1 per row). Its name,
``<index>_<source>_id_<id>_<domain>_tr_<train end>_1st_<first anomaly>.csv``, says where the
training part ends: TSB-AD's own runner reads the third-last ``_``-separated token of the
name as that index (``Run_Detector_M.py``), and so does this loader. The training part is
``rows[:tr]``, the test part ``rows[tr:]`` with its labels.

Two differences from TSB-AD's runner, both deliberate and said here so figures are read
rightly: (1) mstad's metrics cover the test part only, where TSB-AD's leaderboard scores the
whole series, training part included — the same detector gets different figures; (2) TSB-AD
drops rows with a missing value (``dropna``); mstad drops nothing silently, so such a file is
an error naming the file. A row labelled 1 inside the training part is an error too: training
data must be normal, and the file name promised that it is (``tr`` ≤ ``1st``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mstad.data.checks import check_name, check_series, constant_sensor_warnings, find_folder
from mstad.data.entity import Dataset, Entity
from mstad.data.labels import labels_to_intervals
from mstad.errors import DataError, reason

#: the label column of every TSB-AD file
LABEL = "Label"


def find_tsbad_dir(data_dir: Path) -> Path:
    """The folder holding the ``*.csv`` files: ``data_dir`` itself or ``data_dir/tsbad``."""
    return find_folder(
        data_dir,
        "tsbad",
        lambda d: d.is_dir() and any(d.glob("*.csv")),
        "no TSB-AD .csv files here or in {here}; download TSB-AD-U or TSB-AD-M "
        "(https://github.com/TheDatumOrg/TSB-AD) and pass the folder as --data-dir",
    )


def train_end(path: Path) -> int:
    """The training part's length from a TSB-AD file name (its third-last ``_`` token)."""
    tokens = path.stem.split("_")
    token = tokens[-3] if len(tokens) >= 3 else ""
    if not token.isdigit():
        raise DataError(
            f"{path}: the name does not say where training ends; TSB-AD names end in "
            "'_tr_<train end>_1st_<first anomaly>.csv' — rename the file so they do"
        )
    return int(token)


def _read(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    try:
        frame = pd.read_csv(path)
    except Exception as exc:  # ParserError, UnicodeDecodeError, OSError…
        raise DataError(f"{path}: not a readable CSV table ({reason(exc)}); re-export it") from None
    if LABEL not in frame.columns:
        raise DataError(
            f"{path}: no '{LABEL}' column; TSB-AD files end with a 0/1 column named '{LABEL}'"
        )
    sensors = [c for c in frame.columns if c != LABEL]
    text = [c for c in sensors if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        raise DataError(
            f"{path}: column {text[0]!r} is not numeric; every column but '{LABEL}' must hold "
            "numbers (fix or remove it)"
        )
    labels = frame[LABEL].to_numpy()
    if frame[LABEL].isna().any() or not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: column '{LABEL}' must hold only 0 or 1 in every row")
    values = frame[sensors].to_numpy(dtype=np.float64) if sensors else np.empty((len(frame), 0))
    return values, labels.astype(bool), tuple(str(c) for c in sensors)


def load_tsbad_file(path: Path) -> Entity:
    """One TSB-AD file → an :class:`Entity` named after the file."""
    path = Path(path)
    name = check_name(path.stem, str(path))
    end = train_end(path)
    values, labels, sensors = _read(path)
    if not 0 < end < len(values):
        raise DataError(
            f"{path}: the name says training ends at row {end}, but the file has "
            f"{len(values)} rows; the name and the file do not belong together"
        )
    if labels[:end].any():
        first = int(np.argmax(labels))
        raise DataError(
            f"{path}: row {first} is labelled anomalous inside the training part (rows "
            f"0..{end - 1}); training must be normal — fix the labels or the name's '_tr_' index"
        )
    train = check_series(values[:end], f"{path} (training rows 0..{end - 1})")
    test = check_series(values[end:], f"{path} (test rows {end}..{len(values) - 1})")
    return Entity(
        name=name,
        train=train,
        test=test,
        labels=labels[end:],
        intervals=tuple(labels_to_intervals(labels[end:])),
        sensors=sensors,
        warnings=tuple(constant_sensor_warnings(train, str(path))),
    )


def load_tsbad(data_dir: Path, entities: Sequence[str] | None = None) -> Dataset:
    """Every ``*.csv`` of the folder as one entity (or the named ones), sorted by name."""
    root = find_tsbad_dir(Path(data_dir))
    files = {p.stem: p for p in sorted(root.glob("*.csv"))}
    names = list(entities) if entities else list(files)
    unknown = [n for n in names if n not in files]
    if unknown:
        raise DataError(
            f"{root}: no file {unknown[0]}.csv; found {', '.join(list(files)[:5])}"
            + (" …" if len(files) > 5 else "")
        )
    return Dataset("tsbad", tuple(load_tsbad_file(files[n]) for n in names))
