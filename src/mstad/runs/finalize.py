"""Per-entity parts on disk, and turning them into the run's scores, metrics and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mstad.atomic import save_npy, save_npz
from mstad.data import Dataset
from mstad.errors import MstadError, reason
from mstad.evaluation import aggregate
from mstad.evaluation.rootcause import root_cause_metrics
from mstad.models.calibration import in_sample_warning
from mstad.models.thresholds import alarm_share_warning
from mstad.runs.rundir import (
    CALIBRATION,
    ENTITIES,
    METRICS,
    SCORES,
    THRESHOLDS,
    TIMING,
    WARNINGS,
    RunFolder,
    read_json,
    write_json,
    write_scores,
)


@dataclass
class EntityResult:
    name: str
    scores: np.ndarray
    labels: np.ndarray | None
    explain: np.ndarray | None
    fit_s: float
    score_s: float
    calibration: dict[str, Any]
    threshold: dict[str, Any]
    #: loss per training epoch of a deep detector (``Detector.history_``); None for the others
    #: and in parts written before it was kept
    history: list[dict[str, Any]] | None = None


def save_part(run_dir: Path, result: EntityResult) -> None:
    """Arrays first, then the JSON whose presence marks the entity as finished; each file
    written atomically."""
    folder = RunFolder(run_dir)
    folder.parts.mkdir(exist_ok=True)
    arrays = {"scores": result.scores}
    if result.labels is not None:
        arrays["labels"] = result.labels
    save_npz(folder.part(result.name, ".npz"), **arrays)
    if result.explain is not None:
        folder.explain(result.name).parent.mkdir(exist_ok=True)
        save_npy(folder.explain(result.name), result.explain.astype(np.float32))
    meta = {k: v for k, v in asdict(result).items() if k not in ("scores", "labels", "explain")}
    write_json(folder.part(result.name, ".json"), meta)


def load_part(run_dir: Path, name: str) -> EntityResult:
    """One finished entity; a part that is missing, cut short or inconsistent is a
    :class:`MstadError` (the runner then treats the entity as unfinished)."""
    folder = RunFolder(run_dir)
    try:
        meta = read_json(folder.part(name, ".json"))
        with np.load(folder.part(name, ".npz"), allow_pickle=False) as arrays:
            scores = np.asarray(arrays["scores"], dtype=np.float64)
            labels = arrays.get("labels")
        explain_file = folder.explain(name)
        explain = np.load(explain_file, allow_pickle=False) if explain_file.is_file() else None
        result = EntityResult(scores=scores, labels=labels, explain=explain, **meta)
    except MstadError:
        raise
    except Exception as exc:  # JSONDecodeError, BadZipFile, KeyError, TypeError (wrong keys)…
        raise MstadError(f"{folder.part(name, '.json')}: unreadable part ({reason(exc)})") from None
    mismatch = labels is not None and labels.shape != scores.shape
    if result.name != name or scores.ndim != 1 or mismatch:
        raise MstadError(f"{folder.part(name, '.json')}: part does not match its entity {name!r}")
    if explain is not None and (explain.ndim != 2 or len(explain) != len(scores)):
        raise MstadError(f"{explain_file}: {explain.shape} contributions for {len(scores)} steps")
    return result


def scores_frame(results: list[EntityResult]) -> pd.DataFrame:
    frames = []
    for r in results:
        n = len(r.scores)
        labels = r.labels if r.labels is not None else [pd.NA] * n
        frames.append(
            pd.DataFrame(
                {
                    "entity": r.name,
                    "t": np.arange(n, dtype=np.int32),
                    "score": r.scores,
                    "label": pd.array(labels, dtype="boolean"),
                    "split": "test",
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["entity"] = frame["entity"].astype("category")
    return frame


def run_warnings(dataset: Dataset, results) -> list[str]:
    """What ``warnings.json`` lists, the lines about results first (a data set can bring one
    line per entity, e.g. SMAP's 54 of constant command flags, which would bury them): one per
    entity that alarms on most of its test steps (:func:`alarm_share_warning`), one per entity
    whose training split was too short to hold out a validation tail
    (:func:`in_sample_warning`), then the data set's own warnings."""
    out = []
    for r in results:
        line = alarm_share_warning(r.name, r.scores, r.threshold["value"])
        if line is not None:
            out.append(line)
    for r in results:
        if r.calibration.get("fitted_on") == "train":
            out.append(in_sample_warning(r.name, len(dataset[r.name].train)))
    return out + [w for e in dataset for w in e.warnings]


def finalize_run(run_dir, config, dataset: Dataset, results, wall_s, jobs, resumed):
    """Write scores.parquet, metrics, thresholds, timing, calibration and warnings (the
    scores last but one and the metrics last: a finished run has all of :data:`FINISHED`)."""
    folder = RunFolder(run_dir)
    labelled = {r.name: (r.labels, r.scores) for r in results if r.labels is not None}
    thresholds = {r.name: r.threshold["value"] for r in results}
    metrics: dict[str, Any] = {"dataset": dataset.name, "model": config.model}
    if labelled:
        metrics.update(aggregate(labelled, thresholds, config.vus_window))
    rc = {
        r.name: root_cause_metrics(r.explain, dataset[r.name].intervals)
        for r in results
        if r.explain is not None and any(iv.causes for iv in dataset[r.name].intervals)
    }
    if rc:
        keys = next(iter(rc.values()))
        metrics["root_cause"] = {
            "mean": {k: float(np.nanmean([m[k] for m in rc.values()])) for k in keys},
            "entities": rc,
        }
    data_warnings = run_warnings(dataset, results)
    if data_warnings:
        metrics.setdefault("warnings", []).append(
            f"{len(data_warnings)} data warning(s), see warnings.json"
        )
    write_json(folder.file(THRESHOLDS), {r.name: r.threshold for r in results})
    timing = {
        "wall_s": wall_s,
        "n_jobs": jobs,
        "executor": config.executor,
        "resumed_entities": resumed,
        "fit_s": float(sum(r.fit_s for r in results)),
        "score_s": float(sum(r.score_s for r in results)),
        "entities": {
            r.name: {
                "fit_s": r.fit_s,
                "score_s": r.score_s,
                "steps_per_s": len(r.scores) / r.score_s if r.score_s > 0 else None,
            }
            for r in results
        },
    }
    write_json(folder.file(TIMING), timing)
    write_json(folder.file(WARNINGS), data_warnings)
    write_json(folder.file(CALIBRATION), {r.name: r.calibration for r in results})
    write_entities(run_dir, dataset, config.store_series)
    write_scores(folder.file(SCORES), scores_frame(results))
    write_json(folder.file(METRICS), metrics)
    return metrics, timing


def write_entities(run_dir: Path, dataset: Dataset, store_series: bool) -> None:
    """``entities.json`` (sensor names, true intervals with causes) and ``series/<entity>.npy``
    (the test split, float32), so reports and the dashboard need nothing but the run folder."""
    info = {
        e.name: {
            "sensors": list(e.sensors),
            "n_train": int(e.train.shape[0]),
            "n_test": int(e.test.shape[0]),
            "intervals": [
                {"start": iv.start, "end": iv.end, "causes": list(iv.causes or ())}
                for iv in e.intervals
            ],
        }
        for e in dataset
    }
    folder = RunFolder(run_dir)
    write_json(folder.file(ENTITIES), info)
    if store_series:
        for e in dataset:
            folder.series(e.name).parent.mkdir(exist_ok=True)
            save_npy(folder.series(e.name), e.test.astype(np.float32))
