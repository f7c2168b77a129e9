"""``mstad score``: scores, alarms at the fitted threshold and events with their top sensors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mstad.atomic import atomic_path, write_text
from mstad.deploy.inputs import Table
from mstad.deploy.model import DeployedModel
from mstad.runs.view import rank_sensors, strongest_events, top_sensors

#: sensors named per event
TOP_SENSORS = 3


@dataclass
class Scored:
    """Per-step scores (``step``, key columns, ``score``, ``alarm``) and the detected events
    (in time order: ``start``, ``end``, ``steps``, ``peak_step``, ``peak``, ``top_sensors``)."""

    steps: pd.DataFrame
    events: pd.DataFrame
    threshold: float
    rows: pd.DataFrame | None = None  # a raw batch's rows before normalisation


def score_table(model: DeployedModel, table: Table, explain: bool = True) -> Scored:
    scores = model.score(table.values)
    threshold = model.threshold
    steps = pd.DataFrame({"step": np.arange(len(scores))})
    if table.keys is not None:
        for column in table.keys.columns:
            steps[column] = table.keys[column].to_numpy()
    steps["score"], steps["alarm"] = scores, scores > threshold
    events = sorted(strongest_events(scores, threshold), key=lambda e: e.start)
    contributions = (
        model.detector.explain(table.values)
        if explain and events and model.detector.supports_explain
        else None
    )
    rows = []
    for event in events:
        row = {
            "start": event.start,
            "end": event.end,
            "steps": event.end - event.start + 1,
            "peak_step": event.peak_step,
            "peak": event.peak,
        }
        if table.keys is not None and "timestamp" in table.keys.columns:
            row["start_time"] = table.keys["timestamp"].iloc[event.start]
            row["end_time"] = table.keys["timestamp"].iloc[event.end]
        if contributions is not None:
            ranked = rank_sensors(contributions, event.start, event.end, table.sensors)
            row["top_sensors"] = top_sensors(ranked, TOP_SENSORS)
        rows.append(row)
    columns = ["start", "end", "steps", "peak_step", "peak"]
    events_frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else columns)
    return Scored(steps, events_frame, threshold, table.raw)


def events_to_show(events: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """The events a terminal table shows: all of them up to ``limit``, else the ``limit`` with
    the highest peaks (ties: the earlier), still in time order — a fault among many short
    blips must not fall below the fold."""
    if len(events) <= limit:
        return events
    return events.sort_values("peak", ascending=False, kind="stable").head(limit).sort_index()


def write_scored(scored: Scored, out: Path, fmt: str = "csv") -> list[Path]:
    """``out/scores.<fmt>``, ``out/events.csv`` and, for a raw batch, ``out/rows.csv`` (its
    rows before normalisation: replay them with ``mstad stream``); each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    scores_path = out / f"scores.{fmt}"
    if fmt == "parquet":
        with atomic_path(scores_path) as tmp:
            scored.steps.to_parquet(tmp, index=False)
    else:
        write_text(scores_path, scored.steps.to_csv(index=False))
    events_path = out / "events.csv"
    write_text(events_path, scored.events.to_csv(index=False))
    written = [scores_path, events_path]
    if scored.rows is not None:
        write_text(out / "rows.csv", scored.rows.drop(columns="batch").to_csv(index=False))
        written.append(out / "rows.csv")
    return written
