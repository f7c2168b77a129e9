"""Data for ``mstad fit`` / ``score`` / ``stream``: plain files, prepared folders, raw batches.

Every reader returns a :class:`Table`: float32 values ``[T, D]``, the sensor names in column
order and the key columns (``batch``, ``stage``, ``timestamp``) where the source has them, to be
carried into the scores. Accepted:

* ``.npy`` — a 2-D numeric array (sensors ``s0 … s{D-1}``);
* ``.csv`` / ``.parquet`` — one column per sensor (named in the header), key columns allowed;
  a CSV's separator is the one of ``, ; tab |`` that splits its header into the most fields,
  and in a file not split by commas, columns written with a decimal comma (``1,5``: the
  exports of a spreadsheet set to such a locale) are read as the numbers they are;
  a column of anomaly labels (:data:`LABEL_COLUMNS`, any case: TSB-AD's ``Label``) is never a
  sensor: it is carried beside the scores like a key (and ``mstad fit`` refuses training rows
  labelled anomalous);
* a folder written by ``mstad prepare`` (``manifest.json``) — its train or test split, already
  normalised per stage;
* a raw batch folder (CSV exports of one plant batch) — for a model fitted on a prepared
  folder: read, merged, cut by the schedule and normalised exactly as its training batches
  (:func:`mstad.data.plant.prepare.prepare_batch`).

A plant model (fitted on prepared data) also accepts tables of raw sensor values with a ``stage``
column, normalised with the stored statistics. Nothing is dropped: a non-numeric or non-finite
value is a one-line error naming the file and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mstad.data.checks import check_series
from mstad.data.delimited import (
    DECIMAL_COMMA,
    file_separator,
    formats_reading,
    unnamed_column_error,
)
from mstad.data.plant.loader import KEYS, load_prepared
from mstad.errors import DataError, reason

SUFFIXES = (".npy", ".csv", ".parquet")
#: column names (compared in lower case) that hold anomaly labels, not sensor values
LABEL_COLUMNS = ("label", "labels", "anomaly", "is_anomaly")


def is_label(column: object) -> bool:
    """Whether ``column`` names anomaly labels (``Label``, ``is_anomaly``, …), not a sensor."""
    return str(column).strip().lower() in LABEL_COLUMNS


@dataclass
class Table:
    """Values ``[T, D]`` float32 with sensor names, key columns (or None) and where from;
    ``raw``: for a raw plant batch, its rows before normalisation (to replay with ``stream``);
    ``flags``: the sensors its data set declares as 0/1 command flags (``Entity.flags``);
    ``named``: False for a source without column names (``.npy``: ``s0``, ``s1``, … stand in),
    whose columns a model then takes by position."""

    values: np.ndarray
    sensors: list[str]
    keys: pd.DataFrame | None
    source: str
    raw: pd.DataFrame | None = None
    flags: tuple[int, ...] | None = None
    named: bool = True


def is_prepared(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file()


def read_manifest(path: Path) -> dict:
    try:
        return json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path / 'manifest.json'}: not readable ({reason(exc)})") from None


def read_prepared(path: Path, split: str) -> Table:
    """The ``split`` (train or test) of a prepared folder, with its key columns."""
    entity = load_prepared(path)[read_manifest(path)["name"]]
    keys = pd.read_parquet(path / f"{split}.parquet", columns=list(KEYS))
    return Table(getattr(entity, split), list(entity.sensors), keys, f"{path} ({split})")


def read_frame(path: Path) -> pd.DataFrame:
    """A CSV or parquet file as a frame; unreadable files are one-line errors."""
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        separator = file_separator(path)
        frame = pd.read_csv(path, sep=separator)
    except (OSError, ValueError) as exc:  # missing, EmptyDataError, ParserError, ArrowInvalid
        raise DataError(f"{path}: not a readable {path.suffix[1:]} table ({reason(exc)})") from None
    frame = _without_empty_unnamed(frame, path)
    return frame if separator == "," else _read_decimal_commas(frame)


def _without_empty_unnamed(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` less the columns without a name in the header (pandas calls them ``Unnamed:
    k``) that hold nothing — a spreadsheet's trailing separator; one that holds values is an
    error, since they belong to no sensor."""
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    for name in unnamed:
        filled = frame[name].notna()
        if filled.any():
            row = int(np.flatnonzero(filled.to_numpy())[0])
            column = frame.columns.get_loc(name) + 1
            raise unnamed_column_error(path, column, frame[name].iloc[row], f" at row {row + 1}")
    return frame.drop(columns=unnamed)


