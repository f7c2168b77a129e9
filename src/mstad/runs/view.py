"""Read a finished run folder for reports and the dashboard — nothing but the run folder.

:func:`open_run` checks the folder first and turns every way it can be broken (not a run, still
running, half-written, a corrupt or tampered file, from an older mstad without
``entities.json``) into one :class:`RunError` line that says what to do; the arrays read later
(series, contributions, saved detectors) are checked the same way when they are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mstad.data.entity import Interval
from mstad.errors import MstadError, reason
from mstad.evaluation.labels import segments
from mstad.evaluation.rootcause import rank_sensors as ranked_indices
from mstad.runs.rundir import (
    CONFIG,
    ENTITIES,
    FINISHED,
    METRICS,
    SCORES,
    THRESHOLDS,
    WARNINGS,
    RunFolder,
    read_json,
    read_scores,
    read_yaml,
)

SCORE_COLUMNS = ("entity", "t", "score", "label")


class RunError(MstadError):
    """A folder that is not a finished, readable mstad run."""


class RunningError(RunError):
    """A run that a live process is still filling (``done`` of ``total`` entities)."""

    def __init__(self, message: str, done: int | None, total: int | None):
        super().__init__(message)
        self.done, self.total = done, total


@dataclass(frozen=True)
class HeatMap:
    """A 2-D map: ``matrix``, what it shows, the first step of its columns when the columns
    are time steps (contribution maps), else None, and what its values measure (a colour bar's
    label)."""

    matrix: np.ndarray
    kind: str
    first_step: int | None
    unit: str


#: what to do for a heatmap when a run has none
NO_HEATMAP = (
    "No heatmap: run with --explain (sensors × steps contributions), or --save-models with a "
    "detector that has its own map (mscred, msflow)"
)


@dataclass
class RunView:
    """Lazy, read-only access to one run folder."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    entities_info: dict[str, Any] = field(default_factory=dict)
    _arrays: dict[Path, np.ndarray | None] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{self.path.name} ({self.config.get('dataset')} · {self.config.get('model')})"

    @cached_property
    def scores(self) -> pd.DataFrame:
        return _checked_scores(self.path)

    @cached_property
    def warnings(self) -> list[str]:
        """The run's ``warnings.json`` lines (sensors constant in training, a training split too
        short to hold out validation data, …); none for a run written before the file existed."""
        path = RunFolder(self.path).file(WARNINGS)
        if not path.is_file():
            return []
        lines = _read(path, list, "a list of warning lines")
        return [str(line) for line in lines]

    @cached_property
    def _by_entity(self) -> dict[str, pd.DataFrame]:
        return {str(k): g for k, g in self.scores.groupby("entity", observed=True, sort=False)}

    @property
    def entity_names(self) -> list[str]:
        return list(self._by_entity)

    def score(self, name: str) -> np.ndarray:
        return self._by_entity[name]["score"].to_numpy(dtype=np.float64)

    def labels(self, name: str) -> np.ndarray | None:
        column = self._by_entity[name]["label"]
        return None if column.isna().all() else column.fillna(False).to_numpy(dtype=bool)

    def threshold(self, name: str) -> float | None:
        value = self.thresholds.get(name, {}).get("value")
        return None if value is None else float(value)

    def sensors(self, name: str) -> list[str]:
        info = self.entities_info.get(name)
        if info:
            return list(info["sensors"])
        series = self.series(name)
        return [f"s{i}" for i in range(series.shape[1])] if series is not None else []

    def intervals(self, name: str) -> list[dict[str, Any]]:
        info = self.entities_info.get(name)
        if info:
            return list(info["intervals"])
        labels = self.labels(name)
        if labels is None:
            return []
        return [{"start": int(s), "end": int(e), "causes": []} for s, e in segments(labels)]

    def _array(self, path: Path, name: str, columns: int | None) -> np.ndarray | None:
        """A stored ``[T, D]`` array of entity ``name``, checked against its scores; read once
        (the dashboard keeps its views, so a rerun reads nothing)."""
        if path in self._arrays:
            return self._arrays[path]
        self._arrays[path] = self._read_array(path, name, columns)
        return self._arrays[path]

    def _read_array(self, path: Path, name: str, columns: int | None) -> np.ndarray | None:
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as exc:  # ValueError, OSError, EOFError, SyntaxError…
            raise RunError(f"{path}: not a readable .npy array ({reason(exc)}); re-run") from None
        steps = len(self.score(name))
        if array.ndim != 2 or len(array) != steps or not np.issubdtype(array.dtype, np.number):
            raise RunError(
                f"{path}: expected a numeric [{steps}, sensors] array, got {array.dtype} "
                f"{array.shape}; the file does not belong to this run — re-run"
            )
        if columns is not None and array.shape[1] != columns:
            raise RunError(f"{path}: {array.shape[1]} columns for {columns} sensors; re-run")
        array.flags.writeable = False  # shared by every caller of the view
        return array

    def series(self, name: str) -> np.ndarray | None:
        known = len(self.entities_info[name]["sensors"]) if name in self.entities_info else None
        return self._array(self._folder.series(name), name, known)

    def explain(self, name: str) -> np.ndarray | None:
        known = len(self.entities_info[name]["sensors"]) if name in self.entities_info else None
        return self._array(self._folder.explain(name), name, known)

    @property
    def _folder(self) -> RunFolder:
        return RunFolder(self.path)

    def detector(self, name: str):
        """The saved detector (``--save-models``), or None."""
        path = self._folder.model(name)
        if not (path / "detector.json").is_file():
            return None
        from mstad.models import Detector

        try:
            return Detector.load(path)
        except MstadError as exc:
            raise RunError(str(exc)) from None

    def history(self, name: str) -> list[dict[str, Any]] | None:
        """Loss per training epoch of a deep detector: kept in the entity's part (with or
        without ``--save-models``), else read from the saved detector; None for the others."""
        part = self._folder.part(name, ".json")
        history = read_json(part).get("history") if part.is_file() else None
        if history:
            return history
        detector = self.detector(name)
        return getattr(detector, "history_", None) if detector is not None else None

    def heatmap(
        self, name: str, t: int, half: int = 100, detector: Any = "saved"
    ) -> HeatMap | None:
        """The map behind the score at step ``t``: the saved detector's own (MSCRED residual
        matrix, MSFlow likelihood map), else the stored per-sensor contributions over steps
        ``t - half … t + half`` (sensors × steps); None when the run has neither. ``detector``:
        the entity's detector when the caller holds it already (the dashboard's cache)."""
        detector = self.detector(name) if detector == "saved" else detector
        series = self.series(name)
        if detector is not None and detector.heatmap_kind and series is not None:
            kind = detector.heatmap_kind
            unit = detector.heatmap_unit or kind
            return HeatMap(detector.heatmap(series, t), kind, None, unit)
        explain = self.explain(name)
        if explain is None:
            return None
        lo, hi = max(0, t - half), min(len(explain), t + half + 1)
        kind = f"per-sensor contribution, steps {lo}–{hi - 1}"
        return HeatMap(explain[lo:hi].T, kind, lo, self._explain_unit())

    def _explain_unit(self) -> str:
        """What the run's stored contributions measure: its detector's ``explain_unit``."""
        from mstad.models import Detector, detector_class

        try:
            return detector_class(str(self.config.get("model"))).explain_unit
        except MstadError:  # a run of a detector this version does not know
            return Detector.explain_unit

    def duration(self, name: str, start: int, end: int, detector: Any = "saved") -> str | None:
        """The saved detector's duration class of an event (MSCRED: the longest signature
        window the event breaks), or None when the detector has none or was not saved."""
        detector = self.detector(name) if detector == "saved" else detector
        series = self.series(name)
        if detector is None or series is None or not hasattr(detector, "duration_class"):
            return None
        return detector.duration_class(series, start, end)

    def true_causes(self, name: str, start: int, end: int) -> list[int] | None:
        """Root-cause sensors of the labelled events overlapping ``start``..``end`` (sorted);
        None when no labelled event overlaps."""
        truth = [iv for iv in self.intervals(name) if iv["start"] <= end and iv["end"] >= start]
        if not truth:
            return None
        return sorted({c for iv in truth for c in iv.get("causes", [])})

    def entity_metrics(self, name: str) -> dict[str, Any]:
        return self.metrics.get("entities", {}).get(name, {})

    def entity_table(self) -> pd.DataFrame:
        """One row per entity ranked by its highest score (the seed's ``scores.csv``), with its
        alarm steps and their share of the entity's scored steps at its threshold."""
        rows = []
        for name in self.entity_names:
            score, labels = self.score(name), self.labels(name)
            threshold = self.threshold(name)
            m = self.entity_metrics(name)
            alarms = score > threshold if threshold is not None else None
            rows.append(
                {
                    "entity": name,
                    "max_score": float(score.max()),
                    "alarm_steps": int(alarms.sum()) if alarms is not None else None,
                    # past one half, the data rather than events are the news (run warnings)
                    "alarm_share": float(alarms.mean()) if alarms is not None else None,
                    "true_events": len(self.intervals(name)),
                    "anomalous_steps": int(labels.sum()) if labels is not None else None,
                    "auroc": m.get("auroc"),
                    "ap": m.get("ap"),
                    "vus_pr": m.get("vus_pr"),
                    "f1": m.get("f1"),
                }
            )
        table = pd.DataFrame(rows).sort_values("max_score", ascending=False, kind="stable")
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        table.insert(2, "label", table["true_events"] > 0)  # the entity has true events
        return table.reset_index(drop=True)


