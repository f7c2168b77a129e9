"""The command line as a user runs it: exit codes and one-line errors. What only a fresh
process shows (the ``python -m mstad`` entry point, ``--debug``'s traceback, the demo a new
user runs first) runs in a subprocess; the rest in this process (:mod:`tests.cli_run`)."""

import subprocess
import sys

import pytest

from tests.cli_run import mstad


def fresh_process(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mstad", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_prints_metrics_and_writes_a_run(tmp_path):
    done = fresh_process(
        "-q", "run", "--dataset", "synthetic", "--model", "zscore", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "concat" in done.stdout and "per entity" in done.stdout
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("_synthetic_zscore") and (run_dir / "metrics.json").is_file()


#: a data folder that does not exist: errors about the model must come before the data load
NO_DATA = ("run", "--dataset", "smap", "--data-dir", "/nonexistent")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--model", "nope"), "error: model 'nope' is unknown; choose one of best,"),
        (("run", "--model", "bets"), "model 'bets' is unknown (did you mean 'best'?)"),
        # checked before the data: the data folder does not even exist
        (
            (*NO_DATA, "--model", "knn", "-p", "k=2.5"),
            "model knn: parameter k=2.5 is not valid",
        ),
        (
            (*NO_DATA, "--model", "pca", "-p", "n_components=abc"),
            "parameter n_components='abc' is not valid",
        ),
        (("run", "--model", "zscore", "-p", "min_std=-1"), "parameter min_std=-1 is not valid"),
        (("run", "--model", "knn", "-p", "k=[1,2]"), "parameter k=[1, 2] is not valid"),
        (("run", "--model", "knn", "-p", "window=abc"), "parameter window='abc' is not valid"),
        (("run", "--model", "discord", "-p", "windows=abc"), "parameter windows='abc'"),
        (("run", "--model", "knn", "-p", "kk=3"), "unknown parameter 'kk' (did you mean 'k'?)"),
        (("run", "--out", "/proc/version/runs"), "cannot create the output folder"),
        (("benchmark", "--models", "zscore", "--seeds", "0,x"), "--seeds '0,x': expected"),
        (("run", "--dataset", "smap", "--data-dir", "/nonexistent"), "no labeled_anomalies.csv"),
        (("run", "-p", "window"), "expected KEY=VALUE"),
        # brackets in a message are data (units, paths), never console markup
        (("prepare", "/nonexistent/units [degC].yaml"), "units [degC].yaml: prepare config not"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(args, message, tmp_path):
    done = mstad(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_entry_point_prints_one_line_and_exits_2_and_debug_shows_the_traceback(tmp_path):
    done = fresh_process("run", "--model", "nope", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: model 'nope' is unknown")
    assert len(done.stderr.strip().splitlines()) == 1
    done = fresh_process("--debug", "run", "--model", "nope", cwd=tmp_path)
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
    done = fresh_process("-q", "demo", "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "synthetic · best" in done.stdout and "How to read this" in done.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "scores.parquet").is_file()
    # explained, model saved, report written: every report and dashboard panel has content
    assert (run_dir / "explain" / "mscred-synthetic.npy").is_file()
    assert (run_dir / "models" / "mscred-synthetic" / "detector.json").is_file()
    assert (run_dir / "report" / "index.html").is_file()
    assert f"mstaddashboard{run_dir}" in "".join(done.stdout.split())  # rich may wrap it


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


def test_plant_walk_through(tmp_path):
    """The README walk-through: raw CSVs → `mstad prepare` → `mstad run` (tiny MSCRED here)."""
    small = ["--train-batches", "2", "--test-batches", "1", "--stage-seconds", "60,120,60"]
    done = mstad("example-plant", "plant", *small, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = mstad("prepare", "plant/prepare.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "train 480 rows (2 batches), test 240 rows (1 batch), 2 labelled" in " ".join(
        done.stdout.split()
    )
    assert "outside the process schedule" in done.stdout
    tiny = ["-p", "windows=[5,10]", "-p", "gap=5", "-p", "steps=2", "-p", "epochs=1"]
    done = mstad(
        "-q",
        "run",
        "--dataset",
        "csv",
        "--data-dir",
        "plant/prepared",
        "--model",
        "mscred",
        *tiny,
        "--out",
        "runs",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "csv · mscred" in done.stdout and "concat" in done.stdout
    done = mstad("example-plant", "p2", "--stage-seconds", "10,20", cwd=tmp_path)
    assert done.returncode == 2 and "need 3 integers" in done.stderr
    done = mstad("prepare", "plant/missing.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "missing.yaml: prepare config not found" in done.stderr


def test_benchmark_seeds_report_mean_and_std(tmp_path):
    done = mstad(
        "-q",
        "benchmark",
        "--models",
        "iforest",
        "--seeds",
        "0,1,2",
        "--out",
        str(tmp_path),
        "--n-jobs",
        "1",
    )
    assert done.returncode == 0, done.stderr
    import pandas as pd

    per_seed = pd.read_csv(tmp_path / "benchmark_seeds.csv")
    assert per_seed["seed"].tolist() == [0, 1, 2]
    assert per_seed["concat_auroc"].nunique() > 1  # the seed reached the forest
    table = pd.read_csv(tmp_path / "benchmark.csv")
    assert table["seeds"].item() == 3
    assert table["concat_auroc"].item() == pytest.approx(per_seed["concat_auroc"].mean())
    assert table["concat_auroc_std"].item() == pytest.approx(per_seed["concat_auroc"].std())
    assert " ± " in (tmp_path / "benchmark.md").read_text()


def test_an_os_error_is_one_line_naming_the_path(tmp_path):
    done = mstad("-q", "run", "--model", "zscore", "--out", str(tmp_path))
    (run_dir,) = tmp_path.iterdir()
    done = mstad("report", str(run_dir), "--out", "/proc/version/report")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "/proc/version/report" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_resume_keeps_the_settings_a_run_started_with(tmp_path):
    done = mstad("-q", "run", "--dataset", "synthetic", "--model", "zscore", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (run_dir,) = tmp_path.iterdir()
    done = mstad("run", "--resume", str(run_dir), "--model", "knn", "--seed", "0")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "--model, --seed cannot change there" in done.stderr
    again = mstad("-q", "run", "--resume", str(run_dir), "--n-jobs", "1")
    assert again.returncode == 0, again.stderr
