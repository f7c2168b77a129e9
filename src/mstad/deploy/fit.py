"""``mstad fit``: a detector fitted on training data and written as a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mstad.data import load_dataset
from mstad.deploy.inputs import Table, is_label, is_prepared, read_source
from mstad.deploy.model import DeployedModel, check_output, plant_preparation, write_model
from mstad.errors import DataError, MstadError
from mstad.runs.runner import check_model, fit_detector


def dataset_table(
    dataset: str, data_dir: Path | None, entity: str | None, split: str
) -> tuple[Table, dict[str, Any], dict[str, Any]]:
    """One entity's ``split`` of a named data set, its preparation and where it came from."""
    loaded = load_dataset(dataset, data_dir, [entity] if entity else None)
    if len(loaded) != 1:
        raise MstadError(
            f"dataset {dataset} has {len(loaded)} entities; name one with --entity "
            f"(e.g. {', '.join(loaded.names[:5])})"
        )
    item = next(iter(loaded))
    table = Table(
        getattr(item, split),
        list(item.sensors),
        None,
        f"{dataset}:{item.name} ({split})",
        flags=item.flags,
    )
    prepared = Path(data_dir) if dataset == "csv" and data_dir is not None else None
    preparation = plant_preparation(prepared) if prepared else {"kind": "none"}
    return table, preparation, {"dataset": dataset, "entity": item.name}


def one_source(data: Path | None, dataset: str | None, what: str) -> None:
    """A command's data come as a path or as ``--dataset``: exactly one of them."""
    if (data is None) == (dataset is None):
        raise MstadError(f"give the {what} as a path or as --dataset NAME (one of them)")


def check_normal(table: Table) -> None:
    """Training data must be normal: a label column that marks any row (not 0) is an error
    naming the file, the column and the first such row."""
    for column in [] if table.keys is None else [c for c in table.keys if is_label(c)]:
        marked = pd.to_numeric(table.keys[column], errors="coerce").fillna(1).to_numpy() != 0
        if marked.any():
            row = int(np.argmax(marked))
            raise DataError(
                f"{table.source}: column {column!r} marks {int(marked.sum()):,} rows as anomalous "
                f"(first: row {row + 1}, {table.keys[column].iloc[row]!r}); training data must be "
                "normal — fit on its normal part only, or evaluate the labelled file with "
                "`mstad run --dataset tsbad`"
            )


def training_table(
    data: Path | None, dataset: str | None, data_dir: Path | None, entity: str | None
) -> tuple[Table, dict[str, Any], dict[str, Any]]:
    """What ``mstad fit`` trains on: a file, a prepared folder's train split, or a data set's."""
    one_source(data, dataset, "training data")
    if dataset is not None:
        return dataset_table(dataset, data_dir, entity, "train")
    if is_prepared(data):
        return read_source(data, "train"), plant_preparation(data), {"prepared": str(data)}
    table = read_source(data)
    check_normal(table)
    if table.keys is not None and "stage" in table.keys.columns:
        raise MstadError(
            f"{data}: has a stage column; prepare plant batches with `mstad prepare` and fit on "
            "the prepared folder, so new batches are normalised like these"
        )
    return Table(table.values, table.sensors, None, table.source), {"kind": "none"}, {}


def fit_model(
    table: Table,
    preparation: dict[str, Any],
    training: dict[str, Any],
    out: Path,
    model: str,
    params: dict[str, Any],
    seed: int,
    threshold: dict[str, Any],
    force: bool = False,
) -> DeployedModel:
    """Fit as ``mstad run`` fits (:func:`mstad.runs.runner.fit_detector`) and write ``out``."""
    detector, fitted, fit_s = fit_detector(
        table.values, model, params, seed, threshold, flags=table.flags
    )
    training = {**training, "fit_s": round(fit_s, 3)}
    return write_model(out, detector, vars(fitted), table, preparation, training, seed, force)


def check_fit(out: Path, model: str, params: dict[str, Any], seed: int, threshold, force) -> None:
    """Everything that can be checked before the data are read."""
    check_output(out, force)
    check_model(model, params, seed, threshold)


__all__ = ["check_fit", "dataset_table", "fit_model", "one_source", "training_table"]
