"""A run writes the documented directory, and its metrics can be recomputed from its scores."""

import numpy as np
import pytest
import yaml

from mstad import DEFAULT_THRESHOLD
from mstad.config import RunConfig, load_config
from mstad.errors import ConfigError
from mstad.evaluation import entity_metrics
from mstad.runs import read_json, read_scores, run_experiment

TINY = {"n_sensors": 6, "n_steps": 3000, "train_end": 1500, "n_anomalies": 3, "amplitude": 3.0}


def tiny_config(tmp_path, **changes) -> RunConfig:
    base = dict(
        dataset="synthetic", dataset_options=TINY, model="zscore", output_dir=tmp_path, n_jobs=1
    )
    return RunConfig(**{**base, **changes})


def test_run_directory_contract(tmp_path):
    result = run_experiment(tiny_config(tmp_path, explain=True, save_models=True))
    files = {p.name for p in result.path.iterdir()}
    assert {
        "config.yaml",
        "scores.parquet",
        "metrics.json",
        "timing.json",
        "warnings.json",
        "calibration.json",
        "explain",
        "models",
    } <= files
    config = yaml.safe_load((result.path / "config.yaml").read_text())
    assert config["seed"] == 0 and config["model"] == "zscore" and "mstad_version" in config
    scores = read_scores(result.path)
    assert list(scores.columns) == ["entity", "t", "score", "label", "split"]
    assert len(scores) == 1500 and scores["t"].tolist() == list(range(1500))
    metrics = read_json(result.path / "metrics.json")
    recomputed = entity_metrics(scores["label"].to_numpy(bool), scores["score"].to_numpy())
    assert metrics["concat"]["auroc"] == pytest.approx(recomputed["auroc"], abs=1e-12)
    assert metrics["concat"]["auroc"] > 0.6
    assert np.load(result.path / "explain" / "mscred-synthetic.npy").shape == (1500, 6)
    assert (result.path / "models" / "mscred-synthetic" / "detector.json").is_file()
    timing = read_json(result.path / "timing.json")
    assert timing["entities"]["mscred-synthetic"]["steps_per_s"] > 0


def test_runs_are_never_overwritten(tmp_path):
    first = run_experiment(tiny_config(tmp_path))
    second = run_experiment(tiny_config(tmp_path))
    assert first.path != second.path and first.path.exists() and second.path.exists()


def test_process_pool_gives_the_same_scores_as_in_process(tmp_path, real_data):
    serial = run_experiment(
        RunConfig(dataset="smd", data_dir=real_data, model="pca", output_dir=tmp_path, n_jobs=1)
    )
    pooled = run_experiment(
        RunConfig(dataset="smd", data_dir=real_data, model="pca", output_dir=tmp_path, n_jobs=2)
    )
    a, b = read_scores(serial.path), read_scores(pooled.path)
    np.testing.assert_allclose(a["score"], b["score"])
    assert serial.metrics["n_entities"] == 2 and pooled.timing["n_jobs"] == 2


def test_yaml_config_with_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("dataset: smd\nmodel: knn\nparams: {window: 50}\n")
    config = load_config(path, {"model": None, "params": {"k": 3}, "seed": 7})
    assert (config.dataset, config.model, config.params, config.seed) == (
        "smd",
        "knn",
        {"window": 50, "k": 3},
        7,
    )
    path.write_text("dataset: smd\nwindow: 50\n")
    with pytest.raises(ConfigError, match=r"run.yaml: unknown key 'window'; valid keys: dataset"):
        load_config(path)


def test_shipped_configs_are_valid():
    from mstad.models import make_detector
    from tests.conftest import REPO

    config = load_config(REPO / "configs" / "example.yaml")
    assert config.model == "knn" and config.params == {"window": 100, "k": 1}
    # it says it lists every key of RunConfig: it must
    written = yaml.safe_load((REPO / "configs" / "example.yaml").read_text())
    assert list(written) == list(RunConfig.model_fields)
    assert config.threshold.method == DEFAULT_THRESHOLD == RunConfig().threshold.method
    for path in sorted((REPO / "configs").glob("*.yaml")):
        if path.name.startswith("prepare"):
            continue  # a prepare config, checked in tests/data/plant
        config = load_config(path)
        make_detector(config.model, **config.params)  # every parameter is known


@pytest.mark.parametrize(("params", "expected"), [({}, 3), ({"seed": 9}, 9)])
def test_the_run_seed_reaches_every_seeded_detector(tmp_path, params, expected):
    result = run_experiment(
        tiny_config(tmp_path, model="iforest", params=params, seed=3, save_models=True)
    )
    saved = read_json(result.path / "models" / "mscred-synthetic" / "detector.json")
    assert saved["params"]["seed"] == expected
    assert read_json(result.path / "metrics.json")["model"] == "iforest"


def test_a_bad_parameter_is_reported_before_the_data_is_read(tmp_path):
    config = tiny_config(tmp_path, dataset="smap", data_dir=tmp_path / "absent", model="knn")
    with pytest.raises(ConfigError, match="parameter k=0 is not valid"):
        run_experiment(config.model_copy(update={"params": {"k": 0}}))


