"""Separators, decimal marks and timestamp formats of sensor CSV files."""

import pandas as pd
import pytest

from mstad.data.delimited import (
    DECIMAL_POINT,
    decimal_comma_number,
    formats_reading,
    separator_of,
)


@pytest.mark.parametrize(
    ("header", "separator"),
    [
        ("timestamp,a [degC],b", ","),
        ("timestamp;a [m3/h];b", ";"),
        ("timestamp\ta\tb\n", "\t"),
        ("time|a|b", "|"),
        ("timestamp;a,b;c", ";"),  # the separator that splits into the most fields
        ("one_column", ","),  # nothing to split: the comma
    ],
)
def test_the_separator_is_the_one_that_splits_the_header_most(header, separator):
    assert separator_of(header) == separator


@pytest.mark.parametrize(
    ("text", "number"),
    [("1,5", 1.5), ("-0,25", -0.25), (" 3,1e-4 ", 3.1e-4), ("7", 7.0), (",5", 0.5)],
)
def test_decimal_comma_numbers_read_as_numbers(text, number):
    assert decimal_comma_number(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["1.5", "1,5,0", "OFF", "", "1,5 bar"])
def test_anything_else_is_not_a_decimal_comma_number(text):
    assert decimal_comma_number(text) is None


def test_decimal_point_numbers():
    assert DECIMAL_POINT.fullmatch("-1.5e3") and not DECIMAL_POINT.fullmatch("1,5")


def test_the_formats_that_read_an_exports_timestamps_are_named():
    german = pd.Series(["13.01.2024 06:10:36", "13.01.2024 06:10:37"])
    assert formats_reading(german) == ["%d.%m.%Y %H:%M:%S"]
    # 01/02 and 02/03 read day-first and month-first alike: both are named
    both = formats_reading(pd.Series(["01/02/2024 06:00:00", "02/03/2024 06:00:00"]))
    assert both == ["%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S"]
    assert formats_reading(pd.Series(["25/12/2024 06:00:00"])) == ["%d/%m/%Y %H:%M:%S"]
    assert formats_reading(pd.Series(["A7", "B2"])) == [] == formats_reading(pd.Series([]))
