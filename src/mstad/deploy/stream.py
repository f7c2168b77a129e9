"""``mstad stream``: CSV rows in (stdin, or a file that grows), one score line out per step.

Input: a header naming the model's sensors (any order; ``timestamp``, ``batch`` and ``stage``
columns allowed, and for a plant model ``stage`` required: raw values are normalised per stage
with the training statistics; a label column such as TSB-AD's ``Label`` is not read — replaying
a labelled file scores its sensors only), then one row per step. Output:
``step,timestamp,score,alarm`` (``timestamp`` when the input has one), each line once the step's
score is final
(:class:`~mstad.models.streaming.Monitor`; a window detector's delay is its longest window), the
rest when the input ends. Memory is bounded by the monitor's budget, not the stream's length.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from mstad.data.delimited import decimal_comma_number, separator_of, unnamed_column_error
from mstad.data.plant.loader import KEYS
from mstad.data.plant.normalize import StageNormalizer
from mstad.deploy.inputs import is_label
from mstad.deploy.model import DeployedModel
from mstad.errors import DataError


def follow(path: Path, poll_s: float = 0.5, idle_exit_s: float | None = None) -> Iterator[str]:
    """Lines of ``path`` as it grows (a partial last line waits for its newline); ends after
    ``idle_exit_s`` seconds without new data (never when None)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file to follow")
    with path.open(encoding="utf-8", newline="") as handle:
        partial, idle = "", 0.0
        while True:
            line = handle.readline()
            if line:
                idle = 0.0
                partial += line
                if partial.endswith("\n"):
                    yield partial
                    partial = ""
                continue
            if idle_exit_s is not None and idle >= idle_exit_s:
                if partial:
                    yield partial
                return
            time.sleep(poll_s)
            idle += poll_s


def stream_rows(
    model: DeployedModel,
    lines: Iterable[str],
    write: Callable[[str], None],
    chunk: int = 1,
    source: str = "stdin",
    max_past_windows: int | None = None,
) -> int:
    """Score CSV ``lines`` with ``model``; ``write`` gets each output line. Returns the steps.
    Fields are split as ``mstad score`` splits a file (:func:`~mstad.data.delimited.separator_of`
    the header; decimal commas read where that is not a comma)."""
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        raise DataError(f"{source}: empty input; the first line must name the sensor columns")
    separator = separator_of(first)
    reader = csv.reader(itertools.chain([first], lines), delimiter=separator)
    header = next(reader)
    header = [h.strip() for h in header]
    unnamed = [i for i, h in enumerate(header) if not h]  # a trailing separator: must stay empty
    model.check_sensors([h for h in header if h and h not in KEYS and not is_label(h)], source)
    columns = [header.index(s) for s in model.sensors]
    plant = model.preparation["kind"] == "plant"
    if plant and "stage" not in header:
        raise DataError(f"{source}: a plant model needs a `stage` column to normalise raw values")
    normalizer = (
        StageNormalizer.from_dict(model.preparation["normalization"], model.sensors)
        if plant
        else None
    )
    stage_col = header.index("stage") if "stage" in header else None
    time_col = header.index("timestamp") if "timestamp" in header else None
    monitor = model.monitor(max_past_windows)  # refuses a detector that cannot stream
    write("step,timestamp,score,alarm" if time_col is not None else "step,score,alarm")
    stamps: deque[str] = deque()  # timestamps of steps not yet scored: at most the delay
    rows: list[list[float]] = []
    stages: list[str] = []

    def emit(scores: np.ndarray) -> None:
        first = monitor.steps_out - len(scores)
        for k, (score, alarm) in enumerate(zip(scores, monitor.alarms(scores), strict=True)):
            when = f"{stamps.popleft()}," if time_col is not None else ""
            write(f"{first + k},{when}{score:.6f},{int(alarm)}")

    def push() -> None:
        values = np.asarray(rows, dtype=np.float64)
        if normalizer is not None:
            values = _normalise(normalizer, values, stages, model.sensors, source)
        rows.clear()
        stages.clear()
        emit(monitor.update(values))

    for line_no, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != len(header):
            raise DataError(
                f"{source} line {line_no}: {len(record)} fields, header has {len(header)}"
            )
        filled = next((i for i in unnamed if record[i].strip()), None)
        if filled is not None:
            raise unnamed_column_error(f"{source} line {line_no}", filled + 1, record[filled])
        try:
            rows.append([_number(record[i], separator) for i in columns])
        except ValueError:
            bad = next(i for i in columns if not _is_number(record[i], separator))
            raise DataError(
                f"{source} line {line_no}: column {header[bad]!r} value {record[bad]!r} is not a "
                "number; fix the row (missing values must be filled before scoring)"
            ) from None
        if stage_col is not None:
            stages.append(record[stage_col])
        if time_col is not None:
            stamps.append(record[time_col])
        if len(rows) >= chunk:
            push()
    if rows:
        push()
    emit(monitor.flush())
    return monitor.steps_in


def _number(text: str, separator: str) -> float:
    """A field as ``float`` reads it, or written with a decimal comma in a file not split by
    commas (as ``mstad score`` reads that file); else ``ValueError``."""
    try:
        return float(text)
    except ValueError:
        value = decimal_comma_number(text) if separator != "," else None
        if value is None:
            raise
        return value


def _is_number(text: str, separator: str) -> bool:
    try:
        _number(text, separator)
    except ValueError:
        return False
    return True


def _normalise(normalizer, values, stages, sensors, source) -> np.ndarray:
    import pandas as pd

    frame = pd.DataFrame(values, columns=sensors)
    frame["stage"] = stages
    try:
        return normalizer.transform(frame, sensors)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
