"""Run directories: the on-disk contract between run, evaluate, report, dashboard, benchmark.

```
runs/2026-11-22T10-41-07_smap_knn/   # never overwritten; a suffix is added on collision
  config.yaml  scores.parquet  metrics.json  thresholds.json  timing.json  warnings.json
  calibration.json  entities.json  series/<entity>.npy  explain/<entity>.npy  models/<entity>/
```
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import mstad
from mstad.errors import MstadError


def new_run_dir(output_dir: Path, dataset: str, model: str) -> Path:
    """Create and return a fresh folder ``<output>/<time>_<dataset>_<model>[_N]``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now().strftime('%Y-%m-%dT%H-%M-%S')}_{dataset}_{model}"
    for n in range(1000):
        path = output_dir / (stem if n == 0 else f"{stem}_{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise MstadError(f"{output_dir}: could not create a new run folder for {stem}")


def git_commit() -> str | None:
    """Commit of the source tree mstad runs from (``+dirty`` when it has changes), if any."""
    here = Path(mstad.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _clean(value: Any) -> Any:
    """JSON-safe: NaN -> None, paths -> str, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    Path(path).write_text(json.dumps(_clean(data), indent=2) + "\n")


def write_yaml(path: Path, data: Any) -> None:
    Path(path).write_text(yaml.safe_dump(_clean(data), sort_keys=False))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def write_scores(path: Path, frame: pd.DataFrame) -> None:
    frame.to_parquet(path, index=False)


def read_scores(run_dir: Path) -> pd.DataFrame:
    path = Path(run_dir) / "scores.parquet"
    if not path.is_file():
        raise MstadError(f"{run_dir}: no scores.parquet; is this a finished mstad run folder?")
    return pd.read_parquet(path)
