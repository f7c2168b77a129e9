"""Per-entity parts on disk, and turning them into the run's scores, metrics and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mstad.data import Dataset
from mstad.evaluation import aggregate
from mstad.evaluation.rootcause import root_cause_metrics
from mstad.runs.rundir import read_json, write_json, write_scores


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


def save_part(run_dir: Path, result: EntityResult) -> None:
    """Arrays first, then the JSON whose presence marks the entity as finished."""
    parts = Path(run_dir) / "parts"
    parts.mkdir(exist_ok=True)
    arrays = {"scores": result.scores}
    if result.labels is not None:
        arrays["labels"] = result.labels
    np.savez(parts / f"{result.name}.npz", **arrays)
    if result.explain is not None:
        (Path(run_dir) / "explain").mkdir(exist_ok=True)
        np.save(Path(run_dir) / "explain" / f"{result.name}.npy", result.explain.astype(np.float32))
    meta = {k: v for k, v in asdict(result).items() if k not in ("scores", "labels", "explain")}
    write_json(parts / f"{result.name}.json", meta)


def load_part(run_dir: Path, name: str) -> EntityResult:
    parts = Path(run_dir) / "parts"
    meta = read_json(parts / f"{name}.json")
    with np.load(parts / f"{name}.npz", allow_pickle=False) as arrays:
        scores = arrays["scores"]
        labels = arrays.get("labels")
    explain_file = Path(run_dir) / "explain" / f"{name}.npy"
    explain = np.load(explain_file) if explain_file.is_file() else None
    return EntityResult(scores=scores, labels=labels, explain=explain, **meta)


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


def finalize_run(run_dir, config, dataset: Dataset, results, wall_s, jobs, resumed):
    """Write scores.parquet, metrics, thresholds, timing, calibration and warnings."""
    write_scores(run_dir / "scores.parquet", scores_frame(results))
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
    data_warnings = [w for e in dataset for w in e.warnings]
    if data_warnings:
        metrics.setdefault("warnings", []).append(
            f"{len(data_warnings)} data warning(s), see warnings.json"
        )
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "thresholds.json", {r.name: r.threshold for r in results})
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
    write_json(run_dir / "timing.json", timing)
    write_json(run_dir / "warnings.json", data_warnings)
    write_json(run_dir / "calibration.json", {r.name: r.calibration for r in results})
    write_entities(run_dir, dataset, config.store_series)
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
    write_json(Path(run_dir) / "entities.json", info)
    if store_series:
        folder = Path(run_dir) / "series"
        folder.mkdir(exist_ok=True)
        for e in dataset:
            np.save(folder / f"{e.name}.npy", e.test.astype(np.float32))
