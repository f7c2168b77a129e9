"""One batch folder → one frame on the common time grid, sliced into schedule stages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mstad.data.plant.config import PrepareConfig
from mstad.data.plant.reading import SensorFile
from mstad.data.plant.report import LossReport
from mstad.errors import DataError


def resample(file: SensorFile, config: PrepareConfig) -> pd.DataFrame:
    """Aggregate one file onto the grid ``period`` (bins anchored at the Unix epoch)."""
    return file.frame.resample(config.period, origin="epoch").agg(config.aggregation)


def merge_files(
    files: list[SensorFile],
    sensors: list[str],
    config: PrepareConfig,
    folder: Path,
    report: LossReport,
) -> pd.DataFrame:
    """Outer-join the files' sensors on the grid; a sensor in several files is averaged."""
    grids = [resample(f, config) for f in files]
    columns: dict[str, list[pd.Series]] = {}
    for grid in grids:
        for name in grid.columns:
            columns.setdefault(name, []).append(grid[name])
    index = grids[0].index
    for grid in grids[1:]:
        index = index.union(grid.index)
    merged = {}
    for name in sensors:
        parts = columns.get(name)
        if parts is None:
            if config.missing_sensor == "error":
                raise DataError(
                    f"{folder}: sensor {name!r} is in no file of this batch; add it, list it in "
                    "`exclude_sensors:`, or set `missing_sensor: fill`"
                )
            merged[name] = np.full(len(index), np.nan)
            report.add(
                "filled", f"sensor {name} absent from batch (stage mean)", folder, len(index)
            )
            continue
        if len(parts) == 1:
            merged[name] = parts[0].reindex(index).to_numpy()
        else:
            stacked = np.column_stack([p.reindex(index).to_numpy() for p in parts])
            with np.errstate(all="ignore"):
                merged[name] = np.nanmean(stacked, axis=1)
    return pd.DataFrame(merged, index=index)


def slice_stages(
    frame: pd.DataFrame,
    stages: pd.DataFrame,
    sensors: list[str],
    absent: list[str],
    config: PrepareConfig,
    folder: Path,
    report: LossReport,
) -> pd.DataFrame:
    """Keep rows inside a stage (column ``stage``), fill short gaps, drop the rest (counted)."""
    times = frame.index.asi8
    inside = np.zeros(len(frame), dtype=bool)
    pieces = []
    for row in stages.itertuples(index=False):
        lo = np.searchsorted(times, row.start.value, side="left")
        hi = np.searchsorted(times, row.end.value, side="left")
        if hi <= lo:
            raise DataError(
                f"{folder}: schedule stage {row.stage!r} ({row.start} – {row.end}) has no data in "
                "this batch; check the schedule's times and time zone or remove the stage"
            )
        inside[lo:hi] = True
        piece = frame.iloc[lo:hi]
        present = [s for s in sensors if s not in absent]
        gaps = piece[present].isna().to_numpy().any(axis=1)
        if gaps.any() and config.fill_limit:
            filled = piece[present].ffill(limit=config.fill_limit)
            newly = gaps & ~filled.isna().to_numpy().any(axis=1)
            report.add(
                "filled",
                f"gap ≤ {config.fill_limit} periods (forward fill)",
                folder,
                int(newly.sum()),
            )
            piece = piece.assign(**{s: filled[s] for s in present})
            gaps = piece[present].isna().to_numpy().any(axis=1)
        report.add(
            "dropped",
            f"gap > {config.fill_limit} periods (no value to fill)",
            folder,
            int(gaps.sum()),
        )
        piece = piece[~gaps].copy()
        piece.insert(0, "stage", str(row.stage))
        pieces.append(piece)
    report.add("dropped", "outside the process schedule", folder, int((~inside).sum()))
    return pd.concat(pieces)
