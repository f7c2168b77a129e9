"""Run folders: the one definition of the on-disk contract between run, evaluate, report,
dashboard and benchmark.

```
runs/2026-11-22T10-41-07_smap_knn/   # never overwritten; a suffix is added on collision
  config.yaml  scores.parquet  metrics.json  thresholds.json  timing.json  warnings.json
  calibration.json  entities.json  running.json (while a run works on it)
  parts/<entity>.npz|.json  series/<entity>.npy  explain/<entity>.npy  models/<entity>/
```

Every file name is defined here (:class:`RunFolder`), every write is atomic
(:mod:`mstad.atomic`), and every path built from an entity name is checked to be a plain file
name that stays inside the folder — an entity called ``../x`` cannot make a run write, or the
dashboard read, anything outside it.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import mstad
from mstad.atomic import atomic_path, write_text
from mstad.data.checks import check_name
from mstad.errors import DataError, MstadError, reason

CONFIG = "config.yaml"
SCORES = "scores.parquet"
METRICS = "metrics.json"
THRESHOLDS = "thresholds.json"
TIMING = "timing.json"
WARNINGS = "warnings.json"
CALIBRATION = "calibration.json"
ENTITIES = "entities.json"
RUNNING = "running.json"
LOG = "run.log"
PARTS_DIR, SERIES_DIR, EXPLAIN_DIR, MODELS_DIR, REPORT_DIR = (
    "parts",
    "series",
    "explain",
    "models",
    "report",
)
#: the files a finished run has
FINISHED = (CONFIG, SCORES, METRICS, THRESHOLDS)
#: a heartbeat older than this, from another host, no longer counts as running
STALE_S = 600.0


class RunFolder:
    """Paths of one run folder; entity-derived paths are validated."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """One of the top-level files (:data:`CONFIG`, :data:`SCORES`, …)."""
        return self.path / name

    def check_entity(self, name: str) -> None:
        """A :class:`MstadError` unless ``name`` can name files inside the folder."""
        self._entity(PARTS_DIR, name)

    def _entity(self, folder: str, name: str, suffix: str = "") -> Path:
        try:
            check_name(name, f"{self.path}")
        except DataError as exc:
            raise MstadError(f"{exc}; the run folder holds a name unfit for a file") from None
        path = self.path / folder / f"{name}{suffix}"
        if path.resolve().parent != (self.path / folder).resolve():
            raise MstadError(f"{self.path}: entity {name!r} would leave the run folder")
        return path

    def part(self, name: str, suffix: str) -> Path:
        """``parts/<entity>.json`` (written last: marks the entity finished) or ``.npz``."""
        return self._entity(PARTS_DIR, name, suffix)

    def series(self, name: str) -> Path:
        return self._entity(SERIES_DIR, name, ".npy")

    def explain(self, name: str) -> Path:
        return self._entity(EXPLAIN_DIR, name, ".npy")

    def model(self, name: str) -> Path:
        return self._entity(MODELS_DIR, name)

    @property
    def parts(self) -> Path:
        return self.path / PARTS_DIR

    def folder(self, name: str) -> Path:
        """A sub-folder (:data:`SERIES_DIR`, :data:`EXPLAIN_DIR`, :data:`MODELS_DIR`, …)."""
        return self.path / name

    def part_names(self) -> list[str]:
        """Entities with a part marker (not necessarily readable: see ``runner``)."""
        return sorted(p.stem for p in self.parts.glob("*.json")) if self.parts.is_dir() else []

    def log(self, message: str) -> None:
        """Append a time-stamped line to ``run.log`` (what happened, for a later reader)."""
        stamp = datetime.now().isoformat(timespec="seconds")
        with self.file(LOG).open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {message}\n")

    # ---- liveness ---------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Fail before any fit when the folder cannot be written (read-only, no permission)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path / ".write-test") as tmp:
                tmp.write_bytes(b"")
            (self.path / ".write-test").unlink()
        except OSError as exc:
            raise MstadError(
                f"{self.path}: cannot write here ({exc.strerror or exc}); choose another --out "
                "or fix the folder's permissions"
            ) from None

    def mark_running(self, done: int, total: int) -> None:
        """Heartbeat: who works on the run and how far it got (``running.json``)."""
        previous = self.running() or {}
        write_json(
            self.file(RUNNING),
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": previous.get("started", time.time()),
                "updated": time.time(),
                "done": done,
                "total": total,
            },
        )

    def clear_running(self) -> None:
        self.file(RUNNING).unlink(missing_ok=True)

    def running(self) -> dict[str, Any] | None:
        if not self.file(RUNNING).is_file():
            return None
        try:
            data = read_json(self.file(RUNNING))
        except MstadError:
            return None
        return data if isinstance(data, dict) else None

    def is_running(self) -> bool:
        """True while a live process works on the run (same host: its pid exists; another
        host: a heartbeat within :data:`STALE_S`)."""
        beat = self.running()
        if not beat:
            return False
        if beat.get("host") == socket.gethostname():
            try:
                os.kill(int(beat.get("pid", -1)), 0)
            except (OSError, ValueError, OverflowError):
                return False
            return True
        return time.time() - float(beat.get("updated", 0)) < STALE_S


def new_run_dir(output_dir: Path, dataset: str, model: str) -> Path:
    """Create and return a fresh folder ``<output>/<time>_<dataset>_<model>[_N]``."""
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MstadError(
            f"{output_dir}: cannot create the output folder ({exc.strerror or exc}); choose "
            "another --out"
        ) from None
    stem = f"{datetime.now().strftime('%Y-%m-%dT%H-%M-%S')}_{dataset}_{model}"
    for n in range(1000):
        path = output_dir / (stem if n == 0 else f"{stem}_{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise MstadError(
                f"{output_dir}: cannot create a run folder here ({exc.strerror or exc}); "
                "choose another --out or fix the folder's permissions"
            ) from None
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
    write_text(path, json.dumps(_clean(data), indent=2) + "\n")


def write_yaml(path: Path, data: Any) -> None:
    write_text(path, yaml.safe_dump(_clean(data), sort_keys=False))


def read_json(path: Path) -> Any:
    """A JSON file; a missing, unreadable or corrupt one is a :class:`MstadError` naming it."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise MstadError(f"{path}: corrupt or unreadable JSON ({reason(exc)}); re-run") from None


def read_yaml(path: Path) -> Any:
    """A YAML file (an empty one is ``None``); unreadable or corrupt is a :class:`MstadError`."""
    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise MstadError(f"{path}: corrupt or unreadable YAML ({reason(exc)}); re-run") from None


def write_scores(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_scores(run_dir: Path) -> pd.DataFrame:
    path = RunFolder(run_dir).file(SCORES)
    if not path.is_file():
        raise MstadError(f"{run_dir}: no {SCORES}; is this a finished mstad run folder?")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ValueError…
        raise MstadError(
            f"{path}: not a readable parquet file ({reason(exc)}); re-run the run"
        ) from None
