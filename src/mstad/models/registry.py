"""Detectors by name. ``register`` is a class decorator; ``make_detector`` checks parameters."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from mstad.errors import ConfigError
from mstad.models.base import Detector

_REGISTRY: dict[str, type[Detector]] = {}
#: Modules imported on first use, so that ``import mstad`` stays light.
_MODULES = (
    "mstad.models.zscore",
    "mstad.models.pca",
    "mstad.models.knn",
    "mstad.models.iforest",
    "mstad.models.mscred",
    "mstad.models.msflow",
    "mstad.models.discord",
    "mstad.models.shape",
    "mstad.models.lstm_ad",
    "mstad.models.usad",
    "mstad.models.tranad",
    "mstad.models.omnianomaly",
    "mstad.models.ensemble",
)
#: Named defaults: ``--model best`` is mstad's best detector with fixed parameters: the
#: ensemble's defaults, chosen by the label-free selection rounds (issue 16, last rounds 15-34,
#: ``benchmarks/results/calibration_log.md``): discord (training and training + past views), and
#: pca where the sensors share structure — there both weighed by the square of how well they
#: find anomalies injected into validation data (AUROC − 0.5) — combined by the mean, and that
#: combination averaged with a z-normalised shape view of each sensor (``shape``, round 34).
ALIASES: dict[str, tuple[str, dict[str, Any]]] = {"best": ("ensemble", {})}


def register(cls: type[Detector]) -> type[Detector]:
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def available_detectors() -> list[str]:
    _load_all()
    return sorted([*_REGISTRY, *ALIASES])


def detector_class(name: str) -> type[Detector]:
    _load_all()
    if not isinstance(name, str):
        raise ConfigError(f"model {name!r}: expected a detector name (see `mstad models`)")
    resolved = ALIASES.get(name, (name, {}))[0]
    if resolved not in _REGISTRY:
        names = available_detectors()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"model {name!r} is unknown{hint}; choose one of {', '.join(names)}")
    return _REGISTRY[resolved]


def seeded(name: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """``params`` with the run's ``seed`` for a detector that takes one (a ``seed`` given in
    ``params`` wins): ``--seed`` reaches every stochastic detector."""
    if "seed" in detector_class(name).param_names() and "seed" not in params:
        return {**params, "seed": seed}
    return dict(params)


def make_detector(name: str, **params: Any) -> Detector:
    """Build a detector; its parameters are validated on construction
    (:mod:`mstad.params`): a bad one is a :class:`ConfigError` naming the field."""
    cls = detector_class(name)
    return cls(**{**ALIASES.get(name, (name, {}))[1], **params})
