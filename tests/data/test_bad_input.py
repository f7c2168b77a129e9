"""Every bad input gets a one-line error that names the file or field and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mstad.config import build_config, parse_params
from mstad.data import Entity, load_dataset, load_nasa, load_smd
from mstad.errors import ConfigError, DataError

GOOD_CSV_ROW = 'A-1,SMAP,"[[10, 14]]",[point],40'


def nasa_folder(tmp: Path, rows=(GOOD_CSV_ROW,), train=None, test=None) -> Path:
    """A telemanom-layout folder with channel A-1 (40 test steps, 3 sensors)."""
    (tmp / "train").mkdir(parents=True, exist_ok=True)
    (tmp / "test").mkdir(exist_ok=True)
    header = "chan_id,spacecraft,anomaly_sequences,class,num_values"
    (tmp / "labeled_anomalies.csv").write_text("\n".join([header, *rows]) + "\n")
    rng = np.random.default_rng(0)
    np.save(tmp / "train" / "A-1.npy", rng.normal(size=(50, 3)) if train is None else train)
    np.save(tmp / "test" / "A-1.npy", rng.normal(size=(40, 3)) if test is None else test)
    return tmp


def smd_folder(tmp: Path, interpretation="10-15:1,2\n", labels=None) -> Path:
    for sub in ("train", "test", "test_label", "interpretation_label"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.savetxt(tmp / "train" / "m-1.txt", rng.random((30, 4)), delimiter=",", fmt="%.4f")
    np.savetxt(tmp / "test" / "m-1.txt", rng.random((30, 4)), delimiter=",", fmt="%.4f")
    lab = np.zeros(30, int) if labels is None else labels
    lab[10:15] = 1
    np.savetxt(tmp / "test_label" / "m-1.txt", lab, fmt="%d")
    (tmp / "interpretation_label" / "m-1.txt").write_text(interpretation)
    return tmp


def with_nan(shape, where=(3, 1), value=np.nan):
    arr = np.random.default_rng(1).normal(size=shape)
    arr[where] = value
    return arr


NASA_CASES = {
    "nan in train": (
        dict(train=with_nan((50, 3))),
        r"train/A-1.npy: 1 non-finite values \(NaN/inf\), first at step 3, sensor 1",
    ),
    "inf in test": (dict(test=with_nan((40, 3), value=np.inf)), r"test/A-1.npy: 1 non-finite"),
    "1-D array": (dict(train=np.zeros(50)), r"train/A-1.npy: expected a 2-D array.*reshape"),
    "3-D array": (dict(test=np.zeros((40, 3, 2))), r"test/A-1.npy: expected a 2-D array"),
    "too short": (dict(train=np.zeros((5, 3))), r"train/A-1.npy: only 5 time steps, need at least"),
    "sensor count differs": (
        dict(test=np.zeros((40, 2))),
        r"test/A-1.npy: 2 sensors but .*train/A-1.npy has 3",
    ),
    "malformed interval": (
        dict(rows=('A-1,SMAP,"[[10, ]]",[point],40',)),
        r"row 2 \(channel A-1\): anomaly_sequences .* not a list of \[start, end\]",
    ),
    "interval past num_values": (
        dict(rows=('A-1,SMAP,"[[10, 40]]",[point],40',)),
        r"channel A-1\): interval \[10, 40\] lies outside 0..39",
    ),
    "test length differs": (
        dict(rows=('A-1,SMAP,"[[10, 14]]",[point],41',)),
        r"test/A-1.npy: 40 steps but labeled_anomalies.csv says num_values = 41",
    ),
    "num_values not a number": (
        dict(rows=('A-1,SMAP,"[[1, 2]]",[point],many',)),
        r"num_values 'many' is not an integer",
    ),
}


@pytest.mark.parametrize("case", NASA_CASES, ids=list(NASA_CASES))
def test_nasa_bad_inputs(tmp_path, case):
    kwargs, message = NASA_CASES[case]
    root = nasa_folder(tmp_path, **kwargs)
    with pytest.raises(DataError, match=message) as err:
        load_nasa(root, "SMAP")
    assert "\n" not in str(err.value)


def test_corrupt_npy(tmp_path):
    root = nasa_folder(tmp_path)
    (root / "test" / "A-1.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"test/A-1.npy: not a readable .npy array.*re-download"):
        load_nasa(root)


def test_missing_column(tmp_path):
    root = nasa_folder(tmp_path)
    (root / "labeled_anomalies.csv").write_text("chan_id,spacecraft\nA-1,SMAP\n")
    with pytest.raises(DataError, match="missing column.*anomaly_sequences, num_values"):
        load_nasa(root)


def test_missing_npy_says_where_files_go(tmp_path):
    root = nasa_folder(tmp_path)
    (root / "train" / "A-1.npy").unlink()
    with pytest.raises(
        DataError, match=r"1 SMAP channel\(s\) lack .*first: A-1.*put the SMAP arrays"
    ):
        load_nasa(root)


def test_unknown_channel(tmp_path):
    with pytest.raises(DataError, match="unknown SMAP channel.*B-7"):
        load_nasa(nasa_folder(tmp_path), "SMAP", ["B-7"])


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no labeled_anomalies.csv here or in .*nasa"):
        load_dataset("smap", tmp_path)
    with pytest.raises(DataError, match="no train/ and test/ folders"):
        load_dataset("smd", tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError, match="no <machine>.txt files; the folder is empty"):
        load_smd(tmp_path)


def test_constant_sensor_is_a_warning_not_an_error(tmp_path):
    train = np.random.default_rng(0).normal(size=(50, 3))
    train[:, 2] = 1.0
    entity = load_nasa(nasa_folder(tmp_path, train=train))["A-1"]
    assert entity.warnings == (
        f"{tmp_path / 'train' / 'A-1.npy'}: 1 sensor(s) constant in train (index 2)",
    )


SMD_CASES = {
    "malformed interpretation": (
        dict(interpretation="10-15 1,2\n"),
        r"m-1.txt line 1: '10-15 1,2' is not 'start-end:d1,d2,…'",
    ),
    "sensor out of range": (dict(interpretation="10-15:0,2\n"), r"sensors are numbered 1..4"),
    "range past the end": (dict(interpretation="10-45:1\n"), r"range 10-45 is not within 0..30"),
    "label count": (dict(labels=np.zeros(29, int)), r"29 labels for 30 test rows"),
}


@pytest.mark.parametrize("case", SMD_CASES, ids=list(SMD_CASES))
def test_smd_bad_inputs(tmp_path, case):
    kwargs, message = SMD_CASES[case]
    with pytest.raises(DataError, match=message):
        load_smd(smd_folder(tmp_path, **kwargs))


def test_smd_non_numeric_cell(tmp_path):
    root = smd_folder(tmp_path)
    (root / "test" / "m-1.txt").write_text("1,2,3,x\n" * 30)
    with pytest.raises(DataError, match=r"test/m-1.txt: not a comma-separated table of numbers"):
        load_smd(root)


def test_unknown_dataset_model_and_config_key():
    with pytest.raises(ConfigError, match="dataset 'nasa' is unknown; choose one of smap, msl"):
        load_dataset("nasa")
    with pytest.raises(ConfigError, match="unknown key 'modle'; valid keys: dataset, data_dir"):
        build_config({"modle": "knn"})
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_params(["window"])


# ---- issue 18: numbers, names and files that used to slip through ---------------------------
NUMBER_CASES = {
    "1e300 overflows float32": (dict(train=with_nan((50, 3), value=1e300)), r"beyond the float32"),
    "1e39 overflows float32": (dict(test=with_nan((40, 3), value=1e39)), r"test/A-1.npy: 1 value"),
    "complex array": (
        dict(train=np.ones((50, 3)) + 1j),
        r"train/A-1.npy: expected real numbers .*got dtype complex128",
    ),
    "bool array": (dict(test=np.ones((40, 3), bool)), r"test/A-1.npy: expected real numbers"),
    "bool interval bound": (
        dict(rows=('A-1,SMAP,"[[true, 5]]",[point],40',)),
        r"anomaly_sequences .* not a list of \[start, end\] integer pairs",
    ),
}


@pytest.mark.parametrize("case", NUMBER_CASES, ids=list(NUMBER_CASES))
def test_numbers_are_checked_after_the_cast_with_the_file_named(tmp_path, case):
    kwargs, message = NUMBER_CASES[case]
    with pytest.raises(DataError, match=message) as info:
        load_nasa(nasa_folder(tmp_path, **kwargs))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../A-1", "../../x", "a/b", ".hidden", "..", "A 1"])
def test_channel_ids_that_are_not_plain_file_names_are_refused(tmp_path, name):
    root = nasa_folder(tmp_path, rows=(f'{name},SMAP,"[[10, 14]]",[point],40',))
    with pytest.raises(DataError, match=r"labeled_anomalies.csv row 2, chan_id: entity name"):
        load_nasa(root)


def test_entity_names_are_plain_file_names():
    data = np.zeros((20, 2), np.float32)
    with pytest.raises(DataError, match=r"entity name '../../etc' is not a plain file name"):
        Entity("../../etc", data, data, None)
    assert Entity("machine-1-1.v2_a", data, data, None).name == "machine-1-1.v2_a"


def test_damaged_npy_header_is_one_line(tmp_path):
    root = nasa_folder(tmp_path)
    raw = (root / "train" / "A-1.npy").read_bytes()
    damaged = raw[:10] + b"{'descr': '<f8', 'fortran_order': False, 'shape': (50, " + raw[70:]
    (root / "train" / "A-1.npy").write_bytes(damaged)
    with pytest.raises(DataError, match=r"train/A-1.npy: not a readable .npy array") as info:
        load_nasa(root)
    assert "\n" not in str(info.value)


def test_smd_interpretation_outside_every_labelled_step(tmp_path):
    with pytest.raises(DataError, match=r"range 20-25 covers no step labelled 1"):
        load_smd(smd_folder(tmp_path, interpretation="20-25:1\n"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_sensors": "abc"}, r"dataset synthetic option: parameter n_sensors='abc' is not valid"),
        ({"n_sensors": 0}, r"parameter n_sensors=0 is not valid.*integer >= 3"),
        ({"n_entitis": 2}, r"unknown parameter 'n_entitis' \(did you mean 'n_entities'\?\)"),
        ({"seed": 2**40}, r"parameter seed=1099511627776 is not valid"),
    ],
)
def test_dataset_options_are_validated_like_parameters(options, message):
    with pytest.raises(ConfigError, match=message):
        load_dataset("synthetic", None, None, **options)


def test_file_data_sets_take_no_options(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset smap option: unknown parameter 'spacecraft'"):
        load_dataset("smap", nasa_folder(tmp_path), None, spacecraft="MSL")


def test_the_run_seed_has_the_range_every_library_accepts():
    with pytest.raises(
        ConfigError, match=r"seed: Input should be less than or equal to 4294967295"
    ):
        build_config({"seed": 2**32})
    with pytest.raises(ConfigError, match=r"seed: Input should be greater than or equal to 0"):
        build_config({"seed": -1})
