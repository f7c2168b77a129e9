"""TSB-AD files: the training part from the name, labels of the test part, one-line errors."""

import numpy as np
import pandas as pd
import pytest

from mstad.data import load_dataset
from mstad.data.tsbad import load_tsbad, load_tsbad_file, train_end
from mstad.errors import DataError
from tests.cli_run import mstad

NAME = "001_Plant_id_1_Sensor_tr_200_1st_250.csv"


def write_file(folder, name=NAME, rows=400, sensors=("a", "b", "c"), anomaly=(250, 259)):
    """A TSB-AD-shaped CSV: ``sensors`` columns of noise, then ``Label`` (1 over ``anomaly``)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((rows, len(sensors))), columns=list(sensors))
    label = np.zeros(rows, dtype=int)
    label[anomaly[0] : anomaly[1] + 1] = 1
    frame["Label"] = label
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)
    return folder / name


def test_a_multivariate_file_splits_at_the_named_training_end(tmp_path):
    entity = load_tsbad_file(write_file(tmp_path))
    assert entity.name == NAME.removesuffix(".csv")
    assert entity.train.shape == (200, 3) and entity.test.shape == (200, 3)
    assert entity.sensors == ("a", "b", "c")
    # test-part positions: rows 250..259 of the file are test steps 50..59
    assert np.flatnonzero(entity.labels).tolist() == list(range(50, 60))
    ((start, end),) = [(iv.start, iv.end) for iv in entity.intervals]
    assert (start, end) == (50, 59)
    original = pd.read_csv(tmp_path / NAME)
    np.testing.assert_allclose(entity.test[0], original.iloc[200, :3].to_numpy(), rtol=1e-6)


def test_a_univariate_file_and_the_dataset_by_name(tmp_path):
    write_file(tmp_path, "002_NAB_id_2_Facility_tr_100_1st_300.csv", sensors=("Data",),
               anomaly=(300, 305))  # fmt: skip
    write_file(tmp_path)
    dataset = load_dataset("tsbad", tmp_path)
    assert dataset.names == [NAME.removesuffix(".csv"), "002_NAB_id_2_Facility_tr_100_1st_300"]
    uni = dataset["002_NAB_id_2_Facility_tr_100_1st_300"]
    assert uni.train.shape == (100, 1) and uni.test.shape == (300, 1)
    assert int(uni.labels.sum()) == 6
    # a subfolder named tsbad is found too, and a subset by name
    write_file(tmp_path / "outer" / "tsbad")
    sub = load_tsbad(tmp_path / "outer", [NAME.removesuffix(".csv")])
    assert sub.names == [NAME.removesuffix(".csv")]
    with pytest.raises(DataError, match="no file nope.csv"):
        load_tsbad(tmp_path, ["nope"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.rename(f.with_name("series.csv")), "does not say where training ends"),
        (lambda f: f.rename(f.with_name("x_tr_900_1st_950.csv")), "the file has 400 rows"),
        (
            lambda f: _edit(f, lambda d: d.assign(Label=np.r_[1, np.zeros(399, int)])),
            "row 0 is labelled anomalous inside the training part",
        ),
        (lambda f: _edit(f, lambda d: d.drop(columns="Label")), "no 'Label' column"),
        (lambda f: _edit(f, lambda d: d.assign(b="x")), "column 'b' is not numeric"),
        (lambda f: _edit(f, lambda d: d.assign(Label=2)), "must hold only 0 or 1"),
        (
            lambda f: _edit(f, lambda d: d.assign(a=np.r_[np.zeros(210), np.nan, np.zeros(189)])),
            "non-finite values",
        ),
    ],
)
def test_bad_files_are_one_error_naming_the_file(tmp_path, edit, message):
    edit(write_file(tmp_path))
    with pytest.raises(DataError, match=message) as caught:
        load_tsbad(tmp_path)
    assert str(tmp_path) in str(caught.value)


def _edit(path, change):
    change(pd.read_csv(path)).to_csv(path, index=False)


def test_train_end_reads_the_third_last_token_as_tsb_ad_does(tmp_path):
    from pathlib import Path

    assert train_end(Path("001_NAB_id_1_Facility_tr_1007_1st_2014.csv")) == 1007
    with pytest.raises(DataError, match="_tr_"):
        train_end(Path("107_SMAP_E-9_2075_5550.csv"))  # an older naming: tr is not third-last


def test_an_empty_folder_says_where_to_get_the_files(tmp_path):
    with pytest.raises(DataError, match="no TSB-AD .csv files"):
        load_tsbad(tmp_path)


def test_the_cli_runs_a_folder_of_tsb_ad_files(tmp_path):
    write_file(tmp_path / "data", anomaly=(300, 319))
    done = mstad("-q", "run", "--dataset", "tsbad", "--data-dir", tmp_path / "data",
                 "--model", "zscore", "--out", tmp_path / "runs")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("_tsbad_zscore")
    # a bad file: exit code 2 and one line naming it
    (tmp_path / "data" / NAME).write_text("a,b\n1,2\n")
    done = mstad("run", "--dataset", "tsbad", "--data-dir", tmp_path / "data",
                 "--model", "zscore", "--out", tmp_path / "runs")  # fmt: skip
    assert done.returncode == 2 and "no 'Label' column" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
