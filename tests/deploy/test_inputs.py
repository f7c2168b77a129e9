"""Plain CSV tables for ``mstad fit`` / ``score``: the separator and decimal mark of the file."""

import numpy as np
import pandas as pd
import pytest

from mstad.deploy.inputs import read_file
from mstad.errors import DataError


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-13 06:00", periods=50, freq="s").astype(str),
            "temp [degC]": rng.normal(80, 2, 50).round(4),
            "press": rng.normal(-1, 0.1, 50).round(6) * 1e-3,
            "Label": (np.arange(50) > 40).astype(int),
        }
    )
    path = tmp_path / "comma.csv"
    frame.to_csv(path, index=False)
    return frame, read_file(path)


@pytest.mark.parametrize(("sep", "decimal"), [(";", ","), ("\t", "."), (";", "."), ("|", ",")])
def test_a_table_reads_alike_whatever_its_separator_and_decimal_mark(tmp_path, table, sep, decimal):
    frame, expected = table
    path = tmp_path / "other.csv"
    frame.to_csv(path, index=False, sep=sep, decimal=decimal)
    got = read_file(path)
    assert got.sensors == expected.sensors == ["temp [degC]", "press"]
    np.testing.assert_array_equal(got.values, expected.values)
    pd.testing.assert_frame_equal(got.keys, expected.keys)


def test_a_quoted_comma_in_a_comma_separated_file_is_not_taken_for_a_decimal_mark(tmp_path):
    path = tmp_path / "thousands.csv"
    path.write_text('a,b\n"1,500",2\n"2,000",3\n')
    with pytest.raises(DataError, match=r"thousands.csv: column 'a' is not numeric"):
        read_file(path)


def test_a_time_column_under_another_name_is_named_with_the_fix(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("Time,a\n2024-01-13 06:00:00,1.5\n2024-01-13 06:00:01,1.7\n")
    with pytest.raises(DataError, match=r"times.csv: column 'Time' is not numeric .*name it `ti"):
        read_file(path)
    path.write_text("Zeit;a\n13.01.2024 06:00:00;1,5\n13.01.2024 06:00:01;1,7\n")  # German
    with pytest.raises(DataError, match=r"column 'Zeit' is not numeric .*name it `timestamp`"):
        read_file(path)
    path.write_text("code,a\nA7,1.5\nB2,1.7\n")  # text that is no time: the plain message
    with pytest.raises(DataError, match=r"column 'code' is not numeric \(row 1: 'A7'\); fix the"):
        read_file(path)


def test_a_trailing_separator_is_no_sensor_but_a_value_under_no_name_is_an_error(tmp_path, table):
    frame, expected = table
    path = tmp_path / "trailing.csv"
    lines = frame.to_csv(index=False, sep=";", decimal=",").splitlines()
    path.write_text("\n".join(line + ";" for line in lines) + "\n")
    got = read_file(path)
    assert got.sensors == expected.sensors
    np.testing.assert_array_equal(got.values, expected.values)
    path.write_text("a,b,\n1.5,2.5,\n1.7,2.6,9\n")
    with pytest.raises(DataError, match=r"trailing.csv: column 3 has no name in the header but "):
        read_file(path)
