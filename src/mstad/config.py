"""Run configuration: one pydantic model, loaded from YAML and overridable by CLI flags.

An unknown key is an error that lists the valid ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mstad import DEFAULT_MODEL, DEFAULT_THRESHOLD
from mstad.errors import ConfigError
from mstad.params import SEED_MAX


class ThresholdConfig(BaseModel):
    """How each entity's alarm threshold is fitted on its validation scores (never test labels)."""

    model_config = ConfigDict(extra="forbid")

    method: str = DEFAULT_THRESHOLD
    params: dict[str, Any] = Field(default_factory=dict)


class RunConfig(BaseModel):
    """What ``mstad run`` does: which data, which detector with which parameters, where to."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = "synthetic"
    data_dir: Path | None = Field(None, description="folder of the data set; $MSTAD_DATA if unset")
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    entities: list[str] | None = None
    model: str = DEFAULT_MODEL
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0, le=SEED_MAX, description="reaches every seeded detector")
    device: str | None = Field(
        None,
        pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
        description="where torch detectors run (auto: CUDA when there is one); others use the CPU",
    )
    n_jobs: int = Field(-1, description="processes across entities; -1 = all cores")
    output_dir: Path = Path("runs")
    save_models: bool = False
    explain: bool = False
    store_series: bool = Field(
        True, description="copy each entity's test series into the run (report, dashboard)"
    )
    threshold: ThresholdConfig = Field(default_factory=ThresholdConfig)
    vus_window: int = Field(100, ge=0, description="largest VUS buffer, in steps")
    executor: str = Field("local", pattern="^(local|ray)$")
    ray_address: str | None = Field(None, description="Ray cluster address; None = local Ray")


def _format(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        valid = ", ".join(RunConfig.model_fields)
        return f"{source}: unknown key {field!r}; valid keys: {valid}"
    return f"{source}: {field}: {first['msg']}"


def build_config(data: dict[str, Any], source: str = "config") -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read a YAML file (optional), then apply CLI overrides (``None`` values are ignored)."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})".replace("\n", " ")) from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys to values at the top level")
        data.update(loaded)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "params":
            data["params"] = {**data.get("params", {}), **value}
        else:
            data[key] = value
    return build_config(data, str(path) if path else "command line")


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["k=3", "mode=range"]`` -> ``{"k": 3, "mode": "range"}`` (values parsed as YAML)."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: expected KEY=VALUE, e.g. --param window=50")
        params[key.strip()] = yaml.safe_load(value)
    return params
