"""Data set ``csv``: a folder written by ``mstad prepare`` → one :class:`Entity`.

Batches are concatenated in the manifest's order (train batches → ``train``, test batches →
``test``); windows may therefore span a batch boundary, as they would in the plant's own record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mstad.data.checks import check_name, check_series
from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels
from mstad.data.plant.prepare import FORMAT
from mstad.errors import DataError, reason

#: columns of the prepared parquet files besides the sensors
KEYS = ("batch", "stage", "timestamp")
_REDO = "re-run `mstad prepare` for this folder"


def _read(path: Path, sensors: list[str], rows: int) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path}: missing; {_REDO}")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # ArrowInvalid, OSError…
        raise DataError(f"{path}: not a readable parquet file ({reason(exc)}); {_REDO}") from None
    found = [c for c in frame.columns if c not in KEYS]
    if found != sensors:
        differ = sorted(set(found) ^ set(sensors))[:3]
        raise DataError(
            f"{path}: its sensor columns differ from manifest.json's "
            f"({', '.join(differ) or 'in order'}); {_REDO}"
        )
    frame = frame[sensors]
    if len(frame) != rows:
        raise DataError(
            f"{path}: {len(frame)} rows but manifest.json says {rows}; re-run `mstad prepare`"
        )
    return check_series(frame.to_numpy(dtype=np.float32), str(path))


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not readable JSON ({reason(exc)}); {_REDO}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise DataError(f"{path}: format {found!r}, expected {FORMAT!r}; {_REDO}")
    sensors, rows = manifest.get("sensors"), manifest.get("rows")
    if (
        not isinstance(sensors, list)
        or not sensors
        or not all(isinstance(s, str) for s in sensors)
        or len(set(sensors)) != len(sensors)
        or not isinstance(rows, dict)
        or not all(type(rows.get(k)) is int and rows[k] >= 0 for k in ("train", "test"))
    ):
        raise DataError(f"{path}: needs sensors (distinct names) and rows.train/test; {_REDO}")
    check_name(manifest.get("name"), f"{path}: name")
    return manifest


def _labels(path: Path, sensors: list[str], n_test: int) -> tuple[Interval, ...]:
    try:
        table = pd.read_csv(path, dtype={"causes": str}, keep_default_na=False)
    except (OSError, ValueError) as exc:  # missing file, EmptyDataError, ParserError
        raise DataError(f"{path}: not readable ({reason(exc)}); {_REDO}") from None
    if not {"start", "end", "causes"} <= set(table.columns):
        raise DataError(f"{path}: needs the columns start, end, causes; {_REDO}")
    intervals = []
    for line, row in enumerate(table.itertuples(index=False), start=2):
        causes = [c for c in str(row.causes).split(";") if c]
        unknown = [c for c in causes if c not in sensors]
        try:
            start, end = int(row.start), int(row.end)
        except (TypeError, ValueError):
            start = end = -1
        if unknown or not 0 <= start <= end < n_test:
            what = (
                f"cause {unknown[0]!r} is not a sensor"
                if unknown
                else f"start..end must lie in 0..{n_test - 1}"
            )
            raise DataError(f"{path} line {line}: {what}; {_REDO}")
        intervals.append(Interval(start, end, tuple(sensors.index(c) for c in causes) or None))
    return tuple(intervals)


def load_prepared(data_dir: Path | str, entities: Sequence[str] | None = None) -> Dataset:
    """Load a prepared folder; a missing or foreign folder is a one-line :class:`DataError`."""
    data_dir = Path(data_dir)
    path = data_dir / "manifest.json"
    if not path.is_file():
        raise DataError(
            f"{data_dir}: no manifest.json, so not a prepared data set; "
            "run `mstad prepare CONFIG.yaml` and pass its output_dir"
        )
    manifest = _manifest(path)
    sensors = manifest["sensors"]
    train = _read(data_dir / "train.parquet", sensors, manifest["rows"]["train"])
    test = _read(data_dir / "test.parquet", sensors, manifest["rows"]["test"])
    intervals, labels = (), None
    if manifest.get("labelled"):
        intervals = _labels(data_dir / "labels.csv", sensors, len(test))
        labels = intervals_to_labels(intervals, len(test))
    entity = Entity(
        name=manifest["name"],
        train=train,
        test=test,
        labels=labels,
        intervals=intervals,
        sensors=tuple(sensors),
        warnings=tuple(manifest.get("warnings", ())),
    )
    return Dataset("csv", (entity,)).select(entities)
