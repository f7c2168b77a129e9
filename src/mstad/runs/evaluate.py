"""Recompute a run's metrics from its stored scores, without refitting anything.

Useful for another label expansion (``expand`` steps on either side of every event) or another
VUS buffer. The stored thresholds (fitted on validation scores) are reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mstad.errors import MstadError
from mstad.evaluation import aggregate
from mstad.evaluation.labels import expand_labels
from mstad.runs.rundir import METRICS, THRESHOLDS, RunFolder, read_json, read_scores, write_json
from mstad.runs.runner import read_run_config


def evaluate_run(
    run_dir: Path, expand: int = 0, vus_window: int | None = None
) -> tuple[dict[str, Any], Path]:
    """Metrics of the stored scores; written to ``metrics.json`` when the settings are the run's
    own, else to ``metrics_expand<K>_vus<W>.json``. Returns (metrics, file written)."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    frame = read_scores(run_dir)
    window = config.vus_window if vus_window is None else vus_window
    folder = RunFolder(run_dir)
    thresholds_file = folder.file(THRESHOLDS)
    stored = read_json(thresholds_file) if thresholds_file.is_file() else {}
    per_entity = {}
    for name, group in frame.groupby("entity", observed=True, sort=False):
        if group["label"].isna().any():
            continue
        labels = expand_labels(group["label"].to_numpy(bool), expand)
        per_entity[str(name)] = (labels, group["score"].to_numpy())
    if not per_entity:
        raise MstadError(f"{run_dir}: no entity has test labels; nothing to evaluate")
    thresholds = {name: t["value"] for name, t in stored.items() if name in per_entity}
    metrics = {
        "dataset": config.dataset,
        "model": config.model,
        "label_expansion": expand,
        "vus_window": window,
    }
    metrics.update(aggregate(per_entity, thresholds, window))
    if expand == 0 and window == config.vus_window:
        target = folder.file(METRICS)
        previous = read_json(target) if target.is_file() else {}
        for key in ("root_cause", "warnings"):  # not recomputable from the scores: kept
            if key in previous:
                metrics[key] = previous[key]
    else:
        target = folder.file(f"metrics_expand{expand}_vus{window}.json")
    write_json(target, metrics)
    return metrics, target
