"""The model folder: a detector fitted once, with everything needed to score new data.

Layout (one home; ``mstad fit`` writes it, ``mstad score`` / ``stream`` / ``export`` read it)::

    MODEL/model.json   format, mstad version, detector and parameters, threshold, sensors in
                       order, the preparation the data need, training data (source, steps, hash),
                       validation figures — written last: its presence marks the folder complete
    MODEL/detector/    Detector.save: JSON parameters + .npz arrays (+ torch weights), no pickle
    MODEL/README.md    the model card: what it was trained on, validation figures, how to score
    MODEL/sample.npy   the last training rows (≤ 1,000): real inputs to check an export on

Preparation: ``{"kind": "none"}`` (values as given) or ``{"kind": "plant", ...}`` (fitted on a
``mstad prepare`` folder: its per-stage statistics and config, so a new raw batch is prepared as
the training batches were).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mstad
from mstad.atomic import atomic_path, write_text
from mstad.data.plant.config import PrepareConfig
from mstad.data.plant.loader import KEYS
from mstad.data.plant.normalize import StageNormalizer
from mstad.data.plant.prepare import prepare_batch
from mstad.deploy.inputs import (
    SUFFIXES,
    Table,
    frame_values,
    is_prepared,
    read_frame,
    read_manifest,
    read_source,
)
from mstad.errors import DataError, MstadError, reason
from mstad.models import Detector
from mstad.models.streaming import Monitor

FORMAT = "mstad-model/1"
MODEL_JSON = "model.json"
DETECTOR_DIR = "detector"
CARD = "README.md"
SAMPLE = "sample.npy"
#: training rows kept in the folder to check exported graphs on
SAMPLE_ROWS = 1000


class ModelError(MstadError):
    """A model folder that cannot be used as it is."""


def data_hash(values: np.ndarray) -> str:
    """sha256 (first 16 hex digits) of the float32 values and their shape."""
    digest = hashlib.sha256(str(values.shape).encode())
    digest.update(np.ascontiguousarray(values, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def plant_preparation(prepared: Path) -> dict[str, Any]:
    manifest = read_manifest(prepared)
    return {
        "kind": "plant",
        "normalization": manifest["normalization"],
        "config": manifest["config"],
        "config_hash": manifest.get("config_hash"),
    }


@dataclass
class DeployedModel:
    """A loaded (or just fitted) model folder."""

    detector: Detector
    info: dict[str, Any]
    path: Path | None = None

    @property
    def sensors(self) -> list[str]:
        return list(self.info["sensors"])

    @property
    def threshold(self) -> float:
        return float(self.info["threshold"]["value"])

    @property
    def preparation(self) -> dict[str, Any]:
        return self.info["preparation"]

    @property
    def local_zone(self) -> str:
        """Time zone the data's owners read times in: a plant's ``prepare`` timezone, else UTC."""
        if self.preparation["kind"] == "plant":
            return str(self.preparation["config"].get("timezone", "UTC"))
        return "UTC"

    # ---- data --------------------------------------------------------------------------------
    def read(self, source: Path | str, schedule: Path | None = None) -> Table:
        """``source`` (file, prepared folder, raw batch folder) as this model's input."""
        source = Path(source)
        plant = self.preparation["kind"] == "plant"
        if plant and source.is_dir() and not is_prepared(source):
            config = PrepareConfig.model_validate(self.preparation["config"])
            frame, raw, _ = prepare_batch(
                config, self.preparation["normalization"], self.sensors, source, schedule
            )
            values = frame_values(frame, self.sensors, str(source))
            keys = frame[list(KEYS)]
            return Table(values, self.sensors, keys, str(source), raw)
        if plant and source.suffix in (".csv", ".parquet") and source.is_file():
            return self._raw_table(source)
        table = read_source(source)
        if plant and is_prepared(source):
            found = read_manifest(source).get("normalization")
            if found != self.preparation["normalization"]:
                raise DataError(
                    f"{source}: prepared with other normalisation statistics than this model's "
                    "training data; score its raw batch folders instead"
                )
        return self.align(table)

    def _raw_table(self, path: Path) -> Table:
        """A table of raw plant values with a ``stage`` column, normalised per stage."""
        frame = read_frame(path)
        if "stage" not in frame.columns:
            raise DataError(
                f"{path}: a plant model needs a `stage` column to normalise raw values per stage"
            )
        self.check_sensors([str(c) for c in frame.columns if c not in KEYS], str(path))
        frame_values(frame, self.sensors, str(path))  # names a non-numeric column
        normalizer = StageNormalizer.from_dict(self.preparation["normalization"], self.sensors)
        values = normalizer.transform(frame, self.sensors).astype(np.float32)
        keys = frame[[k for k in KEYS if k in frame.columns]]
        return Table(values, self.sensors, keys, str(path))

    def align(self, table: Table) -> Table:
        """The table's columns in the model's sensor order; missing or extra sensors are named.
        A source without names (``.npy``) is taken column by column in the training order."""
        if table.sensors == self.sensors:
            return table
        if not table.named:
            if table.values.shape[1] != len(self.sensors):
                raise DataError(
                    f"{table.source}: {table.values.shape[1]} columns, but the model was fitted "
                    f"on {len(self.sensors)} sensors ({_names(self.sensors)}); a .npy file has "
                    "no column names, so give its columns in that order"
                )
            return Table(table.values, self.sensors, table.keys, table.source)
        self.check_sensors(table.sensors, table.source)
        order = [table.sensors.index(s) for s in self.sensors]
        return Table(table.values[:, order], self.sensors, table.keys, table.source)

    def check_sensors(self, found: list[str], source: str) -> None:
        missing = [s for s in self.sensors if s not in found]
        extra = [s for s in found if s not in self.sensors]
        if missing or extra:
            raise DataError(
                f"{source}: sensors do not match the model (missing: {_names(missing)}; "
                f"extra: {_names(extra)}); score data with the {len(self.sensors)} training "
                "sensors"
            )

    # ---- scoring -----------------------------------------------------------------------------
    def score(self, values: np.ndarray) -> np.ndarray:
        return self.detector.score(values)

    def sample(self) -> np.ndarray:
        """The training rows kept in the folder (:data:`SAMPLE`)."""
        if self.path is None or not (self.path / SAMPLE).is_file():
            raise ModelError(f"{self.path}: no {SAMPLE}; fit the model again")
        try:
            values = np.load(self.path / SAMPLE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{self.path / SAMPLE}: not readable ({reason(exc)})") from None
        if values.ndim != 2 or values.shape[1] != len(self.sensors):
            raise ModelError(f"{self.path / SAMPLE}: shape {values.shape}; fit the model again")
        return values

    def monitor(self, max_past_windows: int | None = None) -> Monitor:
        return Monitor(self.detector, self.threshold, max_past_windows)


def _names(names: list[str]) -> str:
    return ", ".join(names[:8]) + (" …" if len(names) > 8 else "") if names else "-"


# ---- writing --------------------------------------------------------------------------------
def validation_figures(detector: Detector, threshold: float) -> dict[str, Any]:
    scores = detector.validation_scores_
    return {
        "steps": int(len(scores)),
        "fitted_on": detector.calibration_.fitted_on,
        "median": float(np.median(scores)),
        "q99": float(np.quantile(scores, 0.99)),
        "max": float(scores.max()),
        "alarm_rate": float(np.mean(scores > threshold)),
    }


def check_output(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise MstadError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MODEL_JSON).is_file():
            raise MstadError(f"{out}: a folder that is not a model folder; choose another --out")
        if not force:
            raise MstadError(f"{out}: a model folder already; pass --force to replace it")


def write_model(
    out: Path,
    detector: Detector,
    fitted_threshold: dict[str, Any],
    table: Table,
    preparation: dict[str, Any],
    training: dict[str, Any],
    seed: int,
    force: bool = False,
) -> DeployedModel:
    """Write the model folder ``out`` (model.json last) and return it loaded."""
    out = Path(out)
    check_output(out, force)
    if (out / DETECTOR_DIR).exists():
        shutil.rmtree(out / DETECTOR_DIR)
    (out / MODEL_JSON).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    detector.save(out / DETECTOR_DIR)
    with atomic_path(out / SAMPLE) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(table.values[-SAMPLE_ROWS:]), allow_pickle=False)
    info = {
        "format": FORMAT,
        "mstad_version": mstad.__version__,
        "model": detector.name,
        "params": json.loads(json.dumps(detector.get_params(), default=list)),
        "seed": seed,
        "sensors": table.sensors,
        "threshold": fitted_threshold,
        "preparation": preparation,
        "training": {
            **training,
            "source": table.source,
            "steps": int(len(table.values)),
            "data_hash": data_hash(table.values),
        },
        "validation": validation_figures(detector, float(fitted_threshold["value"])),
        "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
    }
    write_text(out / CARD, model_card(info, out))
    write_text(out / MODEL_JSON, json.dumps(info, indent=2))
    return DeployedModel(detector, info, out)


