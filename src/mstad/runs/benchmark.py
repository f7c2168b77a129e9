"""Models × data sets, each entity fitted and scored once, resumable, one table at the end.

Each (data set, model) pair gets a fixed run folder ``<out>/<dataset>_<model>/`` so that
running the same command again skips every finished entity. The summary goes to
``<out>/benchmark.csv`` and ``<out>/benchmark.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mstad.config import RunConfig
from mstad.data import load_dataset
from mstad.runs.runner import RunResult, read_run_config, run_experiment

COLUMNS = {
    "concat_auroc": ("concat", "auroc"),
    "concat_ap": ("concat", "ap"),
    "concat_vus_pr": ("concat", "vus_pr"),
    "concat_best_f1": ("concat", "best_f1"),
    "entity_auroc": ("per_entity_mean", "auroc"),
    "entity_ap": ("per_entity_mean", "ap"),
    "entity_vus_pr": ("per_entity_mean", "vus_pr"),
    "entity_best_f1": ("per_entity_mean", "best_f1"),
}


def summary_row(dataset: str, model: str, result: RunResult, wall_s: float) -> dict[str, Any]:
    m = result.metrics
    row: dict[str, Any] = {"dataset": dataset, "model": model, "entities": m.get("n_entities", 0)}
    for column, (protocol, key) in COLUMNS.items():
        row[column] = m.get(protocol, {}).get(key, float("nan"))
    row.update(fit_s=result.timing["fit_s"], score_s=result.timing["score_s"], wall_s=wall_s)
    return row


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub table; floats to 3 decimals (times to 1)."""

    def cell(column: str, value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.1f}" if column.endswith("_s") else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(cell(c, row[c]) for c in table.columns) + " |")
    return "\n".join(lines) + "\n"


def run_benchmark(
    models: Sequence[str],
    datasets: Sequence[str],
    out_dir: Path,
    base: RunConfig | None = None,
    on_entity_done: Callable[[str], None] | None = None,
    on_pair_start: Callable[[str, str, int], None] | None = None,
) -> pd.DataFrame:
    """Run every pair; ``base`` carries shared settings (data_dir, seed, executor, …)."""
    base = base or RunConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset_name in datasets:
        dataset = load_dataset(
            dataset_name,
            base.data_dir,
            None,
            **(base.dataset_options if dataset_name == base.dataset else {}),
        )
        for model in models:
            run_dir = out_dir / f"{dataset.name}_{model}"
            if (run_dir / "config.yaml").is_file():
                config = read_run_config(run_dir)  # resume with the settings it started with
            else:
                config = base.model_copy(
                    update={
                        "dataset": dataset_name,
                        "model": model,
                        "params": {},
                        "output_dir": out_dir,
                    }
                )
            if on_pair_start:
                on_pair_start(dataset.name, model, len(dataset))
            start = time.perf_counter()
            result = run_experiment(config, on_entity_done, run_dir=run_dir, dataset=dataset)
            rows.append(summary_row(dataset.name, model, result, time.perf_counter() - start))
    table = pd.DataFrame(rows)
    table.to_csv(out_dir / "benchmark.csv", index=False)
    (out_dir / "benchmark.md").write_text(to_markdown(table))
    return table
