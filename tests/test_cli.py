"""The command line as a user runs it: a subprocess, exit codes and one-line errors."""

import subprocess
import sys

import pytest


def mstad(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mstad", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_prints_metrics_and_writes_a_run(tmp_path):
    done = mstad("-q", "run", "--dataset", "synthetic", "--model", "zscore", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "concat" in done.stdout and "per_entity_mean" in done.stdout
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("_synthetic_zscore") and (run_dir / "metrics.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--model", "nope"), "error: model 'nope' is unknown; choose one of"),
        (("run", "--dataset", "smap", "--data-dir", "/nonexistent"), "no labeled_anomalies.csv"),
        (("run", "-p", "window"), "expected KEY=VALUE"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(args, message, tmp_path):
    done = mstad(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    done = mstad("--debug", "run", "--model", "nope", cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_datasets_lists_what_is_found(real_data):
    done = mstad("datasets", "--data-dir", str(real_data))
    assert done.returncode == 0
    assert "435826" in done.stdout and "55972" in done.stdout and "msl: " in done.stdout


def test_models_lists_the_baselines():
    done = mstad("models")
    assert done.returncode == 0
    for name in ("zscore", "pca", "knn", "iforest"):
        assert name in done.stdout


def test_demo_runs_on_a_fresh_folder(tmp_path):
    done = mstad("-q", "demo", "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "synthetic · knn" in done.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "scores.parquet").is_file()


def test_benchmark_and_evaluate_commands(tmp_path):
    done = mstad(
        "-q",
        "benchmark",
        "--models",
        "zscore",
        "--datasets",
        "synthetic",
        "--out",
        str(tmp_path / "bench"),
        "--n-jobs",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert "| synthetic | zscore |" in done.stdout
    run_dir = tmp_path / "bench" / "synthetic_zscore"
    done = mstad("evaluate", str(run_dir), "--expand", "5")
    assert done.returncode == 0, done.stderr
    assert (run_dir / "metrics_expand5_vus100.json").is_file()
    assert "point-adjusted F1" in done.stdout  # PA is never shown without its warning
    done = mstad("evaluate", str(tmp_path))
    assert done.returncode == 2 and "no config.yaml" in done.stderr
