"""Read a finished run folder for reports and the dashboard — nothing but the run folder.

:func:`open_run` checks the folder first and turns every way it can be broken (not a run,
half-written, from an older mstad without ``entities.json``) into one :class:`RunError` line
that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mstad.errors import MstadError
from mstad.evaluation.labels import segments
from mstad.runs.rundir import read_json

REQUIRED = ("config.yaml", "scores.parquet", "metrics.json", "thresholds.json")


class RunError(MstadError):
    """A folder that is not a finished, readable mstad run."""


@dataclass
class RunView:
    """Lazy, read-only access to one run folder."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    entities_info: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path.name} ({self.config.get('dataset')} · {self.config.get('model')})"

    @cached_property
    def scores(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "scores.parquet")

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

    def series(self, name: str) -> np.ndarray | None:
        path = self.path / "series" / f"{name}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def explain(self, name: str) -> np.ndarray | None:
        path = self.path / "explain" / f"{name}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def detector(self, name: str):
        """The saved detector (``--save-models``), or None."""
        path = self.path / "models" / name
        if not (path / "detector.json").is_file():
            return None
        from mstad.models import Detector

        return Detector.load(path)

    def entity_metrics(self, name: str) -> dict[str, Any]:
        return self.metrics.get("entities", {}).get(name, {})

    def entity_table(self) -> pd.DataFrame:
        """One row per entity ranked by its highest score (the seed's ``scores.csv``)."""
        rows = []
        for name in self.entity_names:
            score, labels = self.score(name), self.labels(name)
            threshold = self.threshold(name)
            m = self.entity_metrics(name)
            rows.append(
                {
                    "entity": name,
                    "max_score": float(score.max()),
                    "alarm_steps": int((score > threshold).sum())
                    if threshold is not None
                    else None,
                    "true_events": len(self.intervals(name)),
                    "anomalous_steps": int(labels.sum()) if labels is not None else None,
                    "auroc": m.get("auroc"),
                    "ap": m.get("ap"),
                    "vus_pr": m.get("vus_pr"),
                    "f1": m.get("f1"),
                }
            )
        table = pd.DataFrame(rows).sort_values("max_score", ascending=False, kind="stable")
        return table.reset_index(drop=True)


def detected_events(score: np.ndarray, threshold: float) -> np.ndarray:
    """``[n, 2]`` inclusive (start, end) of each run of ``score > threshold``."""
    return segments(np.asarray(score) > threshold)


def rank_sensors(explain: np.ndarray, start: int, end: int, sensors: list[str]) -> pd.DataFrame:
    """Sensors ranked by their summed contribution over ``[start, end]`` (inclusive)."""
    total = explain[start : end + 1].sum(axis=0)
    share = total / total.sum() if total.sum() > 0 else np.zeros_like(total)
    order = np.argsort(-total, kind="stable")
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "sensor": [sensors[i] if i < len(sensors) else f"s{i}" for i in order],
            "index": order,
            "contribution": total[order],
            "share": share[order],
        }
    )


def pick_sensors(run: RunView, name: str, k: int = 3) -> list[int]:
    """Sensors to draw: the top contributors when the run has explanations, else the first k."""
    explain = run.explain(name)
    n = len(run.sensors(name))
    if explain is not None:
        return [int(i) for i in np.argsort(-explain.sum(axis=0))[:k]]
    return list(range(min(k, n)))


def open_run(path: Path | str) -> RunView:
    """Check and open a run folder; a broken one is a :class:`RunError` saying what to do."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such folder; pass a folder written by `mstad run`")
    if not (path / "config.yaml").is_file():
        raise RunError(f"{path}: no config.yaml, so not an mstad run folder")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        parts = len(list((path / "parts").glob("*.json"))) if (path / "parts").is_dir() else 0
        raise RunError(
            f"{path}: half-written run ({', '.join(missing)} missing, {parts} entities finished); "
            f"finish it with `mstad run --resume {path}`"
        )
    try:
        config = yaml.safe_load((path / "config.yaml").read_text()) or {}
        metrics = read_json(path / "metrics.json")
        thresholds = read_json(path / "thresholds.json")
        info = read_json(path / "entities.json") if (path / "entities.json").is_file() else {}
    except (ValueError, yaml.YAMLError) as exc:
        raise RunError(
            f"{path}: a run file is corrupt ({exc.__class__.__name__}); re-run"
        ) from None
    return RunView(path, config, metrics, thresholds, info)


def find_runs(paths: list[Path | str]) -> list[Path]:
    """Each path is a run folder or a folder of run folders (newest first)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / "config.yaml").is_file():
            found.append(p)
        elif p.is_dir():
            runs = [c for c in p.iterdir() if (c / "config.yaml").is_file()]
            found += sorted(runs, key=lambda c: c.name, reverse=True)
    return found
