"""Detectors by name. ``register`` is a class decorator; ``make_detector`` checks parameters."""

from __future__ import annotations

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
    "mstad.models.ensemble",
)
#: Named defaults: ``--model best`` is mstad's best detector with fixed parameters: the
#: ensemble's defaults, chosen by selection round 7 (issue 16,
#: ``benchmarks/results/calibration_log.md``): discord, and pca where the sensors share structure,
#: combined by max.
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
    name = ALIASES.get(name, (name, {}))[0]
    if name not in _REGISTRY:
        raise ConfigError(
            f"model {name!r} is unknown; choose one of {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]


def make_detector(name: str, **params: Any) -> Detector:
    """Build a detector; an unknown parameter is an error that lists the valid ones."""
    cls = detector_class(name)
    params = {**ALIASES.get(name, (name, {}))[1], **params}
    valid = cls.param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(
            f"model {name}: unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(valid)}"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {name}: {exc}") from exc
