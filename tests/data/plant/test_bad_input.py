"""Every bad input gets one line naming the file (or field) and the fix; nothing is dropped silently."""

import pandas as pd
import pytest
import yaml

from mstad.data.plant import load_prepare_config, load_prepared, prepare
from mstad.data.plant.config import build_prepare_config
from mstad.errors import ConfigError, DataError
from tests.data.plant.conftest import edit_config, european


def _raw(plant, batch="batch_00", name="temperatures.csv"):
    return plant.parent / "raw" / batch / name


def _rewrite(path, change):
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")


def _fails(plant, pattern, error=DataError, config=None):
    with pytest.raises(error, match=pattern) as info:
        prepare(config or load_prepare_config(plant))
    assert "\n" not in str(info.value)
    return str(info.value)


def test_missing_timestamp_column(plant):
    _rewrite(_raw(plant), lambda ls: ["time" + ls[0][len("timestamp") :], *ls[1:]])
    message = _fails(plant, r"temperatures.csv: no timestamp column 'timestamp'")
    assert "timestamp_column" in message


def test_unparsable_timestamp(plant):
    _rewrite(_raw(plant), lambda ls: [ls[0], "08.01.2024 06:00," + ls[1].split(",", 1)[1], *ls[2:]])
    _fails(
        plant,
        r"temperatures.csv: column 'timestamp': cannot parse '08.01.2024 06:00' at "
        r"line 2 .*timestamp_format",
    )


def test_a_timestamp_format_of_a_common_export_is_named(plant):
    # every row in the day-first format of a German export: the message names that format
    def german(lines):
        rows = []
        for line in lines[1:]:
            stamp, rest = line.split(",", 1)
            when = pd.Timestamp(stamp)  # naive: local time already; else the plant's zone
            if when.tz is not None:
                when = when.tz_convert("Europe/Berlin").tz_localize(None)
            rows.append(when.strftime("%d.%m.%Y %H:%M:%S") + "," + rest)
        return [lines[0], *rows]

    expected = pd.read_parquet(prepare(load_prepare_config(plant)).output_dir / "train.parquet")
    _rewrite(_raw(plant), german)
    message = _fails(plant, r"temperatures.csv: column 'timestamp': cannot parse '08.01.2024 ")
    assert message.endswith("(the first rows read as `%d.%m.%Y %H:%M:%S`)")
    path = plant.parent / "raw"
    for other in path.glob("*/*.csv"):  # every file so: the format named reads them all
        if other != _raw(plant):
            _rewrite(other, german)
    result = prepare(edit_config(plant, timestamp_format="%d.%m.%Y %H:%M:%S"))
    pd.testing.assert_frame_equal(pd.read_parquet(result.output_dir / "train.parquet"), expected)


def test_empty_timestamp_cell(plant):
    _rewrite(_raw(plant), lambda ls: [*ls[:3], "," + ls[3].split(",", 1)[1], *ls[4:]])
    _fails(plant, r"temperatures.csv: column 'timestamp' is empty at line 4")


def test_time_going_backwards(plant):
    _rewrite(_raw(plant), lambda ls: [ls[0], ls[2], ls[1], *ls[3:]])
    _fails(plant, r"temperatures.csv: time goes backwards at line 3 .*sort the file by time")


def test_overlapping_schedule_stages(plant):
    schedule = plant.parent / "schedule.csv"
    _rewrite(schedule, lambda ls: [ls[0], ls[1].replace("06:02:00", "06:03:00"), *ls[2:]])
    _fails(plant, r"schedule.csv: stages 'heat' and 'react' of batch 'batch_00' overlap")


def test_schedule_stage_without_data(plant):
    _rewrite(
        plant.parent / "schedule.csv",
        lambda ls: [*ls, "batch_00,cleaning,2024-01-08T09:00:00,2024-01-08T09:10:00"],
    )
    message = _fails(plant, r"batch_00: schedule stage 'cleaning' .* has no data in this batch")
    assert "time zone" in message