def _read_decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every value is a number with a decimal comma, as those numbers (a
    column whose first values are not, such as the timestamps, is passed over at once)."""
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]):
            continue
        head = frame[name].dropna().head(100).astype(str).str.strip()
        if not head.str.fullmatch(DECIMAL_COMMA.pattern).all():
            continue
        text = frame[name].astype("string").str.strip()
        if text.notna().any() and (text.isna() | text.str.fullmatch(DECIMAL_COMMA.pattern)).all():
            numbers = pd.to_numeric(text.str.replace(",", ".", regex=False))
            frame[name] = numbers.astype(np.float64)
    return frame


def frame_values(frame: pd.DataFrame, sensors: list[str], source: str) -> np.ndarray:
    """``frame[sensors]`` as checked float32; a non-numeric column is named."""
    for name in sensors:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            bad = frame[name][pd.to_numeric(frame[name], errors="coerce").isna()].iloc[:1]
            row = f" (row {int(bad.index[0]) + 1}: {bad.iloc[0]!r})" if len(bad) else ""
            fix = "fix the export"
            if _holds_times(frame[name]):
                fix = (
                    "it holds times: name it `timestamp` to carry it beside the scores, or drop it"
                )
            raise DataError(f"{source}: column {name!r} is not numeric{row}; {fix}")
    return check_series(frame[sensors].to_numpy(dtype=np.float64), source).astype(np.float32)


def _holds_times(column: pd.Series) -> bool:
    """Whether the first values of a text column read as dates or times (ISO 8601 or a common
    export's format)."""
    head = column.dropna().astype(str).head(20)
    if head.empty or head.str.fullmatch(r"[+-]?[\d.,eE+-]*").all():
        return False
    iso = pd.to_datetime(head, errors="coerce", format="ISO8601").notna().all()
    return bool(iso or formats_reading(head))


def read_file(path: Path) -> Table:
    """An ``.npy``, ``.csv`` or ``.parquet`` file of sensor values."""
    if path.suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a numpy array file ({reason(exc)})") from None
        if values.ndim != 2 or not np.issubdtype(values.dtype, np.number):
            raise DataError(
                f"{path}: need a numeric 2-D array [steps, sensors], got {values.shape}"
            )
        values = check_series(values.astype(np.float64), str(path)).astype(np.float32)
        sensors = [f"s{i}" for i in range(values.shape[1])]
        return Table(values, sensors, None, str(path), named=False)
    frame = read_frame(path)
    carried = [c for c in frame.columns if c in KEYS or is_label(c)]
    sensors = [str(c) for c in frame.columns if c not in carried]
    if not sensors:
        raise DataError(f"{path}: no sensor columns (only {', '.join(map(str, frame.columns))})")
    keys = frame[carried] if carried else None
    return Table(frame_values(frame, sensors, str(path)), sensors, keys, str(path))


def read_source(path: Path | str, split: str = "test") -> Table:
    """Any accepted source except a raw batch folder (that needs the model's preparation)."""
    path = Path(path)
    if is_prepared(path):
        return read_prepared(path, split)
    if path.is_dir():
        raise DataError(
            f"{path}: a folder without manifest.json; pass a file ({', '.join(SUFFIXES)}), a "
            "folder written by `mstad prepare`, or a raw batch folder with a plant model"
        )
    if path.suffix not in SUFFIXES:
        raise DataError(f"{path}: unknown file type; use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return read_file(path)