def detected_events(score: np.ndarray, threshold: float) -> np.ndarray:
    """``[n, 2]`` inclusive (start, end) of each run of ``score > threshold``."""
    return segments(np.asarray(score) > threshold)


@dataclass(frozen=True)
class Event:
    """A detected event: inclusive ``start``..``end`` and the step and value of its peak."""

    start: int
    end: int
    peak_step: int
    peak: float

    def window(self, length: int, margin: int = 50) -> tuple[int, int]:
        """Steps to show around the event: ``margin`` (or the event's length) either side."""
        pad = max(margin, self.end - self.start)
        return max(0, self.start - pad), min(length, self.end + 1 + pad)


def strongest_events(score: np.ndarray, threshold: float) -> list[Event]:
    """Detected events, strongest peak first (ties: the earlier first)."""
    events = []
    for start, end in detected_events(score, threshold):
        peak_step = int(start + np.argmax(score[start : end + 1]))
        events.append(Event(int(start), int(end), peak_step, float(score[peak_step])))
    return sorted(events, key=lambda e: -e.peak)


def rank_sensors(explain: np.ndarray, start: int, end: int, sensors: list[str]) -> pd.DataFrame:
    """Sensors ranked by their summed contribution over ``[start, end]`` (inclusive), in the
    order root-cause metrics use (:func:`mstad.evaluation.rootcause.rank_sensors`), with names
    and shares."""
    total = explain[start : end + 1].sum(axis=0)
    share = total / total.sum() if total.sum() > 0 else np.zeros_like(total)
    order = ranked_indices(explain, Interval(start, end))
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "sensor": [sensors[i] if i < len(sensors) else f"s{i}" for i in order],
            "index": order,
            "contribution": total[order],
            "share": share[order],
        }
    )


