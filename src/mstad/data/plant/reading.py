"""Read one raw sensor CSV into a frame on UTC time, checking everything a plant file gets wrong.

The header holds a timestamp column and sensor columns, optionally with a unit in brackets
(``temp_01 [degC]`` or ``temp_01 (degC)``); the unit is split off so that files can be matched by
sensor name and a sensor recorded in two units is caught.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from mstad.data.checks import FLOAT32_MAX
from mstad.data.delimited import (
    DECIMAL_COMMA,
    DECIMAL_POINT,
    EPOCH_UNITS,
    SEPARATORS,
    formats_reading,
    unnamed_column_error,
)
from mstad.data.plant.config import PrepareConfig
from mstad.data.plant.report import LossReport
from mstad.errors import DataError

_UNIT = re.compile(r"^(?P<name>.*?)\s*(?:\[(?P<a>[^\]]*)\]|\((?P<b>[^)]*)\))\s*$")
#: Line number in the file of data row 0 (the header is line 1).
_FIRST_LINE = 2


def split_unit(header: str) -> tuple[str, str | None]:
    """``"temp [degC]"`` → ``("temp", "degC")``; no brackets → ``(header, None)``."""
    match = _UNIT.match(header.strip())
    if not match:
        return header.strip(), None
    unit = match["a"] if match["a"] is not None else match["b"]
    return match["name"].strip(), unit.strip()


@dataclass
class SensorFile:
    """One parsed file: float64 sensor columns on a UTC ``DatetimeIndex``, and their units."""

    path: Path
    frame: pd.DataFrame
    units: dict[str, str | None]


def _header(path: Path, encoding: str, delimiter: str = ",") -> list[str]:
    with path.open("rb") as handle:
        raw = handle.readline()
    try:
        line = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: header is not valid {encoding} (byte {exc.start}); re-save the file as "
            "UTF-8 or set `encoding:` (e.g. latin-1) in the prepare config"
        ) from None
    except LookupError:
        raise DataError(f"{path}: unknown encoding {encoding!r}; fix `encoding:`") from None
    line = line.lstrip("\ufeff").rstrip("\r\n")
    return [h.strip() for h in next(csv.reader([line], delimiter=delimiter), [])]


def _separator_hint(path: Path, config: PrepareConfig) -> str:
    """Where the header splits into a timestamp column on another separator than the configured
    one: the key to set (``''`` when no separator explains the header)."""
    for separator, name in SEPARATORS.items():
        if separator == config.delimiter:
            continue
        if config.timestamp_column in _header(path, config.encoding, separator):
            return f"; the header splits on {name}: set `delimiter: {name}`"
    return ""


def _value_hint(message: str, config: PrepareConfig) -> str:
    """A conversion error on a number written with the other decimal mark: the key to set."""
    found = re.search(r"invalid value '([^']*)'", message)
    value = found.group(1).strip() if found else ""
    if config.decimal == "." and DECIMAL_COMMA.fullmatch(value):
        return "; the values use a decimal comma: set `decimal: ','` (and `delimiter: ';'`)"
    if config.decimal == "," and DECIMAL_POINT.fullmatch(value):
        return "; the values use a decimal point: set `decimal: '.'`"
    return "; fix the value or the file's encoding (`encoding:`)"


def _parse_time(raw: pd.Series, path: Path, config: PrepareConfig) -> pd.DatetimeIndex:
    column = config.timestamp_column
    missing = raw.isna() | (raw.str.strip() == "")
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(
            f"{path}: column {column!r} is empty at line {row + _FIRST_LINE} "
            f"({int(missing.sum())} rows); every row needs a timestamp"
        )
    fmt = config.timestamp_format or "ISO8601"
    try:
        if fmt in EPOCH_UNITS:  # seconds or milliseconds since 1970-01-01 UTC
            seconds = pd.to_numeric(raw.str.strip(), errors="coerce")
            parsed = pd.to_datetime(seconds, unit=EPOCH_UNITS[fmt], utc=True, errors="coerce")
        else:
            parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    except (ValueError, TypeError) as exc:  # e.g. a file mixing naive and offset timestamps
        raise DataError(
            f"{path}: column {column!r} mixes timestamps with and without UTC offset ({exc}); "
            "write them all one way"
        ) from None
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}: column {column!r}: cannot parse {raw.iloc[row]!r} at line "
            f"{row + _FIRST_LINE} as {fmt}; set `timestamp_format:` in the prepare config"
            f"{_format_hint(raw)}"
        )
    index = pd.DatetimeIndex(parsed)
    if index.tz is None:
        try:
            index = index.tz_localize(config.timezone, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo errors differ by version
            raise DataError(
                f"{path}: naive timestamps cannot be placed in zone {config.timezone!r} ({exc}); "
                "write UTC offsets into the file or fix `timezone:`"
            ) from None
    return index.tz_convert("UTC").as_unit("ns")


def _format_hint(raw: pd.Series) -> str:
    """The common export formats that read the first timestamps, as a suggestion (``''`` when
    none does; day-first and month-first both named where both read them)."""
    fits = formats_reading(raw)
    head = raw.str.strip().head(200)
    for unit, digits in (("unix_s", 10), ("unix_ms", 13)):  # epoch times of this century
        if head.str.fullmatch(rf"\d{{{digits}}}(\.\d*)?").all():
            fits.append(unit)
    if not fits:
        return ""
    return " (the first rows read as " + " or as ".join(f"`{f}`" for f in fits) + ")"


def _check_monotonic(index: pd.DatetimeIndex, path: Path) -> None:
    values = index.asi8
    back = np.flatnonzero(values[1:] < values[:-1])
    if back.size:
        row = int(back[0]) + 1
        raise DataError(
            f"{path}: time goes backwards at line {row + _FIRST_LINE} "
            f"({index[row - 1]} → {index[row]}); sort the file by time"
        )


def _resolve_duplicates(
    frame: pd.DataFrame, path: Path, config: PrepareConfig, report: LossReport
) -> pd.DataFrame:
    dup = frame.index.duplicated(keep="first")
    if not dup.any():
        return frame
    n = int(dup.sum())
    if config.duplicates == "error":
        row = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"{path}: {n} repeated timestamps, first {frame.index[row]} at line "
            f"{row + _FIRST_LINE}; remove them or set `duplicates:` to mean, first or last"
        )
    report.add("dropped", f"repeated timestamp (merged: {config.duplicates})", path, n)
    if config.duplicates == "mean":
        return frame.groupby(level=0, sort=False).mean()
    keep = "first" if config.duplicates == "first" else "last"
    return frame[~frame.index.duplicated(keep=keep)]


def _check_finite(values: np.ndarray, sensors: list[str], path: Path) -> None:
    """Empty cells (NaN) are gaps for alignment; ``inf`` or a value beyond float32 is an error
    naming the line and the sensor (it would make the statistics infinite)."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > FLOAT32_MAX)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {row + _FIRST_LINE}, sensor {sensors[col]!r}: value "
            f"{float(values[row, col])!r} is infinite or beyond ±3.4e38 ({int(bad.sum())} such "
            "cells); fix or blank the cell"
        )