def model_card(info: dict[str, Any], out: Path) -> str:
    v, t, tr = info["validation"], info["threshold"], info["training"]
    plant = info["preparation"]["kind"] == "plant"
    how = (
        f"mstad score {out} plant/raw/<new batch>     # a raw batch, prepared as in training"
        if plant
        else f"mstad score {out} new_data.csv             # or .npy / .parquet"
    )
    sensors = ", ".join(info["sensors"][:12]) + (" …" if len(info["sensors"]) > 12 else "")
    preparation = "per-stage statistics of the training batches" if plant else "none"
    note = f"- note: {t['note']}\n" if t.get("note") else ""
    return f"""# Model card: {info["model"]}

Fitted by mstad {info["mstad_version"]} on {info["created"]}.

## Trained on
- data: {tr["source"]} ({tr["steps"]:,} steps, sha256 {tr["data_hash"]})
- sensors ({len(info["sensors"])}, in this order): {sensors}
- preparation: {preparation}
- detector: `{info["model"]}` {json.dumps(info["params"])}, seed {info["seed"]}

## Validation (held-out tail of the training data; no test data, no labels)
- {v["steps"]:,} validation steps ({v["fitted_on"]}); calibrated score median {v["median"]:.2f},
  99th percentile {v["q99"]:.2f}, max {v["max"]:.2f}
- threshold `{t["method"]}` = {t["value"]:.3f}; validation steps above it:
  {100 * v["alarm_rate"]:.2f} %
{note}
Scores are surprises, −log10 of the validation tail probability: 2 = the validation 99th
percentile, 3 = one validation step in a thousand; bounded below 10.

## How to score
```bash
{how}
mstad stream {out} < rows.csv                  # one score per step, alarms at the threshold
```
"""