def contributing(ranked: pd.DataFrame, k: int) -> pd.DataFrame:
    """The first ``k`` rows of :func:`rank_sensors` that contributed at all: a sensor with no
    share (a command flag the detector left out) is not a cause to show."""
    return ranked[ranked["share"] > 0].head(k)


def top_sensors(ranked: pd.DataFrame, k: int) -> str:
    """:func:`contributing` as ``name (share %)`` joined by ``; `` (event tables)."""
    shown = contributing(ranked, k)
    return "; ".join(f"{r.sensor} ({100 * r.share:.0f} %)" for r in shown.itertuples())


def pick_sensors(run: RunView, name: str, k: int = 3) -> list[int]:
    """Sensors to draw: up to ``k`` top contributors when the run has explanations (only
    sensors that contributed: a command flag the detector left out is not drawn as a cause),
    else the first ``k``."""
    explain = run.explain(name)
    sensors = run.sensors(name)
    if explain is not None:
        ranked = contributing(rank_sensors(explain, 0, len(explain) - 1, sensors), k)
        if len(ranked):
            return [int(i) for i in ranked["index"]]
    return list(range(min(k, len(sensors))))


def _read(path: Path, kind: type, what: str) -> Any:
    """A JSON or YAML run file that must hold ``kind`` (dict or list)."""
    try:
        data = read_yaml(path) if path.suffix == ".yaml" else read_json(path)
    except MstadError as exc:
        raise RunError(str(exc)) from None
    if path.suffix == ".yaml" and data is None:
        data = kind()
    if not isinstance(data, kind):
        raise RunError(f"{path}: expected {what}, got {type(data).__name__}; re-run")
    return data