def test_sensor_absent_from_a_batch_is_an_error_or_filled(plant):
    _rewrite(_raw(plant, "batch_01"), lambda ls: [",".join(r.split(",")[:-1]) for r in ls])
    _fails(plant, r"batch_01: sensor 'temp_09' is in no file of this batch.*missing_sensor: fill")
    result = prepare(edit_config(plant, missing_sensor="fill"))
    report = result.report.to_frame()
    row = report[report["reason"].str.contains("temp_09 absent")]
    assert row["rows"].sum() > 0 and row["source"].str.endswith("batch_01").all()


def test_all_empty_sensor(plant):
    for batch in ("batch_00", "batch_01"):
        _rewrite(
            _raw(plant, batch), lambda ls: [ls[0]] + [r.rsplit(",", 1)[0] + "," for r in ls[1:]]
        )
    _fails(plant, r"temp_09 have no value in any training batch; list them in `exclude_sensors:`")
    config = edit_config(plant, exclude_sensors=["temp_09"], labels=None)
    assert prepare(config).manifest["sensors"][-1] == "temp_08"


def test_constant_sensor(plant):
    for batch in ("batch_00", "batch_01"):
        _rewrite(
            _raw(plant, batch), lambda ls: [ls[0]] + [r.rsplit(",", 1)[0] + ",5" for r in ls[1:]]
        )
    _fails(plant, r"temp_09 are constant over all training batches")


def test_mixed_units(plant):
    _rewrite(
        _raw(plant, "batch_01"),
        lambda ls: [ls[0].replace("temp_03 [degC]", "temp_03 [degF]"), *ls[1:]],
    )
    _fails(plant, r"batch_01/temperatures.csv: sensor 'temp_03' is in 'degF' but .* 'degC'")


def test_empty_file(plant):
    _raw(plant).write_text("")
    _fails(plant, r"temperatures.csv: empty file; remove it or re-export it")


def test_header_only_file(plant):
    _rewrite(_raw(plant), lambda ls: ls[:1])
    _fails(plant, r"temperatures.csv: header but no data rows")


def test_non_utf8_file_and_the_encoding_option(plant):
    path = _raw(plant)
    text = path.read_text(encoding="utf-8").replace("[degC]", "[°C]")
    path.write_bytes(text.encode("latin-1"))
    _fails(plant, r"temperatures.csv: header is not valid utf-8 .*encoding:")
    # all files in latin-1, declared: it reads (°C and degC now differ, so use one unit)
    for other in plant.parent.glob("raw/*/temperatures.csv"):
        if other != path:
            other.write_bytes(
                other.read_text(encoding="utf-8").replace("[degC]", "[°C]").encode("latin-1")
            )
    result = prepare(edit_config(plant, encoding="latin-1"))
    assert result.manifest["units"]["temp_00"] == "°C"


def test_non_numeric_value(plant):
    _rewrite(_raw(plant), lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + ",OFF", *ls[2:]])
    _fails(plant, r"temperatures.csv: .*invalid value 'OFF'")


def test_a_file_split_by_semicolons_names_the_delimiter_and_decimal_keys(plant):
    european(plant)  # ';' between fields, ',' as the decimal mark
    message = _fails(plant, r"flows.csv: no timestamp column 'timestamp' \(columns: timestamp;")
    assert message.endswith("; the header splits on ';': set `delimiter: ';'`")
    message = _fails(plant, r"csv: .*invalid value '", config=edit_config(plant, delimiter=";"))
    assert message.endswith(
        "; the values use a decimal comma: set `decimal: ','` (and `delimiter: ';'`)"
    )
    assert prepare(edit_config(plant, delimiter=";", decimal=",")).manifest["rows"]["train"] == 480


