"""Model folders: fit → score equals the run's scores; one-line errors for foreign data and
folders; stream from the command line equals score; ONNX equals torch."""

import json

import numpy as np
import pandas as pd
import pytest

from mstad.data import load_dataset
from mstad.deploy.export import export_onnx
from mstad.deploy.fit import fit_model
from mstad.deploy.inputs import Table, read_file
from mstad.deploy.model import load_model
from mstad.deploy.stream import stream_rows
from mstad.errors import DataError
from mstad.runs.view import open_run
from tests.cli_run import mstad
from tests.conftest import TINY_DATA, TINY_MSCRED, make_run
from tests.models.test_contract import FAST, data


def one_line_error(done, *parts):
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and all(p in lines[0] for p in parts), done.stderr


@pytest.mark.parametrize("model", ["best", "zscore"])
def test_fit_then_score_equals_the_run_scores(tmp_path, model):
    run = open_run(make_run(tmp_path / "runs", model, seed=3))
    entity = next(iter(load_dataset("synthetic", None, None, **TINY_DATA)))
    table = Table(entity.train, list(entity.sensors), None, "synthetic")
    fitted = fit_model(
        table, {"kind": "none"}, {}, tmp_path / "model", model, {}, 3, {"method": "pot"}
    )
    loaded = load_model(tmp_path / "model")
    np.testing.assert_allclose(loaded.score(entity.test), run.score(entity.name), atol=1e-9, rtol=0)
    assert loaded.threshold == pytest.approx(run.threshold(entity.name), abs=1e-12)
    assert fitted.info["training"]["steps"] == len(entity.train)


@pytest.fixture(scope="module")
def csv_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("csv_model")
    train, test = data()
    columns = ["a", "b", "c", "d"]
    pd.DataFrame(train, columns=columns).to_csv(root / "train.csv", index=False)
    pd.DataFrame(test, columns=columns).to_csv(root / "test.csv", index=False)
    done = mstad(
        "fit", root / "train.csv", "--out", root / "model", "--model", "knn", "-p", "window=20"
    )
    assert done.returncode == 0, done.stderr
    return root


def test_score_writes_scores_and_events_and_reorders_columns(csv_model, tmp_path):
    done = mstad("score", csv_model / "model", csv_model / "test.csv", "--out", tmp_path / "a")
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(tmp_path / "a/scores.csv")
    assert list(scores.columns) == ["step", "score", "alarm"] and len(scores) == 250
    test = pd.read_csv(csv_model / "test.csv")
    test[["d", "b", "a", "c"]].to_csv(tmp_path / "shuffled.csv", index=False)
    done = mstad("score", csv_model / "model", tmp_path / "shuffled.csv", "--out", tmp_path / "b")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "b/scores.csv")["score"], scores["score"])
    events = pd.read_csv(tmp_path / "a/events.csv")
    assert (events.start <= 160).any() and "top_sensors" in events  # the burst at test step 150
    assert "scored steps are above the alarm threshold" not in done.stdout
    # every sensor moved to a level training never showed: one line says what that means
    moved = test.assign(**{c: test[c] + 50.0 for c in "abcd"})
    moved.to_csv(tmp_path / "moved.csv", index=False)
    done = mstad("score", csv_model / "model", tmp_path / "moved.csv")
    assert done.returncode == 0, done.stderr
    assert "moved.csv: 100% of its scored steps are above the alarm threshold" in " ".join(
        done.stdout.split()
    )


def test_a_label_column_is_never_a_sensor(csv_model, tmp_path):
    """TSB-AD-style files carry ``Label``: fit refuses labelled training rows and ignores an
    all-normal label column; score carries the labels beside the scores; stream skips them."""
    train = pd.read_csv(csv_model / "train.csv")
    train["Label"] = 0
    train.loc[[40, 41], "Label"] = 1
    train.to_csv(tmp_path / "labelled.csv", index=False)
    done = mstad("fit", tmp_path / "labelled.csv", "--out", tmp_path / "m", "--model", "zscore")
    one_line_error(done, "labelled.csv", "'Label' marks 2 rows as anomalous", "row 41", "normal")
    assert not (tmp_path / "m").exists()
    train["Label"] = 0
    train.to_csv(tmp_path / "normal.csv", index=False)
    done = mstad("fit", tmp_path / "normal.csv", "--out", tmp_path / "m", "--model", "zscore")
    assert done.returncode == 0, done.stderr
    assert load_model(tmp_path / "m").sensors == ["a", "b", "c", "d"]
    test = pd.read_csv(csv_model / "test.csv")
    test["is_anomaly"] = (np.arange(len(test)) >= 150).astype(int)
    test.to_csv(tmp_path / "test_labelled.csv", index=False)
    done = mstad("score", tmp_path / "m", tmp_path / "test_labelled.csv", "--out", tmp_path / "s")
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(tmp_path / "s/scores.csv")
    assert list(scores.columns) == ["step", "is_anomaly", "score", "alarm"]
    np.testing.assert_array_equal(scores["is_anomaly"], test["is_anomaly"])
    plain = mstad("score", tmp_path / "m", csv_model / "test.csv", "--out", tmp_path / "p")
    assert plain.returncode == 0, plain.stderr
    np.testing.assert_array_equal(scores["score"], pd.read_csv(tmp_path / "p/scores.csv").score)
    done = mstad("stream", tmp_path / "m", input=test.to_csv(index=False))
    assert done.returncode == 0, done.stderr
    streamed = pd.read_csv(pd.io.common.StringIO(done.stdout))
    np.testing.assert_allclose(streamed.score, scores.score, atol=1e-6)


