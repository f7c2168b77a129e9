"""Shared fixtures: tiny entities and finished runs built at test time, real data under MSTAD_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mstad.config import RunConfig
from mstad.data import Entity, Interval, intervals_to_labels
from mstad.runs import run_experiment

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("MSTAD_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real data folder; tests that need it skip with the reason when it is absent."""
    root = data_root()
    if not (root / "nasa" / "labeled_anomalies.csv").is_file():
        pytest.skip(f"real data not found under {root} (set MSTAD_DATA to the shared data folder)")
    return root


def shifted_entity(
    n_sensors: int = 5, n_train: int = 600, n_test: int = 400, seed: int = 0, shift: float = 6.0
) -> Entity:
    """Correlated noise with an obvious level shift in two sensors over test steps 200..239."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_sensors, n_sensors))
    train = rng.normal(size=(n_train, n_sensors)) @ mixing
    test = rng.normal(size=(n_test, n_sensors)) @ mixing
    interval = Interval(200, 239, (0, 1))
    test[200:240, :2] += shift * train[:, :2].std(axis=0)
    return Entity(
        name=f"shift{seed}",
        train=train.astype(np.float32),
        test=test.astype(np.float32),
        labels=intervals_to_labels([interval], n_test),
        intervals=(interval,),
    )


@pytest.fixture
def shift_entity() -> Entity:
    return shifted_entity()


# ---- finished runs for the report and dashboard tests (built once per session) ----
TINY_DATA = {"n_sensors": 6, "n_steps": 2400, "train_end": 1200, "n_anomalies": 3, "amplitude": 3.0}
TINY_MSCRED = {"windows": [5, 10], "gap": 5, "steps": 3, "epochs": 2, "batch_size": 8}


def make_run(root, model, params=None, n_entities=1, **extra):
    config = RunConfig(
        dataset="synthetic",
        dataset_options={**TINY_DATA, "n_entities": n_entities},
        model=model,
        params=params or {},
        output_dir=root,
        n_jobs=1,
        **extra,
    )
    return run_experiment(config).path


@pytest.fixture(scope="session")
def zscore_run(tmp_path_factory):
    return make_run(
        tmp_path_factory.mktemp("runs"), "zscore", n_entities=2, explain=True, save_models=True
    )


@pytest.fixture(scope="session")
def mscred_run(tmp_path_factory):
    return make_run(
        tmp_path_factory.mktemp("runs"), "mscred", TINY_MSCRED, explain=True, save_models=True
    )


@pytest.fixture
def half_written_run(zscore_run, tmp_path):
    """A copy of a run whose metrics were never written (a run killed before it finished)."""
    import shutil

    broken = tmp_path / "broken_run"
    shutil.copytree(zscore_run, broken)
    (broken / "metrics.json").unlink()
    return broken
