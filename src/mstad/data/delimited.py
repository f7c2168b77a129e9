"""How sensor CSV files are split and how their numbers are written, in one place.

Plant historians and spreadsheets export CSV in the reader's locale: a locale with a decimal
comma writes ``1,5`` and therefore splits fields by ``;``. ``mstad prepare`` is told which
(``delimiter:``, ``decimal:`` in its config) and names the key to set when a file disagrees;
``mstad score`` / ``fit`` / ``stream`` read plain tables by the separator their header uses.
"""

from __future__ import annotations

import re

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


def decimal_comma_number(text: str) -> float | None:
    """``text`` as a number written with a decimal comma (``"1,5"`` → 1.5), else None. Meant
    for files not split by commas: in a comma-separated file a quoted ``"1,500"`` may be one
    thousand five hundred."""
    text = text.strip()
    return float(text.replace(",", ".")) if DECIMAL_COMMA.fullmatch(text) else None
