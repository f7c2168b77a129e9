"""Data sets by name: ``smap``, ``msl``, ``smd``, ``tsbad`` (a folder of TSB-AD files), ``csv`` (a
folder written by ``mstad prepare``) and ``synthetic`` (built in)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mstad.data.entity import Dataset
from mstad.data.nasa import load_nasa
from mstad.data.plant.loader import load_prepared
from mstad.data.smd import load_smd
from mstad.data.synthetic import SYNTHETIC_SPECS, load_synthetic, make_synthetic
from mstad.data.tsbad import load_tsbad
from mstad.errors import ConfigError, DataError, MstadError
from mstad.params import spec, validate_call


def default_data_dir() -> Path:
    """``$MSTAD_DATA`` if set, else ``./data``."""
    return Path(os.environ.get("MSTAD_DATA", "data"))


def reads_files(name: str) -> bool:
    """Whether data set ``name`` is read from a folder (every one but the built-in generator)."""
    return name.lower() != "synthetic"


def _nasa(spacecraft: str) -> Callable[..., Dataset]:
    def load(data_dir: Path, entities: Sequence[str] | None = None, **options: Any) -> Dataset:
        return load_nasa(data_dir, spacecraft, entities, **options)

    return load


def _smd(data_dir: Path, entities: Sequence[str] | None = None, **options: Any) -> Dataset:
    return load_smd(data_dir, entities, **options)


def _tsbad(data_dir: Path, entities: Sequence[str] | None = None, **options: Any) -> Dataset:
    return load_tsbad(data_dir, entities, **options)


def _csv(data_dir: Path, entities: Sequence[str] | None = None, **options: Any) -> Dataset:
    return load_prepared(data_dir, entities, **options)


def _synthetic(data_dir: Path, entities: Sequence[str] | None = None, **options: Any) -> Dataset:
    return load_synthetic(**options).select(entities)


LOADERS: dict[str, Callable[..., Dataset]] = {
    "smap": _nasa("SMAP"),
    "msl": _nasa("MSL"),
    "smd": _smd,
    "tsbad": _tsbad,
    "csv": _csv,
    "synthetic": _synthetic,
}


def load_dataset(
    name: str,
    data_dir: Path | str | None = None,
    entities: Sequence[str] | None = None,
    **options: Any,
) -> Dataset:
    """Load a data set by name; ``options`` go to the loader (e.g. ``seed`` for synthetic)."""
    key = name.lower()
    if key not in LOADERS:
        raise ConfigError(f"dataset {name!r} is unknown; choose one of {', '.join(LOADERS)}")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    return LOADERS[key](data_dir, entities, **check_options(key, options))


def _no_options() -> None:
    """Loaders of files take no options: everything is in the files."""


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """``dataset_options`` checked like detector parameters (:mod:`mstad.params`): the
    synthetic generator's parameters and ``n_entities``; none for data sets read from files."""
    owner = f"dataset {name} option"
    if reads_files(name):
        return validate_call(_no_options, options, owner)
    specs = {**SYNTHETIC_SPECS, "n_entities": spec(ge=1)}
    return validate_call((_entities, make_synthetic), options, owner, specs)


def _entities(n_entities: int = 1) -> None:
    """How many synthetic entities (seeds ``seed``, ``seed + 1``, …)."""


def survey(data_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Try every data set under ``data_dir``; one row per set with its counts or the problem."""
    rows = []
    for name in LOADERS:
        if name == "csv" and not (Path(data_dir or default_data_dir()) / "manifest.json").is_file():
            continue  # a prepared folder is named explicitly, never searched for
        try:
            dataset = load_dataset(name, data_dir)
            warnings = sum(len(e.warnings) for e in dataset)
            rows.append(
                {"dataset": name, "status": "ok", **dataset.summary(), "warnings": warnings}
            )
        except MstadError as exc:
            rows.append({"dataset": name, "status": "missing/invalid", "problem": str(exc)})
    return rows


__all__ = ["LOADERS", "DataError", "default_data_dir", "load_dataset", "reads_files", "survey"]