def test_a_trailing_separator_is_no_sensor_but_a_value_under_no_name_is_an_error(plant):
    expected = pd.read_parquet(prepare(load_prepare_config(plant)).output_dir / "train.parquet")
    for path in plant.parent.glob("raw/*/*.csv"):  # a spreadsheet's trailing separator
        _rewrite(path, lambda ls: [line + "," for line in ls])
    result = prepare(load_prepare_config(plant))
    pd.testing.assert_frame_equal(pd.read_parquet(result.output_dir / "train.parquet"), expected)
    _rewrite(_raw(plant), lambda ls: [*ls[:4], ls[4] + "7.5", *ls[5:]])
    _fails(
        plant, r"temperatures.csv: column 12 has no name in the header but holds '7.5' at line 5"
    )


def test_a_batch_of_workbooks_or_other_files_says_what_it_holds(plant):
    folder = plant.parent / "raw" / "batch_00"
    for path in folder.glob("*.csv"):
        path.rename(path.with_suffix(".xlsx"))
    _fails(plant, r"batch_00: no files match '\*.csv'; the folder holds .xlsx workbooks: save")
    for path in folder.glob("*.xlsx"):
        path.rename(path.with_suffix(".txt"))
    _fails(plant, r"batch_00: .*fix `file_pattern:` \(the folder holds .txt files\)")


@pytest.mark.parametrize(("unit", "scale"), [("unix_s", 1), ("unix_ms", 1000)])
def test_epoch_timestamps_of_a_historian_are_named_then_read(plant, unit, scale):
    expected = pd.read_parquet(prepare(load_prepare_config(plant)).output_dir / "train.parquet")

    def epoch(lines):  # every time as seconds (or ms) since 1970 UTC, its zone applied first
        rows = []
        for line in lines[1:]:
            stamp, rest = line.split(",", 1)
            when = pd.Timestamp(stamp)
            when = when.tz_localize("Europe/Berlin") if when.tz is None else when
            rows.append(f"{int(when.timestamp()) * scale},{rest}")
        return [lines[0], *rows]

    for path in plant.parent.glob("raw/*/*.csv"):
        _rewrite(path, epoch)
    message = _fails(plant, r"csv: column 'timestamp': cannot parse '\d+' at line 2 as ISO8601")
    assert message.endswith(f"(the first rows read as `{unit}`)")
    result = prepare(edit_config(plant, timestamp_format=unit))
    pd.testing.assert_frame_equal(pd.read_parquet(result.output_dir / "train.parquet"), expected)


def test_repeated_timestamps_as_error(plant):
    _fails(
        plant,
        r"batch_00/flows.csv: 2 repeated timestamps, first .* at line \d+",
        config=edit_config(plant, duplicates="error"),
    )


def test_missing_batch_folder_and_unknown_label_cause(plant):
    _fails(
        plant,
        r"batch_09: batch folder not found",
        config=edit_config(plant, test_batches=["batch_09"]),
    )
    labels = plant.parent / "labels.csv"
    _rewrite(labels, lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + ",reactor_temp"])
    _fails(
        plant,
        r"labels.csv: line 2: cause 'reactor_temp' is not a prepared sensor",
        config=edit_config(plant, test_batches=["batch_02"]),
    )


def test_config_errors(plant):
    data = yaml.safe_load(plant.read_text())
    with pytest.raises(ConfigError, match=r"x.yaml: unknown key 'periode'; valid keys: name, raw"):
        build_prepare_config({**data, "periode": "1s"}, "x.yaml")
    with pytest.raises(ConfigError, match=r"x.yaml: .*listed as both train and test"):
        build_prepare_config({**data, "test_batches": ["batch_00"]}, "x.yaml")
    with pytest.raises(
        ConfigError, match=r"x.yaml: decimal: the decimal mark is the delimiter too \(','\); files"
    ):
        build_prepare_config({**data, "decimal": ","}, "x.yaml")
    with pytest.raises(ConfigError, match=r"x.yaml: delimiter: 'ab' is not a field separator"):
        build_prepare_config({**data, "delimiter": "ab"}, "x.yaml")
    with pytest.raises(ConfigError, match=r"x.yaml: decimal: Input should be '.' or ','"):
        build_prepare_config({**data, "decimal": ";"}, "x.yaml")
    with pytest.raises(ConfigError, match=r"x.yaml: required key 'schedule' is missing"):
        build_prepare_config({k: v for k, v in data.items() if k != "schedule"}, "x.yaml")


