"""``prepare(config)``: raw batch folders → a checked, stage-normalised data set on disk.

Layout written to ``output_dir``: ``train.parquet`` and ``test.parquet`` (columns ``batch``,
``stage``, ``timestamp`` and one float column per sensor, normalised), ``labels.csv`` (intervals on
test rows, inclusive ends, causes as names), ``report.csv`` (the loss report) and
``manifest.json`` (sensors, units, stages, batches, counts, normalisation statistics, the config
and its hash).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mstad.atomic import atomic_path, write_text
from mstad.data.entity import Interval
from mstad.data.plant.align import merge_files, slice_stages
from mstad.data.plant.config import PrepareConfig
from mstad.data.plant.labels import interval_labels, mscred_labels
from mstad.data.plant.normalize import StageNormalizer
from mstad.data.plant.reading import _header, read_sensor_file, split_unit
from mstad.data.plant.report import LossReport
from mstad.data.plant.schedule import read_schedule
from mstad.errors import DataError

FORMAT = "mstad-prepared/1"


@dataclass
class PrepareResult:
    """Where the data set went, its manifest and the loss report."""

    output_dir: Path
    manifest: dict
    report: LossReport


def _batch_files(config: PrepareConfig, batch: str) -> list[Path]:
    folder = config.raw_dir / batch
    if not folder.is_dir():
        raise DataError(f"{folder}: batch folder not found; fix `raw_dir:` or the batch name")
    files = sorted(folder.glob(config.file_pattern))
    if not files:
        held = sorted({p.suffix.lower() or p.name for p in folder.iterdir() if p.is_file()})
        sheets = [s for s in held if s in (".xlsx", ".xls", ".xlsm", ".ods")]
        fix = "fix `file_pattern:`"
        if sheets:
            fix = f"the folder holds {', '.join(sheets)} workbooks: save them as CSV, or " + fix
        elif held:
            fix += f" (the folder holds {', '.join(held[:5])} files)"
        raise DataError(f"{folder}: no files match {config.file_pattern!r}; {fix}")
    return files


def _survey_sensors(config: PrepareConfig, files: dict[str, list[Path]]):
    """Sensor names (sorted, so file order does not matter) and their units; one unit each."""
    units: dict[str, tuple[str | None, Path]] = {}
    for paths in files.values():
        for path in paths:
            if path.stat().st_size == 0:
                raise DataError(f"{path}: empty file; remove it or re-export it")
            for header in _header(path, config.encoding, config.delimiter):
                if header == config.timestamp_column or not header:  # no name: checked empty
                    continue
                name, unit = split_unit(header)
                if name in config.exclude_sensors:
                    continue
                seen = units.setdefault(name, (unit, path))
                if seen[0] is not None and unit is not None and seen[0] != unit:
                    raise DataError(
                        f"{path}: sensor {name!r} is in {unit!r} but {seen[1]} has it in "
                        f"{seen[0]!r}; convert one file so each sensor has one unit"
                    )
                if seen[0] is None and unit is not None:
                    units[name] = (unit, seen[1])
    return sorted(units), {name: units[name][0] for name in sorted(units)}


def _prepare_batch(config, batch, paths, schedule, sensors, report) -> pd.DataFrame:
    folder = config.raw_dir / batch
    stages = schedule[schedule["batch"] == batch]
    if stages.empty:
        raise DataError(
            f"{config.schedule}: batch {batch!r} has no stages; add its rows to the schedule"
        )
    files = [read_sensor_file(p, config, report) for p in paths]
    merged = merge_files(files, sensors, config, folder, report)
    absent = [s for s in sensors if merged[s].isna().all()]
    sliced = slice_stages(merged, stages, sensors, absent, config, folder, report)
    sliced.insert(0, "batch", batch)
    sliced.insert(2, "timestamp", sliced.index)
    return sliced.reset_index(drop=True)


def _check_training_sensors(train: pd.DataFrame, sensors: list[str]) -> None:
    values = train[sensors]
    empty = [s for s in sensors if values[s].isna().all()]
    if empty:
        raise DataError(
            f"sensor(s) {', '.join(empty[:5])} have no value in any training batch; "
            "list them in `exclude_sensors:`"
        )
    spread = values.max() - values.min()
    constant = [s for s in sensors if not spread[s] > 0]
    if constant:
        raise DataError(
            f"sensor(s) {', '.join(constant[:5])} are constant over all training batches and "
            "carry no normal pattern; list them in `exclude_sensors:`"
        )


def _normalise(config, normalizer, frame, sensors, report) -> pd.DataFrame:
    values = normalizer.transform(frame, sensors)  # the one copy of the sensor block
    np.nan_to_num(values, copy=False, nan=0.0)  # absent sensors (missing_sensor: fill) = mean
    if config.clip is not None:
        clipped = (np.abs(values) > config.clip).any(axis=1)
        batches = frame["batch"].to_numpy()
        for batch in pd.unique(batches):
            report.add(
                "clipped",
                f"|value| > {config.clip} after normalisation",
                batch,
                int(clipped[batches == batch].sum()),
            )
        np.clip(values, -config.clip, config.clip, out=values)
    out = pd.DataFrame(values, columns=sensors, copy=False)
    for k, column in enumerate(("batch", "stage", "timestamp")):
        out.insert(k, column, frame[column].to_numpy())
    return out


def _labels(config, test, sensors) -> list[Interval]:
    if config.labels is None:
        return []
    if not config.labels.is_file():
        raise DataError(f"{config.labels}: labels file not found; fix `labels:` or remove it")
    if config.labels_format == "mscred":
        return mscred_labels(config.labels, len(test), len(sensors), config.mscred_spans)
    return interval_labels(config.labels, test, sensors, config.timezone)


def prepare_batch(
    config: PrepareConfig,
    normalization: dict,
    sensors: list[str],
    folder: Path,
    schedule: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, LossReport]:
    """A new batch folder through the training data's preparation: read, merge on the grid,
    cut by the schedule (``schedule`` or the config's; it must list the batch, named by the
    folder), normalise with the stored training statistics. Returns the normalised rows, the
    same rows before normalisation (what a plant's historian would stream) and the loss
    report. Its sensors must be ``sensors``: a missing or extra one is a one-line error."""
    folder = Path(folder)
    update = {"raw_dir": folder.parent} | ({"schedule": Path(schedule)} if schedule else {})
    config = config.model_copy(update=update)
    report = LossReport()
    files = _batch_files(config, folder.name)
    found, _ = _survey_sensors(config, {folder.name: files})
    missing, extra = sorted(set(sensors) - set(found)), sorted(set(found) - set(sensors))
    if missing or extra:
        raise DataError(
            f"{folder}: sensors differ from the model's (missing: {', '.join(missing) or '-'}; "
            f"extra: {', '.join(extra) or '-'}); export the sensors the model was trained on"
        )
    frame = _prepare_batch(
        config, folder.name, files, read_schedule(config.schedule, config.timezone), sensors, report
    )
    normalizer = StageNormalizer.from_dict(normalization, sensors)
    return _normalise(config, normalizer, frame, sensors, report), frame, report


def config_hash(config: PrepareConfig) -> str:
    """sha256 of the config's canonical JSON: the same inputs and options, the same hash."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def prepare(config: PrepareConfig) -> PrepareResult:
    """Run every step; raises :class:`DataError` with file, field and fix on bad input."""
    report = LossReport()
    schedule = read_schedule(config.schedule, config.timezone)
    batches = config.train_batches + config.test_batches
    files = {b: _batch_files(config, b) for b in batches}
    sensors, units = _survey_sensors(config, files)
    if not sensors:
        raise DataError(f"{config.raw_dir}: no sensor columns besides the timestamp")
    frames = {b: _prepare_batch(config, b, files[b], schedule, sensors, report) for b in batches}
    rows = {b: len(frame) for b, frame in frames.items()}
    train = pd.concat([frames.pop(b) for b in config.train_batches], ignore_index=True)
    test = pd.concat([frames.pop(b) for b in config.test_batches], ignore_index=True)
    _check_training_sensors(train, sensors)
    normalizer = StageNormalizer(config.normalization, config.per_stage).fit(train, sensors)
    train = _normalise(config, normalizer, train, sensors, report)
    test = _normalise(config, normalizer, test, sensors, report)
    intervals = sorted(_labels(config, test, sensors), key=lambda iv: iv.start)

    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    for frame, name in ((train, "train.parquet"), (test, "test.parquet")):
        with atomic_path(out / name) as tmp:
            frame.to_parquet(tmp, index=False)
    labels_csv = pd.DataFrame(
        [
            {
                "start": iv.start,
                "end": iv.end,
                "causes": ";".join(sensors[c] for c in iv.causes) if iv.causes else "",
            }
            for iv in intervals
        ],
        columns=["start", "end", "causes"],
    ).to_csv(index=False)
    write_text(out / "labels.csv", labels_csv)
    write_text(out / "report.csv", report.to_frame().to_csv(index=False))
    manifest = {
        "format": FORMAT,
        "name": config.name,
        "sensors": sensors,
        "units": units,
        "stages": sorted(train["stage"].unique().tolist()),
        "batches": {
            "train": {b: rows[b] for b in config.train_batches},
            "test": {b: rows[b] for b in config.test_batches},
        },
        "rows": {"train": len(train), "test": len(test)},
        "labelled": config.labels is not None,
        "anomalies": len(intervals),
        "normalization": normalizer.to_dict(sensors),
        "warnings": normalizer.warnings,
        "loss": {a: report.total(a) for a in ("dropped", "filled", "clipped")},
        "config": json.loads(config.model_dump_json()),
        "config_hash": config_hash(config),
    }
    write_text(out / "manifest.json", json.dumps(manifest, indent=2))  # last: marks it complete
    return PrepareResult(out, manifest, report)
