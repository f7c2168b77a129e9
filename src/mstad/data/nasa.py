"""NASA SMAP / MSL telemetry (Hundman et al., KDD 2018) in the published telemanom layout.

``labeled_anomalies.csv`` (``chan_id, spacecraft, anomaly_sequences, class, num_values``) and
``train/<chan>.npy`` / ``test/<chan>.npy`` of shape ``[T, 25]`` (SMAP) or ``[T, 55]`` (MSL).
Column 0 is the telemetry value, the others are 0/1 command flags.

Facts the loader holds to: interval ends are inclusive and 0-based; a channel listed twice (SMAP
P-2) gets the union of its rows; the test length must equal ``num_values``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mstad.data.checks import (
    check_name,
    check_same_width,
    check_series,
    constant_sensor_warnings,
    find_folder,
    load_npy,
)
from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels, merge_intervals
from mstad.errors import DataError

LABELS_FILE = "labeled_anomalies.csv"
REQUIRED_COLUMNS = ("chan_id", "spacecraft", "anomaly_sequences", "num_values")
SPACECRAFT = ("SMAP", "MSL")


def find_nasa_dir(data_dir: Path) -> Path:
    """The folder holding ``labeled_anomalies.csv``: ``data_dir`` itself or ``data_dir/nasa``."""
    return find_folder(
        data_dir,
        "nasa",
        lambda d: (d / LABELS_FILE).is_file(),
        f"no {LABELS_FILE} here or in {{here}}; download the telemanom SMAP/MSL bundle "
        "(labeled_anomalies.csv, train/, test/) and pass its folder as --data-dir",
    )


def _parse_sequences(text: str, where: str) -> list[tuple[int, int]]:
    try:
        pairs = json.loads(text)
        ok = isinstance(pairs, list) and all(
            isinstance(p, list) and len(p) == 2 and all(type(v) is int for v in p) for p in pairs
        )
    except (json.JSONDecodeError, TypeError):
        ok = False
    if not ok:
        raise DataError(
            f"{where}: anomaly_sequences {text!r} is not a list of [start, end] integer pairs; "
            "fix the row, e.g. [[100, 120], [300, 310]]"
        )
    return [(int(s), int(e)) for s, e in pairs]


def read_label_table(path: Path, spacecraft: str) -> dict[str, tuple[int, list[Interval]]]:
    """Channel -> (num_values, merged inclusive intervals) for one spacecraft."""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)}"
        )
    rows = table[table["spacecraft"] == spacecraft]
    channels: dict[str, tuple[int, list[Interval]]] = {}
    for line, row in rows.iterrows():
        chan = str(row["chan_id"])
        where = f"{path} row {line + 2} (channel {chan})"
        check_name(chan, f"{path} row {line + 2}, chan_id")
        try:
            num_values = int(row["num_values"])
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: num_values {row['num_values']!r} is not an integer") from exc
        intervals = []
        for start, end in _parse_sequences(str(row["anomaly_sequences"]), where):
            if not 0 <= start <= end < num_values:
                raise DataError(
                    f"{where}: interval [{start}, {end}] lies outside 0..{num_values - 1} "
                    "(num_values); ends are inclusive and 0-based — fix the interval or num_values"
                )
            intervals.append(Interval(start, end))
        if chan in channels:  # SMAP P-2 is listed twice: take the union of its rows
            previous_n, previous = channels[chan]
            if previous_n != num_values:
                raise DataError(
                    f"{where}: num_values {num_values} differs from the earlier row's {previous_n}"
                )
            intervals = previous + intervals
        channels[chan] = (num_values, intervals)
    return {c: (n, merge_intervals(ivs)) for c, (n, ivs) in channels.items()}


def load_nasa(
    data_dir: Path, spacecraft: str = "SMAP", channels: Sequence[str] | None = None
) -> Dataset:
    """Load one spacecraft's channels as entities (sorted by channel id)."""
    spacecraft = spacecraft.upper()
    if spacecraft not in SPACECRAFT:
        raise DataError(f"spacecraft {spacecraft!r} is unknown; choose one of {SPACECRAFT}")
    root = find_nasa_dir(Path(data_dir))
    table = read_label_table(root / LABELS_FILE, spacecraft)
    if not table:
        raise DataError(f"{root / LABELS_FILE}: no rows with spacecraft == {spacecraft}")
    names = sorted(table)
    if channels:
        unknown = [c for c in channels if c not in table]
        if unknown:
            raise DataError(
                f"{root / LABELS_FILE}: unknown {spacecraft} channel(s) {', '.join(unknown)}; "
                f"known: {', '.join(names[:8])} …"
            )
        names = list(channels)
    missing = [c for c in names if not (root / "train" / f"{c}.npy").is_file()]
    missing += [c for c in names if not (root / "test" / f"{c}.npy").is_file()]
    if missing:
        raise DataError(
            f"{root}: {len(set(missing))} {spacecraft} channel(s) lack train/<chan>.npy or "
            f"test/<chan>.npy (first: {sorted(set(missing))[0]}); put the {spacecraft} arrays "
            f"from the telemanom bundle under {root / 'train'} and {root / 'test'}"
        )
    entities = []
    for chan in names:
        num_values, intervals = table[chan]
        train_src, test_src = root / "train" / f"{chan}.npy", root / "test" / f"{chan}.npy"
        train = check_series(load_npy(train_src), str(train_src))
        test = check_series(load_npy(test_src), str(test_src))
        check_same_width(train, test, str(train_src), str(test_src))
        if test.shape[0] != num_values:
            raise DataError(
                f"{test_src}: {test.shape[0]} steps but {LABELS_FILE} says num_values = "
                f"{num_values} for channel {chan}; the labels belong to a different file version"
            )
        sensors = ("telemetry",) + tuple(f"command_{i:02d}" for i in range(1, train.shape[1]))
        entities.append(
            Entity(
                name=chan,
                train=train,
                test=test,
                labels=intervals_to_labels(intervals, num_values),
                intervals=tuple(intervals),
                sensors=sensors,
                warnings=tuple(constant_sensor_warnings(train, str(train_src))),
                # declared, not inferred: a telemetry value constant at 0 or 1 in training
                # would otherwise pass for a flag (features.columns)
                flags=tuple(range(1, train.shape[1])),
            )
        )
    return Dataset(spacecraft.lower(), tuple(entities))