def test_data_with_other_sensors_is_refused_in_one_line(csv_model, tmp_path):
    test = pd.read_csv(csv_model / "test.csv").rename(columns={"b": "z"})
    test.to_csv(tmp_path / "other.csv", index=False)
    done = mstad("score", csv_model / "model", tmp_path / "other.csv")
    one_line_error(done, "other.csv", "missing: b", "extra: z")
    done = mstad("stream", csv_model / "model", input=test.to_csv(index=False))
    one_line_error(done, "stdin", "missing: b", "extra: z")


def test_a_model_folder_of_another_version_or_incomplete_is_refused(csv_model, tmp_path):
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(csv_model / "model", copy)
    info = json.loads((copy / "model.json").read_text())
    info["mstad_version"] = "0.0.1"
    (copy / "model.json").write_text(json.dumps(info))
    one_line_error(mstad("score", copy, csv_model / "test.csv"), "written by mstad 0.0.1", "refit")
    (copy / "model.json").unlink()
    one_line_error(mstad("score", copy, csv_model / "test.csv"), "incomplete", "mstad fit")
    one_line_error(mstad("fit", csv_model / "train.csv", "--out", csv_model / "model"), "--force")


def test_stream_from_stdin_and_a_followed_file_equals_score(csv_model, tmp_path):
    model = load_model(csv_model / "model")
    test = pd.read_csv(csv_model / "test.csv")
    batch = model.score(test[model.sensors].to_numpy(np.float32))
    done = mstad("stream", csv_model / "model", input=test.to_csv(index=False))
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(pd.io.common.StringIO(done.stdout))
    assert (
        list(out.columns) == ["step", "score", "alarm"]
        and (out.step.to_numpy() == np.arange(250)).all()
    )
    np.testing.assert_allclose(out.score, batch, atol=1e-6)
    test.to_csv(tmp_path / "feed.csv", index=False)
    done = mstad(
        "stream",
        csv_model / "model",
        "--follow",
        tmp_path / "feed.csv",
        "--idle-exit",
        "1",
        "--chunk",
        "7",
    )
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(
        pd.read_csv(pd.io.common.StringIO(done.stdout)).score, batch, atol=1e-6
    )
    bad = test.astype(object)
    bad.loc[3, "c"] = "n/a"
    done = mstad("stream", csv_model / "model", input=bad.to_csv(index=False))
    one_line_error(done, "stdin line 5", "'c'", "not a number")


def test_a_decimal_comma_export_scores_and_streams_as_the_comma_file(csv_model, tmp_path):
    model = load_model(csv_model / "model")
    test = pd.read_csv(csv_model / "test.csv")
    batch = model.score(test[model.sensors].to_numpy(np.float32))
    lines = test.to_csv(index=False, sep=";", decimal=",").splitlines()
    assert "," in lines[1]  # decimal commas written
    # and a spreadsheet's trailing separator on every line: a column of no name, empty
    (tmp_path / "eu.csv").write_text("\n".join(line + ";" for line in lines) + "\n")
    table = read_file(tmp_path / "eu.csv")
    np.testing.assert_array_equal(table.values, test[model.sensors].to_numpy(np.float32))
    out = []
    lines = (tmp_path / "eu.csv").read_text().splitlines(keepends=True)
    assert stream_rows(model, lines, out.append) == 250
    streamed = pd.read_csv(pd.io.common.StringIO("\n".join(out)))
    np.testing.assert_allclose(streamed.score, batch, atol=1e-6)
    lines[3] = lines[3].rstrip("\n") + "9\n"  # a value under no name
    with pytest.raises(DataError, match=r"line 4: column 5 has no name in the header"):
        stream_rows(model, lines, out.append)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mscred", TINY_MSCRED),
        ("mscred", {**TINY_MSCRED, "target": "next"}),  # with the forecast's linear part
        ("msflow", FAST["msflow"]),
        ("msflow", {**FAST["msflow"], "flows": 2}),
        ("msflow", {**FAST["msflow"], "dilations": (1, 2, 1)}),  # dilated, reflect-padded
    ],
)
def test_onnx_graph_equals_torch_on_real_inputs(tmp_path, name, params):
    import onnxruntime

    train, test = data()
    table = Table(train, ["a", "b", "c", "d"], None, "arrays")
    fitted = fit_model(
        table, {"kind": "none"}, {}, tmp_path / "m", name, params, 0, {"method": "pot"}
    )
    if params.get("target") == "next":  # the part the graph must carry
        assert fitted.detector.network_.linear is not None
    result = export_onnx(fitted, tmp_path / "m.onnx", fitted.sample())
    assert result.max_abs_diff <= 1e-4 and result.path.is_file()
    # and on windows the check never saw: the test split
    from mstad.deploy.export import _graph

    module, sample, input_name, output_name = _graph(fitted, test)
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    got = session.run([output_name], {input_name: sample.numpy()})[0]
    import torch

    with torch.no_grad():
        np.testing.assert_allclose(got, module(sample).numpy(), atol=1e-4)