def test_loading_a_folder_that_was_not_prepared(tmp_path):
    with pytest.raises(
        DataError,
        match=r"no manifest.json, so not a prepared data set; run "
        r"`mstad prepare",
    ):
        load_prepared(tmp_path)


# ---- issue 18: numbers and third-party parse errors -------------------------------------------
@pytest.mark.parametrize("value", ["1e300", "inf", "-inf"])
def test_infinite_or_huge_cell_names_file_line_and_sensor(plant, value):
    _rewrite(_raw(plant), lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + "," + value, *ls[2:]])
    _fails(plant, r"temperatures.csv: line 2, sensor 'temp_09': value .* is infinite or beyond")


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("period", "1 fortnight", r"x.yaml: period: '1 fortnight' is not a fixed pandas period"),
        ("period", "1M", r"x.yaml: period: '1M' is not a fixed pandas period"),
        ("timezone", "Mars/Olympus", r"x.yaml: timezone: 'Mars/Olympus' is not a known time zone"),
    ],
)
def test_period_and_timezone_are_checked_with_the_config(plant, key, value, pattern):
    data = yaml.safe_load(plant.read_text())
    with pytest.raises(ConfigError, match=pattern):
        build_prepare_config({**data, key: value}, "x.yaml")


def test_label_time_that_is_not_a_time(plant):
    labels = plant.parent / "labels.csv"
    _rewrite(labels, lambda ls: [ls[0], "batch_02,yesterday,2024-01-10T06:04:30,"])
    _fails(plant, r"labels.csv: column 'start' holds a time that is not ISO 8601")


def _tampered(folder, how):
    import json

    import pandas as pd

    manifest = json.loads((folder / "manifest.json").read_text())
    if how == "corrupt manifest":
        (folder / "manifest.json").write_text("{bad")
    elif how == "corrupt parquet":
        (folder / "train.parquet").write_bytes(b"junk")
    elif how == "name with a path":
        manifest["name"] = "../evil"
    elif how == "sensor list differs":
        manifest["sensors"] = manifest["sensors"][:-1]
    elif how == "inf in a prepared cell":
        frame = pd.read_parquet(folder / "train.parquet")
        frame.loc[3, manifest["sensors"][0]] = float("inf")
        frame.to_parquet(folder / "train.parquet")
    elif how == "interval reversed":
        (folder / "labels.csv").write_text("start,end,causes\n10,5,\n")
    elif how == "unknown cause":
        (folder / "labels.csv").write_text("start,end,causes\n10,20,nosuch\n")
    if how in ("name with a path", "sensor list differs"):
        (folder / "manifest.json").write_text(json.dumps(manifest))


PREPARED = {
    "corrupt manifest": r"manifest.json: not readable JSON",
    "corrupt parquet": r"train.parquet: not a readable parquet file",
    "name with a path": r"manifest.json: name: entity name '../evil' is not a plain file name",
    "sensor list differs": r"train.parquet: its sensor columns differ from manifest.json's",
    "inf in a prepared cell": r"train.parquet: 1 non-finite values",
    "interval reversed": r"labels.csv line 2: start..end must lie in 0..",
    "unknown cause": r"labels.csv line 2: cause 'nosuch' is not a sensor",
}


@pytest.mark.parametrize("how", PREPARED, ids=list(PREPARED))
def test_a_tampered_prepared_folder_is_one_line(plant, how):
    result = prepare(load_prepare_config(plant))
    _tampered(result.output_dir, how)
    with pytest.raises(DataError, match=PREPARED[how]) as info:
        load_prepared(result.output_dir)
    assert "\n" not in str(info.value)


def test_a_prepare_name_must_be_a_plain_file_name(plant):
    data = yaml.safe_load(plant.read_text())
    with pytest.raises(ConfigError, match=r"x.yaml: name: entity name '../evil' is not a plain"):
        build_prepare_config({**data, "name": "../evil"}, "x.yaml")