def _check_unnamed_empty(table: pa.Table, unnamed: list[str], path: Path) -> None:
    """A column without a name in the header must hold nothing (a trailing separator):
    values there belong to no sensor, and guessing one would be silent."""
    for field in unnamed:
        cells = table.column(field).to_pandas()
        filled = cells.notna() & (cells.astype(str).str.strip() != "")
        if filled.any():
            row = int(np.flatnonzero(filled.to_numpy())[0])
            column = field.strip("<>").split()[-1]
            raise unnamed_column_error(path, column, cells[row], f" at line {row + _FIRST_LINE}")


def read_sensor_file(path: Path, config: PrepareConfig, report: LossReport) -> SensorFile:
    """Parse, validate and time-index one CSV; raises :class:`DataError` naming file and fix."""
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file; remove it or re-export it")
    headers = _header(path, config.encoding, config.delimiter)
    column = config.timestamp_column
    if column not in headers:
        fix = _separator_hint(path, config) or "; set `timestamp_column:` in the prepare config"
        raise DataError(
            f"{path}: no timestamp column {column!r} (columns: {', '.join(headers[:6])}"
            f"{' …' if len(headers) > 6 else ''}){fix}"
        )
    # a field with no name (a spreadsheet's trailing separator) gets one, to be checked empty
    fields = [h or f"<unnamed {i + 1}>" for i, h in enumerate(headers)]
    unnamed = [f for f, h in zip(fields, headers, strict=True) if not h]
    names, units = {}, {}
    for header in headers:
        if header == column or not header:
            continue
        name, unit = split_unit(header)
        if name in units:
            raise DataError(f"{path}: sensor {name!r} appears twice in the header; rename one")
        names[header], units[name] = name, unit
    types = {h: pa.float64() for h in names} | {f: pa.string() for f in [column, *unnamed]}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=config.encoding, column_names=fields, skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(delimiter=config.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, decimal_point=config.decimal
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        message = str(exc).splitlines()[0]
        raise DataError(f"{path}: {message}{_value_hint(message, config)}") from None
    if table.num_rows == 0:
        raise DataError(f"{path}: header but no data rows; remove the file or re-export it")
    _check_unnamed_empty(table, unnamed, path)
    index = _parse_time(table.column(column).to_pandas(), path, config)
    _check_monotonic(index, path)
    values = np.column_stack([table.column(h).to_numpy(zero_copy_only=False) for h in names])
    _check_finite(values, list(names.values()), path)
    frame = pd.DataFrame(values, index=index, columns=list(names.values()))
    empty = int(np.isnan(values).any(axis=1).sum())
    report.add("noted", "rows with empty cells (filled or dropped after alignment)", path, empty)
    frame = _resolve_duplicates(frame, path, config, report)
    frame = frame.drop(columns=[c for c in config.exclude_sensors if c in frame.columns])
    return SensorFile(path, frame, {k: v for k, v in units.items() if k in frame.columns})