def test_export_of_a_detector_without_a_network_says_so(csv_model):
    one_line_error(mstad("export", csv_model / "model"), "knn", "mscred and msflow")


def test_the_terminal_shows_the_highest_peaks_in_time_order_when_events_are_many():
    from mstad.deploy.scoring import events_to_show

    peaks = np.full(27, 3.0)
    peaks[[20, 26]] = [6.1, 6.6]  # two faults after twenty blips
    peaks[[0, 5]] = [2.5, 2.6]  # the two lowest blips
    events = pd.DataFrame({"start": np.arange(27) * 10, "peak": peaks})
    shown = events_to_show(events)
    assert len(shown) == 20 and shown.start.is_monotonic_increasing
    assert {200, 260} <= set(shown.start) and not {0, 50} & set(shown.start)
    assert events_to_show(events.head(12)).equals(events.head(12))


def test_fitting_on_a_nasa_channel_uses_the_declared_flags(tmp_path):
    """`mstad fit --dataset smap --entity A-1` fits as `mstad run` does: the telemetry stuck at
    0 in training is read alone, not guessed a flag among the 24 command columns."""
    from mstad.deploy.fit import dataset_table
    from tests.data.test_bad_input import nasa_folder

    rng = np.random.default_rng(0)
    train, test = (
        np.column_stack([np.zeros(n), rng.random((n, 24)) < 0.1]).astype(np.float32)
        for n in (600, 40)
    )
    rows = ('A-1,SMAP,"[[10, 14]]",[point],40',)
    root = nasa_folder(tmp_path / "nasa", rows=rows, train=train, test=test)
    table, preparation, training = dataset_table("smap", root, "A-1", "train")
    assert table.flags == tuple(range(1, 25))
    model = tmp_path / "model"
    fit_model(table, preparation, training, model, "discord", {}, 0, {"method": "pot"})
    assert np.load(model / "detector" / "state.npz")["columns"].tolist() == [0]


def test_a_channel_fitted_from_the_data_set_scores_its_npy_file_by_position(tmp_path):
    """`mstad fit --dataset smap --entity A-1`, then `mstad score MODEL test/A-1.npy`: the .npy
    has no column names, so its 25 columns are the training sensors in order; the events name
    the telemetry, not the command flags that contributed nothing."""
    from tests.data.test_bad_input import nasa_folder

    rng = np.random.default_rng(1)
    train = np.column_stack([np.sin(np.arange(600) / 9), rng.random((600, 24)) < 0.1])
    test = np.column_stack([np.sin(np.arange(300) / 9), rng.random((300, 24)) < 0.1])
    test[150:170, 0] += 3.0
    rows = ('A-1,SMAP,"[[150, 169]]",[point],300',)
    root = nasa_folder(tmp_path / "nasa", rows=rows, train=train, test=test)
    model = tmp_path / "model"
    done = mstad("fit", "--dataset", "smap", "--data-dir", root, "--entity", "A-1", "--out", model)
    assert done.returncode == 0, done.stderr
    done = mstad("score", model, root / "test" / "A-1.npy", "--out", tmp_path / "scores")
    assert done.returncode == 0, done.stderr
    events = pd.read_csv(tmp_path / "scores" / "events.csv")
    fault = events[(events.start <= 169) & (events.end >= 150)]
    assert fault.top_sensors.tolist() == ["telemetry (100 %)"]
    np.save(tmp_path / "narrow.npy", test[:, :3])
    one_line_error(
        mstad("score", model, tmp_path / "narrow.npy"),
        "narrow.npy: 3 columns, but the model was fitted on 25 sensors (telemetry, command_01",
    )


def test_fit_warns_when_training_is_too_short_for_a_validation_tail(csv_model, tmp_path):
    train = pd.read_csv(csv_model / "train.csv")
    train.head(60).to_csv(tmp_path / "short.csv", index=False)  # discord: 50 each side needed
    done = mstad("-q", "fit", tmp_path / "short.csv", "--out", tmp_path / "m", "--model", "discord")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # the console wraps long lines
    assert "short.csv: 60 training steps are too few to hold out a validation tail" in said
    assert load_model(tmp_path / "m").info["validation"]["fitted_on"] == "train"
    done = mstad("-q", "fit", csv_model / "train.csv", "--out", tmp_path / "n", "--model", "zscore")
    assert done.returncode == 0 and "too few" not in done.stdout, done.stderr
