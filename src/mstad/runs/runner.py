"""Fit and score every entity of a data set with one detector and write a run directory.

Entities are independent, so they run in a local process pool (joblib/loky) by default;
``n_jobs=1`` runs in-process. Each entity gets a fresh detector seeded from the run seed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import mstad
from mstad.config import RunConfig
from mstad.data import Entity, load_dataset
from mstad.evaluation import aggregate
from mstad.models import make_detector
from mstad.runs.rundir import git_commit, new_run_dir, write_json, write_scores, write_yaml
from mstad.runs.seeding import seed_everything


@dataclass
class EntityResult:
    name: str
    scores: np.ndarray
    labels: np.ndarray | None
    explain: np.ndarray | None
    fit_s: float
    score_s: float
    calibration: dict[str, Any]


@dataclass
class RunResult:
    path: Path
    metrics: dict[str, Any]
    timing: dict[str, Any]
    warnings: list[str]


def fit_score_entity(
    entity: Entity,
    model: str,
    params: dict[str, Any],
    seed: int,
    explain: bool = False,
    model_dir: Path | None = None,
) -> EntityResult:
    """Fit on ``entity.train``, score ``entity.test``; the unit of work of every run."""
    detector = make_detector(model, **params)
    seed_everything(seed)
    start = time.perf_counter()
    detector.fit(entity.train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.score(entity.test)
    score_s = time.perf_counter() - start
    contributions = detector.explain(entity.test) if explain and detector.supports_explain else None
    if model_dir is not None:
        detector.save(model_dir / entity.name)
    return EntityResult(
        entity.name,
        scores,
        entity.labels,
        contributions,
        fit_s,
        score_s,
        detector.calibration_.to_dict(),
    )


def _resolve_jobs(n_jobs: int, n_entities: int) -> int:
    cores = os.cpu_count() or 1
    wanted = cores if n_jobs <= 0 else n_jobs
    return max(1, min(wanted, n_entities))


def run_experiment(
    config: RunConfig, on_entity_done: Callable[[str], None] | None = None
) -> RunResult:
    """Load the data, fit/score each entity, write the run directory and return its metrics."""
    dataset = load_dataset(
        config.dataset, config.data_dir, config.entities, **config.dataset_options
    )
    make_detector(config.model, **config.params)  # fail fast on a bad model or parameter
    run_dir = new_run_dir(config.output_dir, dataset.name, config.model)
    resolved = config.model_dump(mode="json")
    resolved.update(mstad_version=mstad.__version__, git_commit=git_commit())
    write_yaml(run_dir / "config.yaml", resolved)
    model_dir = run_dir / "models" if config.save_models else None
    jobs = _resolve_jobs(config.n_jobs, len(dataset))
    tasks = (
        delayed(fit_score_entity)(
            entity, config.model, config.params, config.seed, config.explain, model_dir
        )
        for entity in dataset
    )
    start = time.perf_counter()
    results: dict[str, EntityResult] = {}
    outputs = (
        Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks)
        if jobs > 1
        else (task[0](*task[1], **task[2]) for task in tasks)
    )
    for result in outputs:
        results[result.name] = result
        if on_entity_done:
            on_entity_done(result.name)
    wall_s = time.perf_counter() - start
    ordered = [results[name] for name in dataset.names]
    return _write_results(run_dir, config, dataset, ordered, wall_s, jobs)


def _write_results(run_dir, config, dataset, results, wall_s, jobs) -> RunResult:
    frames = []
    for r in results:
        n = len(r.scores)
        frames.append(
            pd.DataFrame(
                {
                    "entity": r.name,
                    "t": np.arange(n, dtype=np.int32),
                    "score": r.scores,
                    "label": pd.array(r.labels, dtype="boolean")
                    if r.labels is not None
                    else pd.array([pd.NA] * n, dtype="boolean"),
                    "split": "test",
                }
            )
        )
        if r.explain is not None:
            (run_dir / "explain").mkdir(exist_ok=True)
            np.save(run_dir / "explain" / f"{r.name}.npy", r.explain.astype(np.float32))
    frame = pd.concat(frames, ignore_index=True)
    frame["entity"] = frame["entity"].astype("category")
    write_scores(run_dir / "scores.parquet", frame)

    labelled = {r.name: (r.labels, r.scores) for r in results if r.labels is not None}
    data_warnings = [w for e in dataset for w in e.warnings]
    metrics: dict[str, Any] = {"dataset": dataset.name, "model": config.model}
    if labelled:
        metrics.update(aggregate(labelled))
    metrics["warnings"] = [
        "best_f1 uses the best threshold on the test labels (an oracle), not a deployable one",
        *([f"{len(data_warnings)} data warning(s), see warnings.json"] if data_warnings else []),
    ]
    write_json(run_dir / "metrics.json", metrics)
    timing = {
        "wall_s": wall_s,
        "n_jobs": jobs,
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
    return RunResult(run_dir, metrics, timing, data_warnings)
