"""Benchmark (resumable, local and Ray), evaluate, and the proof that labels never steer scores
or thresholds."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mstad.config import RunConfig
from mstad.data import Dataset, load_dataset
from mstad.runs import read_json, read_scores, resume_run, run_experiment
from mstad.runs.benchmark import run_benchmark
from mstad.runs.evaluate import evaluate_run
from tests.runs.test_runner import TINY, tiny_config


def test_benchmark_table_and_resume(tmp_path):
    base = RunConfig(dataset="synthetic", dataset_options=TINY, n_jobs=1)
    table = run_benchmark(["zscore", "pca"], ["synthetic"], tmp_path, base)
    assert table[["dataset", "model"]].values.tolist() == [
        ["synthetic", "zscore"],
        ["synthetic", "pca"],
    ]
    assert (table["concat_auroc"] > 0.5).all() and (table["fit_s"] > 0).all()
    written = pd.read_csv(tmp_path / "benchmark.csv")
    assert written["concat_vus_pr"].notna().all()
    assert "| synthetic | zscore |" in (tmp_path / "benchmark.md").read_text()
    part = tmp_path / "synthetic_zscore" / "parts" / "mscred-synthetic.json"
    before = part.stat().st_mtime_ns
    again = run_benchmark(["zscore", "pca"], ["synthetic"], tmp_path, base)
    assert part.stat().st_mtime_ns == before  # finished entity skipped, not refitted
    assert again["concat_auroc"].tolist() == table["concat_auroc"].tolist()
    assert read_json(tmp_path / "synthetic_zscore" / "timing.json")["resumed_entities"] == 1


def test_resume_fits_only_missing_entities(tmp_path, real_data):
    first = run_experiment(
        RunConfig(dataset="smd", data_dir=real_data, model="zscore", output_dir=tmp_path, n_jobs=1)
    )
    (first.path / "parts" / "machine-1-7.json").unlink()
    (first.path / "metrics.json").unlink()
    kept = (first.path / "parts" / "machine-1-3.json").stat().st_mtime_ns
    resumed = resume_run(first.path)
    assert (first.path / "parts" / "machine-1-3.json").stat().st_mtime_ns == kept
    assert resumed.timing["resumed_entities"] == 1
    assert resumed.metrics["concat"]["auroc"] == pytest.approx(first.metrics["concat"]["auroc"])


def test_ray_executor_matches_local_and_forwards_progress(tmp_path):
    from mstad.progress import reporting

    ray = pytest.importorskip("ray", reason="Ray is installed with the [dev] extra")
    local = run_experiment(tiny_config(tmp_path, model="pca"))
    steps = []
    try:
        with reporting(steps.append):
            remote = run_experiment(tiny_config(tmp_path, model="pca", executor="ray"))
    finally:
        ray.shutdown()
    np.testing.assert_allclose(read_scores(remote.path)["score"], read_scores(local.path)["score"])
    assert remote.timing["executor"] == "ray"
    (name,) = remote.metrics["entities"]
    assert [s.what for s in steps if s.lane == name][:2] == ["fit", "score"]  # from the task


@pytest.mark.parametrize(("model", "params"), [("knn", {"window": 20}), ("best", {})])
def test_test_labels_never_change_scores_or_thresholds(tmp_path, model, params):
    real = load_dataset("synthetic", **TINY)
    entity = real.entities[0]
    rng = np.random.default_rng(0)
    fake = Dataset(
        real.name,
        (type(entity)(entity.name, entity.train, entity.test, rng.random(len(entity.test)) < 0.3),),
    )
    a = run_experiment(tiny_config(tmp_path, model=model, params=params), dataset=real)
    b = run_experiment(tiny_config(tmp_path, model=model, params=params), dataset=fake)
    np.testing.assert_array_equal(read_scores(a.path)["score"], read_scores(b.path)["score"])
    assert json.loads((a.path / "thresholds.json").read_text()) == json.loads(
        (b.path / "thresholds.json").read_text()
    )
    assert a.metrics["concat"]["auroc"] != b.metrics["concat"]["auroc"]  # only metrics differ


def test_evaluate_recomputes_and_expands(tmp_path):
    run = run_experiment(tiny_config(tmp_path))
    metrics, target = evaluate_run(run.path)
    assert target.name == "metrics.json"
    assert metrics["concat"]["auroc"] == pytest.approx(run.metrics["concat"]["auroc"], abs=1e-12)
    assert metrics["concat"]["f1"] == pytest.approx(run.metrics["concat"]["f1"])
    wide, target = evaluate_run(run.path, expand=20)
    assert target.name == "metrics_expand20_vus100.json" and target.is_file()
    assert wide["positive_rate"] > metrics["positive_rate"]


def test_a_run_records_the_data_folder_it_read_and_resumes_from_any_shell(
    tmp_path, real_data, monkeypatch
):
    """Data found through $MSTAD_DATA are recorded as that absolute folder; a resume needs no
    environment, may move the data (--data-dir) but not change what is run."""
    from mstad.errors import MstadError
    from mstad.runs.runner import read_run_config

    monkeypatch.setenv("MSTAD_DATA", str(real_data))
    first = run_experiment(RunConfig(dataset="smd", model="zscore", output_dir=tmp_path, n_jobs=1))
    recorded = read_run_config(first.path).data_dir
    assert recorded == Path(real_data).resolve() and recorded.is_absolute()
    (first.path / "parts" / "machine-1-7.json").unlink()
    monkeypatch.delenv("MSTAD_DATA")
    assert resume_run(first.path).timing["resumed_entities"] == 1
    moved = read_run_config(first.path, {"data_dir": tmp_path / "elsewhere", "n_jobs": 2})
    assert moved.data_dir == tmp_path / "elsewhere" and moved.n_jobs == 2
    with pytest.raises(MstadError, match="only data_dir, n_jobs, executor, ray_address may"):
        read_run_config(first.path, {"model": "knn"})
    synthetic = run_experiment(tiny_config(tmp_path))
    assert read_run_config(synthetic.path).data_dir is None  # built in: no folder to record
