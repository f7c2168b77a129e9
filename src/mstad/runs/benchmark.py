"""Models × data sets, each entity fitted and scored once, resumable, one table at the end.

Each (data set, model) pair gets a fixed run folder ``<out>/<dataset>_<model>/`` so that
running the same command again skips every finished entity. The summary goes to
``<out>/benchmark.csv`` and ``<out>/benchmark.md``. With several ``seeds`` every pair runs once
per seed (``<out>/<dataset>_<model>_seed<S>/``, rows in ``benchmark_seeds.csv``) and the
summary gives each metric's mean and standard deviation over the seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mstad.atomic import write_text
from mstad.config import RunConfig
from mstad.data import load_dataset
from mstad.evaluation.layout import benchmark_columns
from mstad.runs.runner import RunResult, check_config, read_run_config, run_experiment

#: ``concat_auroc`` … ``entity_best_f1``: the metric layout's headline (and oracle F1)
COLUMNS = benchmark_columns()


def summary_row(dataset: str, model: str, result: RunResult, wall_s: float) -> dict[str, Any]:
    m = result.metrics
    row: dict[str, Any] = {"dataset": dataset, "model": model, "entities": m.get("n_entities", 0)}
    for column, (protocol, key) in COLUMNS.items():
        row[column] = m.get(protocol, {}).get(key, float("nan"))
    row.update(fit_s=result.timing["fit_s"], score_s=result.timing["score_s"], wall_s=wall_s)
    return row


def over_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (data set, model): mean of every figure over the seeds, and ``<col>_std``
    (sample standard deviation; 0 for a single seed)."""
    figures = [c for c in rows.columns if c not in ("dataset", "model", "entities", "seed")]
    groups = rows.groupby(["dataset", "model"], sort=False)
    table = groups[["entities"]].first()
    table["seeds"] = groups["seed"].nunique()
    for column in figures:
        table[column] = groups[column].mean()
        table[f"{column}_std"] = groups[column].std(ddof=1).fillna(0.0)
    return table.reset_index()


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub table; floats to 3 decimals (times to 1); ``x ± std`` where stds are given."""

    def cell(column: str, row: pd.Series) -> str:
        value = row[column]
        if isinstance(value, float):
            text = f"{value:.1f}" if column.endswith("_s") else f"{value:.3f}"
            std = row.get(f"{column}_std")
            if std is not None and row.get("seeds", 1) > 1:
                text += f" ± {std:.1f}" if column.endswith("_s") else f" ± {std:.3f}"
            return text
        return str(value)

    columns = [c for c in table.columns if not c.endswith("_std")]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(cell(c, row) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def run_benchmark(
    models: Sequence[str],
    datasets: Sequence[str],
    out_dir: Path,
    base: RunConfig | None = None,
    on_entity_done: Callable[[str], None] | None = None,
    on_pair_start: Callable[[str, str, int], None] | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Run every pair (once per seed); ``base`` carries shared settings (data_dir, seed,
    executor, …). Every model is checked before any data is read."""
    base = base or RunConfig()
    seeds = [base.seed] if not seeds else list(dict.fromkeys(seeds))
    for model in models:
        check_config(base.model_copy(update={"model": model, "params": {}}))
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
            for seed in seeds:
                name = f"{dataset.name}_{model}" + (f"_seed{seed}" if len(seeds) > 1 else "")
                run_dir = out_dir / name
                if (run_dir / "config.yaml").is_file():
                    config = read_run_config(run_dir)  # resume with the settings it began with
                else:
                    config = base.model_copy(
                        update={
                            "dataset": dataset_name,
                            "model": model,
                            "params": {},
                            "output_dir": out_dir,
                            "seed": seed,
                        }
                    )
                if on_pair_start:
                    on_pair_start(dataset.name, model, len(dataset))
                start = time.perf_counter()
                result = run_experiment(config, on_entity_done, run_dir=run_dir, dataset=dataset)
                row = summary_row(dataset.name, model, result, time.perf_counter() - start)
                rows.append({**row, "seed": config.seed})
    per_seed = pd.DataFrame(rows)
    table = over_seeds(per_seed) if len(seeds) > 1 else per_seed.drop(columns="seed")
    if len(seeds) > 1:
        write_text(out_dir / "benchmark_seeds.csv", per_seed.to_csv(index=False))
    write_text(out_dir / "benchmark.csv", table.to_csv(index=False))
    write_text(out_dir / "benchmark.md", to_markdown(table))
    return table
