"""How sensor CSV files are written — separators, decimal marks, timestamps — in one place.

Plant historians and spreadsheets export CSV in the reader's locale: a locale with a decimal
comma writes ``1,5`` and therefore splits fields by ``;``, and writes times as ``13.01.2024
06:10:36``. ``mstad prepare`` is told which (``delimiter:``, ``decimal:``, ``timestamp_format:``
in its config) and names the key and value to set when a file disagrees; its schedule and
labels, and the plain tables of ``mstad score`` / ``fit`` / ``stream``, are read by the
separator their header uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mstad.errors import DataError

#: separators a sensor CSV may use, each as YAML writes it (for the key a message names)
SEPARATORS = {",": "','", ";": "';'", "\t": '"\\t"', "|": "'|'"}
#: a number as a decimal-comma locale writes it (``1,5``, ``-0,25``, ``3,1e-4``, ``7``)
DECIMAL_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?")
#: a number as a decimal-point locale writes it (``1.5``, ``-.25``, ``7``)
DECIMAL_POINT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def separator_of(header: str) -> str:
    """The separator of :data:`SEPARATORS` that splits a CSV header line into the most fields
    (a header of one field: ``,``)."""
    return max(SEPARATORS, key=header.count)


def file_separator(path: Path) -> str:
    """The separator of the CSV file at ``path``, read off its header (:func:`separator_of`)."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return separator_of(handle.readline())


def read_text_table(path: Path) -> pd.DataFrame:
    """A small CSV written by hand or in a spreadsheet (a schedule, labels) as text columns,
    split by the separator its header uses (:func:`separator_of`): a header cannot hold the
    ``;`` that joins a label's causes, so a ``;``-separated file reads as one too."""
    return pd.read_csv(path, dtype=str, skipinitialspace=True, sep=file_separator(path))


def unnamed_column_error(where: str, column: int | str, value: object, at: str = "") -> DataError:
    """The one line for a value under a column the header leaves unnamed (a spreadsheet's
    trailing separator is such a column, and must stay empty): the value belongs to no sensor,
    and guessing one would be silent. Every reader of sensor tables raises it."""
    return DataError(
        f"{where}: column {column} has no name in the header but holds {value!r}{at}; "
        "name it in the header"
    )


def decimal_comma_number(text: str) -> float | None:
    """``text`` as a number written with a decimal comma (``"1,5"`` → 1.5), else None. Meant
    for files not split by commas: in a comma-separated file a quoted ``"1,500"`` may be one
    thousand five hundred."""
    text = text.strip()
    return float(text.replace(",", ".")) if DECIMAL_COMMA.fullmatch(text) else None


#: ``timestamp_format`` values for epoch times (a historian's export), and their pandas units
EPOCH_UNITS = {"unix_s": "s", "unix_ms": "ms"}
#: timestamp formats of common exports, tried on a file's first rows to name the one it uses
COMMON_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S.%f",
    "%m/%d/%Y %I:%M:%S %p",
)


def formats_reading(values: pd.Series, rows: int = 200) -> list[str]:
    """The formats of :data:`COMMON_FORMATS` that read every one of the first ``rows`` values
    (day-first and month-first both, where the dates cannot tell them apart)."""
    head = values.dropna().astype(str).str.strip().head(rows)
    if head.empty:
        return []
    return [
        f for f in COMMON_FORMATS if pd.to_datetime(head, format=f, errors="coerce").notna().all()
    ]
