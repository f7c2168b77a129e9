"""Separators and decimal marks of sensor CSV files."""

import pytest

from mstad.data.delimited import DECIMAL_POINT, decimal_comma_number, separator_of


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
