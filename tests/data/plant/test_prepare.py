"""The prepare pipeline end to end on the example plant: counts, report, normalisation, labels."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from mstad.data import load_dataset
from mstad.data.plant import load_prepare_config, prepare
from mstad.data.plant.reading import split_unit
from mstad.errors import DataError
from tests.data.plant.conftest import edit_config, european


def test_split_unit():
    assert split_unit("temp_01 [degC]") == ("temp_01", "degC")
    assert split_unit(" flow (m3/h) ") == ("flow", "m3/h")
    assert split_unit("valve") == ("valve", None)


def test_prepare_writes_a_loadable_data_set(plant):
    result = prepare(load_prepare_config(plant))
    manifest = json.loads((result.output_dir / "manifest.json").read_text())
    # 3 stages of 60 + 120 + 60 s at 1 s per batch, the 60 s lead-in dropped
    assert manifest["rows"] == {"train": 480, "test": 240}
    assert manifest["stages"] == ["cool", "heat", "react"]
    assert len(manifest["sensors"]) == 30 and manifest["units"]["press_10"] == "bar"
    assert manifest["sensors"] == sorted(manifest["sensors"])
    train = pd.read_parquet(result.output_dir / "train.parquet")
    assert list(train.columns[:3]) == ["batch", "stage", "timestamp"]
    assert str(train["timestamp"].dt.tz) == "UTC"
    # the schedule is in local time (UTC+1): the first stage starts 06:01 local = 05:01 UTC
    assert train["timestamp"].iloc[0] == pd.Timestamp("2024-01-08T05:01:00Z")
    entity = load_dataset("csv", result.output_dir).entities[0]
    assert entity.train.shape == (480, 30) and entity.test.shape == (240, 30)
    assert entity.name == "example-plant" and len(entity.intervals) == 1
    assert entity.labels.sum() == entity.intervals[0].length


def test_loss_report_counts_every_row(plant):
    report = prepare(load_prepare_config(plant)).report.to_frame()
    by = report.groupby(["action", "reason"])["rows"].sum()
    assert by[("dropped", "outside the process schedule")] == 3 * 60  # the lead-in per batch
    assert by[("dropped", "repeated timestamp (merged: mean)")] == 3 * 3 * 2  # 2 per file
    # pressures are sampled every 2 s: every other 1 s row is forward-filled, and counted
    assert by[("filled", "gap ≤ 3 periods (forward fill)")] >= 3 * 240 // 2
    assert set(report["source"]) >= {str(plant.parent / "raw" / "batch_00")}


def test_clipping_is_counted(plant):
    config = edit_config(plant, clip=1.0)
    result = prepare(config)
    test = pd.read_parquet(result.output_dir / "test.parquet")
    sensors = result.manifest["sensors"]
    assert np.abs(test[sensors].to_numpy()).max() <= 1.0
    assert result.report.total("clipped") > 0
    assert result.manifest["loss"]["clipped"] == result.report.total("clipped")


def test_labels_map_to_test_rows_and_causes(plant):
    result = prepare(load_prepare_config(plant))
    raw = pd.read_csv(plant.parent / "labels.csv")
    labels = pd.read_csv(result.output_dir / "labels.csv", keep_default_na=False)
    assert labels["causes"].tolist() == raw["causes"].tolist()
    test = pd.read_parquet(result.output_dir / "test.parquet")
    start = pd.Timestamp(raw["start"][0]).tz_localize("Europe/Berlin").tz_convert("UTC")
    assert test["timestamp"][labels["start"][0]] == start
    span = pd.Timestamp(raw["end"][0]) - pd.Timestamp(raw["start"][0])
    assert labels["end"][0] - labels["start"][0] + 1 == span.total_seconds()


def test_a_schedule_and_labels_saved_with_semicolons_prepare_alike(plant):
    first = prepare(load_prepare_config(plant))
    expected = [pd.read_csv(first.output_dir / "labels.csv", keep_default_na=False)]
    expected.append(pd.read_parquet(first.output_dir / "test.parquet"))
    for name in ("schedule.csv", "labels.csv"):  # as a spreadsheet in a ';' locale saves them
        frame = pd.read_csv(plant.parent / name, dtype=str)
        for column in ("start", "end"):  # with its times day first, as such a locale writes
            frame[column] = pd.to_datetime(frame[column]).dt.strftime("%d.%m.%Y %H:%M:%S")
        frame.to_csv(plant.parent / name, sep=";", index=False)
    assert '"' in (plant.parent / "labels.csv").read_text()  # causes quoted: they hold ';'
    again = prepare(load_prepare_config(plant))
    labels = pd.read_csv(again.output_dir / "labels.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(labels, expected[0])
    pd.testing.assert_frame_equal(pd.read_parquet(again.output_dir / "test.parquet"), expected[1])


def test_schedule_times_that_read_day_first_and_month_first_alike_are_an_error(plant):
    frame = pd.read_csv(plant.parent / "schedule.csv", dtype=str)
    for column in ("start", "end"):  # the small plant runs January 8-10: 01/08 is ambiguous
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%m/%d/%Y %H:%M:%S")
    frame.to_csv(plant.parent / "schedule.csv", index=False)
    with pytest.raises(DataError, match=r"schedule.csv: column 'start' holds a time that is not"):
        prepare(load_prepare_config(plant))
    with pytest.raises(DataError, match=r"read as %d/%m/%Y %H:%M:%S and as %m/%d/%Y %H:%M:%S"):
        prepare(load_prepare_config(plant))


def test_mscred_label_format(plant, tmp_path):
    path = tmp_path / "test_anomaly.csv"
    path.write_text("40,0,3,5\n200,1,2,3\n")
    config = edit_config(plant, labels=str(path), labels_format="mscred")
    entity = load_dataset("csv", prepare(config).output_dir).entities[0]
    assert [(iv.start, iv.end, iv.causes) for iv in entity.intervals] == [
        (30, 39, (0, 3, 5)),
        (170, 199, (1, 2, 3)),
    ]


def test_same_config_same_hash_and_output(plant):
    first = prepare(load_prepare_config(plant))
    train = pd.read_parquet(first.output_dir / "train.parquet")
    again = prepare(load_prepare_config(plant))
    assert again.manifest["config_hash"] == first.manifest["config_hash"]
    pd.testing.assert_frame_equal(train, pd.read_parquet(again.output_dir / "train.parquet"))
    other = prepare(edit_config(plant, normalization="minmax"))
    assert other.manifest["config_hash"] != first.manifest["config_hash"]


@pytest.mark.parametrize(("delimiter", "decimal"), [(";", ","), ("\t", ".")])
def test_files_split_by_another_separator_or_decimal_mark_prepare_alike(plant, delimiter, decimal):
    expected = pd.read_parquet(prepare(load_prepare_config(plant)).output_dir / "train.parquet")
    european(plant, delimiter, decimal)
    result = prepare(edit_config(plant, delimiter=delimiter, decimal=decimal))
    pd.testing.assert_frame_equal(pd.read_parquet(result.output_dir / "train.parquet"), expected)


@pytest.mark.parametrize("aggregation", ["mean", "last"])
def test_resampling_to_a_coarser_period(plant, aggregation):
    result = prepare(edit_config(plant, period="2s", aggregation=aggregation))
    assert result.manifest["rows"]["train"] == 240


def test_shipped_prepare_config_is_valid_and_matches_the_example(tmp_path):
    from mstad.data.plant import make_example_plant
    from tests.conftest import REPO

    shipped = load_prepare_config(REPO / "configs" / "prepare.yaml")
    example = load_prepare_config(make_example_plant(tmp_path / "plant"))
    for key in ("train_batches", "test_batches", "timezone", "period", "normalization"):
        assert getattr(shipped, key) == getattr(example, key), key
    # it lists every key a prepare config has
    written = yaml.safe_load((REPO / "configs" / "prepare.yaml").read_text())
    assert set(written) == set(type(shipped).model_fields)
