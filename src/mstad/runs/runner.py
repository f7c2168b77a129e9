"""Fit and score every entity of a data set with one detector and write a run directory.

Each finished entity is saved at once under ``parts/`` (scores, labels, timing, calibration,
threshold), so an interrupted run resumes where it stopped (:func:`resume_run`). Entities run
in parallel on a local process pool or on Ray (:mod:`mstad.runs.executors`). Thresholds are
fitted inside the worker from the detector's validation scores: the test labels never reach
that code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mstad
from mstad.config import RunConfig, build_config
from mstad.data import Dataset, Entity, default_data_dir, load_dataset, reads_files
from mstad.errors import MstadError
from mstad.models import make_detector
from mstad.models.device import check_device
from mstad.models.registry import detector_class, seeded
from mstad.models.thresholds import make_thresholder
from mstad.progress import Reporter, Step, current, in_lane, report, reporting
from mstad.runs.executors import map_unordered, resolve_jobs
from mstad.runs.finalize import EntityResult, finalize_run, load_part, run_warnings, save_part
from mstad.runs.rundir import (
    CONFIG,
    MODELS_DIR,
    RunFolder,
    git_commit,
    new_run_dir,
    read_yaml,
    write_yaml,
)
from mstad.runs.seeding import seed_everything


@dataclass
class RunResult:
    path: Path
    metrics: dict[str, Any]
    timing: dict[str, Any]
    warnings: list[str]


def check_model(model: str, params: dict[str, Any], seed: int, threshold: dict[str, Any]) -> None:
    """Fail fast, before any data is read: the model, its parameters and the threshold."""
    make_detector(model, **seeded(model, params, seed))
    make_thresholder(threshold["method"], **threshold.get("params", {}))


def detector_params(config: RunConfig) -> dict[str, Any]:
    """The run's detector parameters with its ``device`` for a torch detector (one that takes a
    ``device`` parameter; a ``device`` given in ``params`` wins); other detectors run on the
    CPU whatever the flag says."""
    takes_device = "device" in detector_class(config.model).param_names()
    if config.device is None or not takes_device or "device" in config.params:
        return dict(config.params)
    return {**config.params, "device": config.device}


def check_config(config: RunConfig) -> None:
    params = detector_params(config)
    check_model(config.model, params, config.seed, config.threshold.model_dump())
    if isinstance(params.get("device"), str):
        check_device(params["device"])


def fit_detector(
    train,
    model: str,
    params: dict[str, Any],
    seed: int,
    threshold: dict[str, Any],
    threads: int | None = None,
    flags: tuple[int, ...] | None = None,
):
    """The one fitting step of ``mstad run`` and ``mstad fit``: a seeded detector fitted on
    ``train`` and its threshold fitted on validation scores. Returns (detector, fitted
    threshold, seconds). ``threads`` caps torch's and numba's threads (one per core per worker)
    for the fit and everything after it in this process; ``flags``: the data set's declared
    command-flag sensors (``Entity.flags``), None to infer them."""
    detector = make_detector(model, **seeded(model, params, seed))
    if threads is not None:
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        if "numba" in sys.modules:
            sys.modules["numba"].set_num_threads(
                min(threads, sys.modules["numba"].config.NUMBA_NUM_THREADS)
            )
    seed_everything(seed)
    start = time.perf_counter()
    detector.fit(train, flags)
    fit_s = time.perf_counter() - start
    fitted = detector.fit_threshold(threshold["method"], **threshold.get("params", {}))
    return detector, fitted, fit_s


def fit_score_entity(
    entity: Entity,
    model: str,
    params: dict[str, Any],
    seed: int,
    threshold: dict[str, Any],
    explain: bool = False,
    model_dir: Path | None = None,
    threads: int | None = None,
) -> EntityResult:
    """Fit on ``entity.train``, fit the threshold on validation scores, score ``entity.test``
    (progress reports inside belong to the entity's lane)."""
    with in_lane(entity.name):
        report("fit", 0, 3)
        detector, fitted, fit_s = fit_detector(
            entity.train, model, params, seed, threshold, threads, entity.flags
        )
        start = time.perf_counter()
        report("score", 1, 3)
        scores = detector.score(entity.test)
        score_s = time.perf_counter() - start
        report("explain" if explain else "save", 2, 3)
        contributions = (
            detector.explain(entity.test) if explain and detector.supports_explain else None
        )
        if model_dir is not None:
            detector.save(RunFolder(model_dir.parent).model(entity.name))
    return EntityResult(
        name=entity.name,
        scores=scores,
        labels=entity.labels,
        explain=contributions,
        fit_s=fit_s,
        score_s=score_s,
        calibration=detector.calibration_.to_dict(),
        threshold=vars(fitted),
        history=getattr(detector, "history_", None) or None,
    )


def _finished(run_dir: Path) -> set[str]:
    """Entities whose part loads cleanly; a part cut short (killed mid-write, disk full) counts
    as unfinished and is refitted."""
    done = set()
    for name in RunFolder(run_dir).part_names():
        try:
            load_part(run_dir, name)
        except MstadError:
            continue
        done.add(name)
    return done


def run_experiment(
    config: RunConfig,
    on_entity_done: Callable[[str], None] | None = None,
    run_dir: Path | None = None,
    dataset: Dataset | None = None,
) -> RunResult:
    """Run ``config``; with ``run_dir`` given, continue that run (finished entities skipped).
    A data folder left to ``$MSTAD_DATA`` is recorded as the absolute folder it was, so the
    run's ``config.yaml`` says what was read and ``--resume`` finds it from any shell."""
    check_config(config)
    if config.data_dir is None and reads_files(config.dataset):
        config = config.model_copy(update={"data_dir": default_data_dir().resolve()})
    if dataset is None:
        dataset = load_dataset(
            config.dataset, config.data_dir, config.entities, **config.dataset_options
        )
    if run_dir is None:
        run_dir = new_run_dir(config.output_dir, dataset.name, config.model)
    run_dir = Path(run_dir)
    folder = RunFolder(run_dir)
    folder.check_writable()
    if folder.is_running():
        beat = folder.running() or {}
        raise MstadError(
            f"{run_dir}: another mstad process (pid {beat.get('pid')}) is working on this run "
            f"({beat.get('done')}/{beat.get('total')} entities); wait for it or stop it first"
        )
    if not folder.file(CONFIG).is_file():
        resolved = config.model_dump(mode="json")
        resolved.update(mstad_version=mstad.__version__, git_commit=git_commit())
        write_yaml(folder.file(CONFIG), resolved)
    done = _finished(run_dir) & set(dataset.names)
    todo = [e for e in dataset if e.name not in done]
    for name in done:
        if on_entity_done:
            on_entity_done(name)
    model_dir = folder.folder(MODELS_DIR) if config.save_models else None
    folder.mark_running(len(done), len(dataset))
    folder.log(
        f"start: {config.model} {config.params or ''} on {dataset.name}"
        + (f" ({config.data_dir})" if config.data_dir is not None else "")
        + f", {len(dataset)} entities "
        f"({len(done)} finished before), mstad {mstad.__version__}, pid {os.getpid()}"
    )
    try:
        result = _fit_all(config, dataset, folder, todo, len(done), model_dir, on_entity_done)
    except BaseException as exc:
        folder.log(f"stopped: {exc.__class__.__name__}: {exc}".splitlines()[0])
        raise
    finally:
        folder.clear_running()
    concat = result.metrics.get("concat", {})
    folder.log(f"finished in {result.timing['wall_s']:.1f} s; concat AUROC {concat.get('auroc')}")
    return result


def _fit_all(config, dataset, folder, todo, resumed, model_dir, on_entity_done) -> RunResult:
    run_dir = folder.path
    jobs = resolve_jobs(config.n_jobs, len(todo))
    threads = max(1, (os.cpu_count() or 1) // jobs) if config.executor == "local" else None
    tasks = [
        (
            e,
            config.model,
            detector_params(config),
            config.seed,
            config.threshold.model_dump(),
            config.explain,
            model_dir,
            threads,
        )
        for e in todo
    ]
    start = time.perf_counter()
    finished = resumed
    with reporting(_logging_milestones(folder, current())):
        for result in map_unordered(
            fit_score_entity, tasks, config.executor, config.n_jobs, config.ray_address
        ):
            save_part(run_dir, result)
            finished += 1
            folder.mark_running(finished, len(dataset))
            folder.log(
                f"entity {result.name} done ({finished}/{len(dataset)}): fit {result.fit_s:.1f} "
                f"s, score {result.score_s:.1f} s, threshold {result.threshold['value']:.4g}"
            )
            if on_entity_done:
                on_entity_done(result.name)
    wall_s = time.perf_counter() - start
    results = [load_part(run_dir, name) for name in dataset.names]
    metrics, timing = finalize_run(run_dir, config, dataset, results, wall_s, jobs, resumed)
    return RunResult(run_dir, metrics, timing, run_warnings(dataset, results))


def _logging_milestones(folder: RunFolder, outer: Reporter | None) -> Reporter:
    """A reporter that writes milestones (training epochs) to ``run.log`` — a run in the
    background shows there how far each entity is, wherever it is fitted — and passes every
    report on to ``outer`` (the CLI's bars), if any."""

    def log(step: Step) -> None:
        if step.milestone:
            where = f"entity {step.lane}: " if step.lane else ""
            folder.log(f"{where}{step.what} [{step.done} of at most {step.total}]")
        if outer is not None:
            outer(step)

    return log


#: what ``--resume`` may change: where the data are and how the work is spread, not what is run
RESUME_OVERRIDES = ("data_dir", "n_jobs", "executor", "ray_address")


def read_run_config(run_dir: Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """The run's ``config.yaml`` as a :class:`RunConfig`, with ``overrides`` (keys of
    :data:`RESUME_OVERRIDES`) applied."""
    path = RunFolder(run_dir).file(CONFIG)
    if not path.is_file():
        raise MstadError(f"{run_dir}: no {CONFIG}; point at a folder written by `mstad run`")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise MstadError(f"{path}: expected a mapping of run settings, got {type(data).__name__}")
    for key in ("mstad_version", "git_commit"):
        data.pop(key, None)
    changed = {k: v for k, v in (overrides or {}).items() if v is not None}
    if set(changed) - set(RESUME_OVERRIDES):
        raise MstadError(
            f"{run_dir}: a resumed run keeps its settings; only "
            f"{', '.join(RESUME_OVERRIDES)} may change, not {', '.join(sorted(changed))}"
        )
    return build_config({**data, **changed}, str(path))


def resume_run(run_dir: Path, on_entity_done: Callable[[str], None] | None = None) -> RunResult:
    """Finish an interrupted run in place: entities already in ``parts/`` are not refitted."""
    return run_experiment(read_run_config(run_dir), on_entity_done, run_dir=Path(run_dir))