def _checked_scores(path: Path) -> pd.DataFrame:
    try:
        frame = read_scores(path)
    except MstadError as exc:
        raise RunError(str(exc)) from None
    where = RunFolder(path).file(SCORES)
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise RunError(f"{where}: column(s) {', '.join(missing)} missing; re-run")
    if (
        not pd.api.types.is_numeric_dtype(frame["score"])
        or not np.isfinite(frame["score"].to_numpy(dtype=np.float64, na_value=np.nan)).all()
    ):
        raise RunError(f"{where}: scores must be finite numbers; re-run")
    if frame.empty:
        raise RunError(f"{where}: holds no scores; re-run")
    label = frame["label"]
    if not (pd.api.types.is_bool_dtype(label) or label.isna().all()):
        raise RunError(f"{where}: column label must be true/false (or empty); re-run")
    for name in frame["entity"].astype(str).unique():
        try:
            RunFolder(path).check_entity(name)
        except MstadError as exc:
            raise RunError(str(exc)) from None
    return frame


def _check_entities(path: Path, info: dict[str, Any]) -> None:
    for name, entry in info.items():
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("sensors"), list)
            and isinstance(entry.get("intervals"), list)
            and all(
                isinstance(iv, dict)
                and type(iv.get("start")) is int
                and type(iv.get("end")) is int
                and 0 <= iv["start"] <= iv["end"]
                and isinstance(iv.get("causes", []), list)
                for iv in entry["intervals"]
            )
        )
        if not ok:
            raise RunError(
                f"{path}: entry {name!r} needs sensors (list) and intervals (list of start/end/"
                "causes); re-run"
            )


def _check_thresholds(path: Path, thresholds: dict[str, Any]) -> None:
    for name, entry in thresholds.items():
        value = entry.get("value") if isinstance(entry, dict) else "missing"
        if value is not None and (type(value) not in (int, float) or not np.isfinite(value)):
            raise RunError(f"{path}: threshold of {name!r} is not a number; re-run")


def open_run(path: Path | str) -> RunView:
    """Check and open a run folder; a broken one is a :class:`RunError` saying what to do."""
    path = Path(path)
    folder = RunFolder(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such folder; pass a folder written by `mstad run`")
    if not folder.file(CONFIG).is_file():
        raise RunError(f"{path}: no {CONFIG}, so not an mstad run folder")
    if folder.is_running():
        beat = folder.running() or {}
        done, total = beat.get("done"), beat.get("total")
        raise RunningError(f"{path}: still running ({done}/{total} entities done)", done, total)
    missing = [name for name in FINISHED if not folder.file(name).is_file()]
    if missing:
        raise RunError(
            f"{path}: half-written run ({', '.join(missing)} missing, "
            f"{len(folder.part_names())} entities finished); "
            f"finish it with `mstad run --resume {path}`"
        )
    config = _read(folder.file(CONFIG), dict, "a mapping of run settings")
    metrics = _read(folder.file(METRICS), dict, "a mapping of metrics")
    thresholds = _read(folder.file(THRESHOLDS), dict, "a mapping of entity to threshold")
    _check_thresholds(folder.file(THRESHOLDS), thresholds)
    info = {}
    if folder.file(ENTITIES).is_file():
        info = _read(folder.file(ENTITIES), dict, "a mapping of entity to sensors and intervals")
        _check_entities(folder.file(ENTITIES), info)
    view = RunView(path, config, metrics, thresholds, info)
    view.scores  # noqa: B018 - read and check now: a broken file is reported at open
    view.warnings  # noqa: B018 - likewise
    return view


def find_runs(paths: list[Path | str]) -> list[Path]:
    """Each path is a run folder or a folder of run folders (newest first)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / CONFIG).is_file():
            found.append(p)
        elif p.is_dir():
            runs = [c for c in p.iterdir() if (c / CONFIG).is_file()]
            found += sorted(runs, key=lambda c: c.name, reverse=True)
    return found
