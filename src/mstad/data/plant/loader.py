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

from mstad.data.checks import check_series
from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels
from mstad.data.plant.prepare import FORMAT
from mstad.errors import DataError


def _read(path: Path, sensors: list[str], rows: int) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path}: missing; re-run `mstad prepare` for this folder")
    frame = pd.read_parquet(path, columns=sensors)
    if len(frame) != rows:
        raise DataError(
            f"{path}: {len(frame)} rows but manifest.json says {rows}; re-run `mstad prepare`"
        )
    return check_series(frame.to_numpy(dtype=np.float32), str(path))


def load_prepared(data_dir: Path | str, entities: Sequence[str] | None = None) -> Dataset:
    """Load a prepared folder; a missing or foreign folder is a one-line :class:`DataError`."""
    data_dir = Path(data_dir)
    path = data_dir / "manifest.json"
    if not path.is_file():
        raise DataError(
            f"{data_dir}: no manifest.json, so not a prepared data set; "
            "run `mstad prepare CONFIG.yaml` and pass its output_dir"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    sensors = manifest["sensors"]
    train = _read(data_dir / "train.parquet", sensors, manifest["rows"]["train"])
    test = _read(data_dir / "test.parquet", sensors, manifest["rows"]["test"])
    intervals, labels = (), None
    if manifest.get("labelled"):
        table = pd.read_csv(data_dir / "labels.csv", dtype={"causes": str}, keep_default_na=False)
        intervals = tuple(
            Interval(
                int(r.start),
                int(r.end),
                tuple(sensors.index(c) for c in r.causes.split(";")) if r.causes else None,
            )
            for r in table.itertuples(index=False)
        )
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
