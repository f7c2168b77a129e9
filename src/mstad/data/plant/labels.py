"""Anomaly labels of test batches → intervals on the prepared test rows.

Two formats: ``intervals`` (CSV ``batch,start,end[,causes]``, times end-exclusive, causes as
sensor names separated by ``;``) and ``mscred`` (the authors' ``test_anomaly.csv``: headerless rows
``end,r1,r2,r3`` with ``end`` an exclusive row index into the prepared test series, 0-based sensor
indices, spans cycling through ``mscred_spans``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mstad.data.delimited import read_text_table
from mstad.data.entity import Interval
from mstad.data.plant.schedule import to_utc
from mstad.errors import DataError


def _causes(text, sensors: list[str], path: Path, line: int) -> tuple[int, ...] | None:
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return None
    out = []
    for name in str(text).split(";"):
        name = name.strip()
        if name not in sensors:
            raise DataError(
                f"{path}: line {line}: cause {name!r} is not a prepared sensor; "
                "use sensor names without units, separated by ';'"
            )
        out.append(sensors.index(name))
    return tuple(out)


def interval_labels(
    path: Path, test: pd.DataFrame, sensors: list[str], timezone: str
) -> list[Interval]:
    """Map ``batch,start,end[,causes]`` rows onto row indices of the prepared ``test`` frame."""
    frame = read_text_table(path)
    missing = [c for c in ("batch", "start", "end") if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: labels lack column(s) {', '.join(missing)}")
    times = {}
    for column in ("start", "end"):
        parsed = to_utc(frame[column], column, path, timezone)
        times[column] = parsed.astype("int64").to_numpy()
    stamps = pd.DatetimeIndex(test["timestamp"]).as_unit("ns").asi8
    batches = test["batch"].to_numpy()
    intervals = []
    for k, row in frame.iterrows():
        line = k + 2
        rows = np.flatnonzero(
            (batches == row["batch"]) & (stamps >= times["start"][k]) & (stamps < times["end"][k])
        )
        if rows.size == 0:
            raise DataError(
                f"{path}: line {line}: label of batch {row['batch']!r} "
                f"({row['start']} – {row['end']}) covers no prepared test row; "
                "check batch name and times"
            )
        causes = _causes(row.get("causes"), sensors, path, line)
        intervals.append(Interval(int(rows[0]), int(rows[-1]), causes))
    return intervals


def mscred_labels(path: Path, n_test: int, n_sensors: int, spans: list[int]) -> list[Interval]:
    """The authors' ``end,r1,r2,r3`` rows; ``end`` is exclusive, spans cycle per row."""
    try:
        rows = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path}: not integer rows end,r1,r2,r3 ({exc})") from None
    intervals = []
    for k, (end, *causes) in enumerate(rows.tolist()):
        start = end - spans[k % len(spans)]
        if start < 0 or end > n_test:
            raise DataError(
                f"{path}: line {k + 1}: anomaly [{start}, {end}) lies outside the "
                f"{n_test} prepared test rows"
            )
        bad = [c for c in causes if not 0 <= c < n_sensors]
        if bad:
            raise DataError(
                f"{path}: line {k + 1}: cause index {bad[0]} outside 0..{n_sensors - 1} "
                "(indices are 0-based)"
            )
        intervals.append(Interval(start, end - 1, tuple(causes) or None))
    return intervals