def test_the_run_device_reaches_every_torch_detector_and_only_them():
    from mstad.runs.runner import detector_params

    for model in ("mscred", "msflow", "lstm_ad", "usad", "tranad", "omnianomaly"):
        config = load_config(None, {"model": model, "device": "cpu"})
        assert detector_params(config) == {"device": "cpu"}, model
    assert detector_params(load_config(None, {"model": "discord", "device": "cuda"})) == {}
    given = load_config(None, {"model": "usad", "device": "cuda", "params": {"device": "cpu"}})
    assert detector_params(given) == {"device": "cpu"}  # -p device=... wins
    with pytest.raises(ConfigError, match="device"):
        load_config(None, {"model": "usad", "device": "gpu0"})


def test_a_device_this_machine_lacks_is_one_line_before_any_data_is_read():
    import torch

    from mstad.runs.runner import check_config

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    config = load_config(None, {"model": "tranad", "device": "cuda:0"})
    with pytest.raises(ConfigError, match=r"device 'cuda:0': no CUDA GPU here.*--device auto"):
        check_config(config)
    check_config(load_config(None, {"model": "discord", "device": "cuda:0"}))  # CPU model


def write_tsbad(folder, names, rows=1200, train=600):
    """Tiny TSB-AD files (two sensors, one spike each) — a multi-entity data set in tmp_path."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k, name in enumerate(names):
        values = np.sin(np.arange(rows)[:, None] / (5 + k) + np.arange(2)) + 0.05 * rng.normal(
            size=(rows, 2)
        )
        labels = np.zeros(rows, dtype=int)
        values[900:910] += 3.0
        labels[900:910] = 1
        table = np.column_stack([values, labels])
        np.savetxt(
            folder / f"{k:03d}_{name}_id_{k}_tiny_tr_{train}_1st_900.csv",
            table,
            delimiter=",",
            header="a,b,Label",
            comments="",
            fmt=["%.6f", "%.6f", "%d"],
        )


def test_pool_workers_report_their_epochs_to_the_parent_and_to_the_run_log(tmp_path):
    from mstad.progress import reporting

    write_tsbad(tmp_path / "tsbad", ["left", "right"])
    steps = []
    config = RunConfig(
        dataset="tsbad",
        data_dir=tmp_path / "tsbad",
        model="usad",
        params={"epochs": 2, "patience": 5},
        output_dir=tmp_path / "runs",
        n_jobs=2,
    )
    with reporting(steps.append):
        result = run_experiment(config)
    assert result.timing["n_jobs"] == 2  # the entities were fitted in pool workers
    for name in result.metrics["entities"]:
        lane = [s for s in steps if s.lane == name]
        assert [s.what for s in lane if not s.milestone][:2] == ["fit", "score"]
        epochs = [s for s in lane if s.milestone]
        assert [(s.done, s.total) for s in epochs] == [(1, 2), (2, 2)]
        assert epochs[0].what.startswith("usad epoch 1: loss ")
    log = (result.path / "run.log").read_text()
    for name in result.metrics["entities"]:
        line = next(x for x in log.splitlines() if f"entity {name}: usad epoch 2: loss " in x)
        assert line.endswith(" s [2 of at most 2]")


def test_a_training_split_too_short_to_hold_out_validation_is_a_warning(tmp_path):
    # discord's shortest window is 25: a split needs 50 steps each side of it
    short = {**TINY, "n_steps": 400, "train_end": 60, "n_anomalies": 1}
    result = run_experiment(tiny_config(tmp_path, dataset_options=short, model="discord"))
    assert read_json(result.path / "calibration.json")["mscred-synthetic"]["fitted_on"] == "train"
    lines = read_json(result.path / "warnings.json")
    assert any("mscred-synthetic: 60 training steps are too few to hold out" in w for w in lines)
    assert result.warnings == lines
    assert (
        f"{len(lines)} data warning(s), see warnings.json"
        in (read_json(result.path / "metrics.json")["warnings"])
    )
    # enough training: calibrated on a validation tail, no such line
    result = run_experiment(tiny_config(tmp_path, model="discord"))
    assert read_json(result.path / "calibration.json")["mscred-synthetic"]["fitted_on"] == (
        "validation"
    )
    assert not any("too few" in w for w in read_json(result.path / "warnings.json"))


def test_an_entity_alarming_on_most_test_steps_is_a_warning(tmp_path):
    from mstad.data import load_dataset
    from mstad.runs.finalize import EntityResult, run_warnings

    dataset = load_dataset("synthetic", **TINY)
    name = dataset.entities[0].name
    n = len(dataset.entities[0].test)

    def result(share):
        scores = np.where(np.arange(n) < share * n, 6.0, 1.0)
        return EntityResult(
            name, scores, None, None, 0.0, 0.0, {"fitted_on": "validation"}, {"value": 3.0}
        )

    lines = run_warnings(dataset, [result(0.9)])
    assert lines[0].startswith(f"{name}: 90% of its scored steps are above")  # results first
    assert not any("scored steps" in w for w in run_warnings(dataset, [result(0.1)]))
