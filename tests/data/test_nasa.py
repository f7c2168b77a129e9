"""SMAP loader against the facts of the published data, and its bad-input messages."""

import numpy as np
import pytest

from mstad.config import RunConfig
from mstad.data import load_dataset, load_nasa
from mstad.errors import DataError
from mstad.runs import read_json, run_experiment
from tests.data.test_bad_input import nasa_folder


@pytest.mark.realdata
def test_smap_counts_match_the_published_data(real_data):
    smap = load_nasa(real_data, "SMAP")
    summary = smap.summary()
    assert summary["entities"] == 54
    assert summary["test_steps"] == 435_826
    assert summary["train_steps"] == 138_004
    assert summary["anomalous_steps"] == 55_972  # P-2's two rows united (55,817 if overwritten)
    assert all(e.train.dtype == np.float32 and e.n_sensors == 25 for e in smap)
    p2 = smap["P-2"]
    assert [(i.start, i.end) for i in p2.intervals] == [(5300, 6575)]
    assert p2.labels[5300] and p2.labels[6575] and not p2.labels[6576]  # inclusive end
    assert smap["A-1"].sensors[0] == "telemetry"
    assert smap["A-1"].flags == tuple(range(1, 25))


@pytest.mark.realdata
def test_msl_request_fails_clearly_when_arrays_are_absent(real_data):
    with pytest.raises(DataError, match=r"27 MSL channel\(s\) lack train/<chan>.npy"):
        load_dataset("msl", real_data)


@pytest.mark.realdata
def test_channel_subset_and_unknown_channel(real_data):
    assert load_dataset("smap", real_data, ["E-1", "A-1"]).names == ["E-1", "A-1"]
    with pytest.raises(DataError, match="unknown SMAP channel"):
        load_dataset("smap", real_data, ["Z-99"])


def test_the_loader_declares_the_command_flags_and_a_run_uses_them(tmp_path):
    """A telemetry value stuck at exactly 0 all through training looks like one more 0/1 flag;
    the loader says which columns are flags, so `mstad run` reads the telemetry alone and finds
    the departure (guessed, the 24 random flags would be inputs too)."""
    rng = np.random.default_rng(0)
    train = np.column_stack([np.zeros(1500), rng.random((1500, 24)) < 0.1]).astype(np.float32)
    test = np.column_stack([np.zeros(1200), rng.random((1200, 24)) < 0.1]).astype(np.float32)
    test[600:700, 0] = 0.3
    row = 'A-1,SMAP,"[[600, 699]]",[contextual],1200'
    root = nasa_folder(tmp_path / "nasa", rows=(row,), train=train, test=test)
    entity = load_nasa(root, "SMAP")["A-1"]
    assert entity.flags == tuple(range(1, 25))
    config = RunConfig(
        dataset="smap", data_dir=root, model="discord", output_dir=tmp_path / "runs", n_jobs=1
    )
    metrics = read_json(run_experiment(config).path / "metrics.json")
    assert metrics["concat"]["auroc"] > 0.99
