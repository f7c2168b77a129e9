"""Stage normalisation: per (stage, sensor) statistics fitted on training batches only.

Plants run at different operating levels per stage (heating at 80 °C, holding at 120 °C); without
this, the stage change itself dominates every anomaly score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mstad.errors import DataError


@dataclass
class StageNormalizer:
    """``(x - loc[stage]) / scale[stage]`` per sensor; ``method`` is ``zscore`` or ``minmax``.

    ``per_stage=False`` fits one set of statistics over all stages (the comparison case).
    """

    def _keys(self, frame: pd.DataFrame) -> np.ndarray:
        if self.per_stage:
            return frame["stage"].astype(str).to_numpy()
        return np.full(len(frame), "all", dtype=object)

    method: str = "zscore"
    per_stage: bool = True
    loc: dict[str, np.ndarray] = field(default_factory=dict)
    scale: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def fit(self, frame: pd.DataFrame, sensors: list[str]) -> StageNormalizer:
        """Fit on training rows only (a ``stage`` column plus ``sensors``); NaN is ignored."""
        self.loc, self.scale, self.warnings = {}, {}, []
        keys = self._keys(frame)
        for stage in sorted(set(keys)):
            values = frame[sensors].to_numpy(dtype=np.float64)[keys == stage]
            with np.errstate(all="ignore"):
                if self.method == "zscore":
                    loc, scale = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
                else:
                    loc = np.nanmin(values, axis=0)
                    scale = np.nanmax(values, axis=0) - loc
            overflow = ~np.isfinite(scale) & ~np.isnan(scale)
            if overflow.any() or np.isinf(loc).any():
                name = sensors[int(np.flatnonzero(overflow | np.isinf(loc))[0])]
                raise DataError(
                    f"stage {stage!r}, sensor {name!r}: training statistics overflow (values "
                    "too large); rescale the sensor before preparing"
                )
            flat = ~(scale > 0)
            if flat.any():
                names = [s for s, f in zip(sensors, flat, strict=True) if f]
                self.warnings.append(
                    f"stage {stage!r}: {len(names)} sensor(s) constant in training "
                    f"({', '.join(names[:5])}); only their level is removed"
                )
            self.loc[str(stage)] = np.nan_to_num(loc)
            self.scale[str(stage)] = np.where(flat, 1.0, scale)
        return self

    def transform(self, frame: pd.DataFrame, sensors: list[str]) -> np.ndarray:
        """Normalised ``[rows, sensors]`` float64; a stage unseen in training is an error."""
        out = frame[sensors].to_numpy(dtype=np.float64, copy=True)
        stages = self._keys(frame)
        for stage in pd.unique(stages):
            if str(stage) not in self.loc:
                raise DataError(
                    f"stage {stage!r} occurs in test batches but never in training batches; "
                    "every stage needs training data for its statistics"
                )
            rows = stages == stage
            out[rows] = (out[rows] - self.loc[str(stage)]) / self.scale[str(stage)]
        return out

    @classmethod
    def from_dict(cls, data: dict, sensors: list[str]) -> StageNormalizer:
        """The normaliser :meth:`to_dict` wrote (``manifest.json``, a model folder)."""
        try:
            stages = data["stages"]
            loc = {s: np.array([v["loc"][n] for n in sensors], float) for s, v in stages.items()}
            scale = {
                s: np.array([v["scale"][n] for n in sensors], float) for s, v in stages.items()
            }
            out = cls(str(data["method"]), bool(data["per_stage"]), loc, scale)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"normalisation statistics are incomplete ({type(exc).__name__}: {exc}); "
                "re-run `mstad prepare` and fit again"
            ) from None
        if not all(np.isfinite(v).all() for v in (*loc.values(), *scale.values())):
            raise DataError("normalisation statistics are not finite; re-run `mstad prepare`")
        return out

    def to_dict(self, sensors: list[str]) -> dict:
        return {
            "method": self.method,
            "per_stage": self.per_stage,
            "stages": {
                s: {
                    "loc": dict(zip(sensors, self.loc[s].tolist(), strict=True)),
                    "scale": dict(zip(sensors, self.scale[s].tolist(), strict=True)),
                }
                for s in self.loc
            },
        }
