"""SMAP loader against the facts of the published data, and its bad-input messages."""

import numpy as np
import pytest

from mstad.data import load_dataset, load_nasa
from mstad.errors import DataError


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


@pytest.mark.realdata
def test_msl_request_fails_clearly_when_arrays_are_absent(real_data):
    with pytest.raises(DataError, match=r"27 MSL channel\(s\) lack train/<chan>.npy"):
        load_dataset("msl", real_data)


@pytest.mark.realdata
def test_channel_subset_and_unknown_channel(real_data):
    assert load_dataset("smap", real_data, ["E-1", "A-1"]).names == ["E-1", "A-1"]
    with pytest.raises(DataError, match="unknown SMAP channel"):
        load_dataset("smap", real_data, ["Z-99"])
