"""What ``mstad prepare`` does, as one validated pydantic model loaded from YAML.

Relative paths in the YAML are resolved against the YAML file's own folder, so a config travels
with its data.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mstad.data.checks import check_name
from mstad.errors import ConfigError, DataError


class PrepareConfig(BaseModel):
    """Inputs, alignment, normalisation and output of one prepared data set."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("plant", description="entity name of the prepared data set")
    raw_dir: Path = Field(description="root folder with one sub-folder of CSV files per batch")
    schedule: Path = Field(description="CSV or YAML with batch, stage, start, end (end exclusive)")
    train_batches: list[str] = Field(min_length=1)
    test_batches: list[str] = Field(min_length=1)
    output_dir: Path = Field(description="folder for the prepared data set")
    labels: Path | None = Field(None, description="anomaly labels of test batches (optional)")
    labels_format: Literal["intervals", "mscred"] = Field(
        "intervals",
        description="intervals: CSV batch,start,end[,causes]; mscred: end,r1,r2,r3 rows",
    )
    mscred_spans: list[int] = Field(
        default_factory=lambda: [10, 30, 90],
        description="lengths of mscred-format anomalies, cycled per row (the authors' code)",
    )
    file_pattern: str = "*.csv"
    timestamp_column: str = "timestamp"
    timestamp_format: str | None = Field(
        None,
        description="strftime format, unix_s / unix_ms (epoch seconds / milliseconds, UTC); "
        "None = ISO 8601",
    )
    timezone: str = Field("UTC", description="zone of timestamps that carry no offset")
    encoding: str = "utf-8"
    delimiter: str = Field(
        ",", description="field separator of the raw sensor CSVs, one character (';', '\\t', ...)"
    )
    decimal: Literal[".", ","] = Field(
        ".", description="decimal mark of the raw sensor values ('.' or ',')"
    )
    period: str = Field("1s", description="common sampling period (pandas offset alias)")
    aggregation: Literal["mean", "median", "first", "last", "min", "max"] = "mean"
    duplicates: Literal["mean", "first", "last", "error"] = Field(
        "mean", description="what to do with repeated timestamps inside one file"
    )
    fill_limit: int = Field(3, ge=0, description="periods forward-filled in a gap; longer: drop")
    missing_sensor: Literal["error", "fill"] = Field(
        "error", description="a sensor absent from a batch: error, or fill with the stage mean"
    )
    normalization: Literal["zscore", "minmax"] = "zscore"
    per_stage: bool = Field(True, description="statistics per stage (False: one set for all)")
    clip: float | None = Field(None, gt=0, description="clip normalised values to ±clip")
    exclude_sensors: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            check_name(value, "name")
        except DataError as exc:
            raise ValueError(str(exc).removeprefix("name: ")) from None
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        try:
            offset = pd.tseries.frequencies.to_offset(value)
            pd.Timedelta(offset)
        except (ValueError, TypeError):
            raise ValueError(
                f"{value!r} is not a fixed pandas period; write e.g. 1s, 500ms, 10min, 1h"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone; write e.g. UTC or Europe/Berlin"
            ) from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n' or value.isalnum() or value == ".":
            raise ValueError(
                f"{value!r} is not a field separator; write one character such as ',' or ';' "
                "(or '\\t' in double quotes for tabs)"
            )
        return value

    @field_validator("decimal")
    @classmethod
    def _decimal(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("delimiter"):
            raise ValueError(
                f"the decimal mark is the delimiter too ({value!r}); files with a decimal comma "
                "are ';'-separated: set `delimiter: ';'`"
            )
        return value

    @model_validator(mode="after")
    def _disjoint_batches(self) -> PrepareConfig:
        both = sorted(set(self.train_batches) & set(self.test_batches))
        if both:
            raise ValueError(f"batches {both} are listed as both train and test")
        return self


def _format(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        valid = ", ".join(PrepareConfig.model_fields)
        return f"{source}: unknown key {field!r}; valid keys: {valid}"
    if first["type"] == "missing":
        return f"{source}: required key {field!r} is missing"
    return f"{source}: {field}: {first['msg'].removeprefix('Value error, ')}"


def build_prepare_config(data: dict, source: str = "config", base: Path | None = None):
    """Validate a mapping; relative paths become relative to ``base``."""
    try:
        config = PrepareConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None
    if base is not None:
        updates = {}
        for key in ("raw_dir", "schedule", "output_dir", "labels"):
            value = getattr(config, key)
            if value is not None and not value.is_absolute():
                updates[key] = base / value
        config = config.model_copy(update=updates)
    return config


def load_prepare_config(path: Path | str) -> PrepareConfig:
    """Read a YAML prepare config; errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: prepare config not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return build_prepare_config(data, str(path), base=path.parent)
