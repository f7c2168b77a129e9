"""The process schedule: which stage each batch is in, from when to when (end exclusive)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from mstad.data.delimited import formats_reading, read_text_table
from mstad.errors import DataError

COLUMNS = ("batch", "stage", "start", "end")


def to_utc(values: pd.Series, column: str, path: Path, timezone: str) -> pd.Series:
    """ISO 8601 times (naive ones in ``timezone``) as UTC — or, where every value reads in
    exactly one common export format (``31.01.2024 08:00:00``;
    :data:`~mstad.data.delimited.COMMON_FORMATS`), in that
    one; a bad one is a line naming it."""
    try:
        parsed = pd.to_datetime(values.astype(str), format="ISO8601")
    except (ValueError, TypeError) as exc:
        fits = formats_reading(values, rows=len(values))
        if len(fits) == 1:
            parsed = pd.to_datetime(values.astype(str).str.strip(), format=fits[0])
        else:
            reason = str(exc).splitlines()[0]
            both = f"; they read as {' and as '.join(fits)}" if fits else ""
            raise DataError(
                f"{path}: column {column!r} holds a time that is not ISO 8601 ({reason}{both}); "
                "write times as 2024-01-31T08:00:00[+01:00]"
            ) from None
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize(timezone)
    return parsed.dt.tz_convert("UTC").dt.as_unit("ns")


def read_schedule(path: Path, timezone: str = "UTC") -> pd.DataFrame:
    """Rows ``batch, stage, start, end`` (UTC); errors on missing columns or overlaps."""
    if not path.is_file():
        raise DataError(f"{path}: schedule file not found; fix `schedule:` in the prepare config")
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("stages", data)
        frame = pd.DataFrame(data)
    else:
        frame = read_text_table(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: schedule lacks column(s) {', '.join(missing)}; "
            f"it needs {', '.join(COLUMNS)} (end exclusive)"
        )
    if frame.empty:
        raise DataError(f"{path}: schedule has no rows")
    frame = frame[list(COLUMNS)].copy()
    frame["batch"] = frame["batch"].astype(str).str.strip()
    frame["stage"] = frame["stage"].astype(str).str.strip()
    for column in ("start", "end"):
        frame[column] = to_utc(frame[column], column, path, timezone)
    reversed_ = frame["end"] <= frame["start"]
    if reversed_.any():
        row = frame[reversed_].iloc[0]
        raise DataError(
            f"{path}: stage {row.stage!r} of batch {row.batch!r} ends ({row.end}) before it "
            "starts; swap start and end"
        )
    frame = frame.sort_values(["batch", "start"], kind="stable").reset_index(drop=True)
    for batch, rows in frame.groupby("batch", sort=False):
        overlap = rows["start"].to_numpy()[1:] < rows["end"].to_numpy()[:-1]
        if overlap.any():
            k = int(overlap.argmax())
            a, b = rows.iloc[k], rows.iloc[k + 1]
            raise DataError(
                f"{path}: stages {a.stage!r} and {b.stage!r} of batch {batch!r} overlap "
                f"({b.start} < {a.end}); a time step belongs to one stage only"
            )
    return frame