# ---- reading --------------------------------------------------------------------------------
def load_model(path: Path | str) -> DeployedModel:
    """The model folder at ``path``, checked: format, mstad version, files; one-line errors."""
    path = Path(path)
    meta = path / MODEL_JSON
    if not meta.is_file():
        what = "incomplete (no model.json)" if path.is_dir() else "not found"
        raise ModelError(f"{path}: model folder {what}; write one with `mstad fit`")
    try:
        info = json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{meta}: not readable JSON ({reason(exc)}); fit the model again"
        ) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        found = info.get("format") if isinstance(info, dict) else None
        raise ModelError(f"{meta}: format {found!r}, expected {FORMAT!r}; fit the model again")
    version = info.get("mstad_version")
    if version != mstad.__version__:
        raise ModelError(
            f"{path}: written by mstad {version}, this is mstad {mstad.__version__}; refit it "
            f"with `mstad fit` (or score with mstad {version})"
        )
    for key, kind in (("sensors", list), ("threshold", dict), ("preparation", dict)):
        if not isinstance(info.get(key), kind):
            raise ModelError(f"{meta}: field {key!r} missing or not a {kind.__name__}; fit again")
    detector = Detector.load(path / DETECTOR_DIR)
    if detector.n_sensors_ != len(info["sensors"]) or detector.name != info.get("model"):
        raise ModelError(f"{meta}: does not describe {path / DETECTOR_DIR}; fit the model again")
    if not isinstance(info["threshold"].get("value"), int | float):
        raise ModelError(f"{meta}: threshold has no value; fit the model again")
    return DeployedModel(detector, info, path)


__all__ = ["SUFFIXES", "DeployedModel", "ModelError", "load_model", "write_model"]
