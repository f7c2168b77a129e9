"""Core data types: an :class:`Entity` is one monitored system, a :class:`Dataset` a named list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from mstad.data.checks import check_flags, check_name
from mstad.errors import DataError


@dataclass(frozen=True)
class Interval:
    """An anomaly interval ``[start, end]`` with *inclusive* end, in test-split time steps.

    ``causes`` holds 0-based sensor indices of the root cause, when the data set provides them.
    """

    start: int
    end: int
    causes: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise DataError(
                f"interval [{self.start}, {self.end}] is invalid: need 0 <= start <= end "
                "(ends are inclusive)"
            )

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class Entity:
    """One monitored system (a SMAP channel, an SMD machine, a plant).

    ``train`` and ``test`` are float32 ``[T, D]``; ``labels`` is bool ``[T_test]`` or ``None``
    when the test split is unlabelled. ``flags`` lists the sensors the data set declares as 0/1
    command flags (NASA: every column but the telemetry), or is ``None`` when it says nothing
    and detectors infer them from training values (:mod:`mstad.features.columns`).
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray | None
    intervals: tuple[Interval, ...] = ()
    sensors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)
    flags: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "entity")
        for split in ("train", "test"):
            arr = getattr(self, split)
            if arr.ndim != 2:
                raise DataError(f"entity {self.name}: {split} must be 2-D [T, D], got {arr.shape}")
        d = self.train.shape[1]
        if self.test.shape[1] != d:
            raise DataError(
                f"entity {self.name}: train has {d} sensors but test has {self.test.shape[1]}; "
                "both splits need the same columns in the same order"
            )
        if self.labels is not None and self.labels.dtype != bool:
            raise DataError(f"entity {self.name}: labels must be bool, got {self.labels.dtype}")
        if self.labels is not None and self.labels.shape != (self.test.shape[0],):
            raise DataError(
                f"entity {self.name}: {self.labels.shape[0]} labels for {self.test.shape[0]} "
                "test steps; labels need one value per test step"
            )
        if self.sensors and len(self.sensors) != d:
            raise DataError(f"entity {self.name}: {len(self.sensors)} sensor names for {d} sensors")
        if not self.sensors:
            object.__setattr__(self, "sensors", tuple(f"s{i}" for i in range(d)))
        object.__setattr__(self, "flags", check_flags(self.flags, d, f"entity {self.name}"))

    @property
    def n_sensors(self) -> int:
        return self.train.shape[1]


@dataclass(frozen=True)
class Dataset:
    """A named collection of entities, each modelled on its own by default."""

    name: str
    entities: tuple[Entity, ...]

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    def __getitem__(self, name: str) -> Entity:
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entities]

    def select(self, names: Sequence[str] | None) -> Dataset:
        """Keep the named entities (in the given order); an unknown name is an error."""
        if not names:
            return self
        known = set(self.names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise DataError(
                f"dataset {self.name}: unknown entit{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; available: {', '.join(self.names[:10])}"
                f"{' …' if len(known) > 10 else ''}"
            )
        return Dataset(self.name, tuple(self[n] for n in names))

    def summary(self) -> dict[str, int]:
        """Counts used by ``mstad datasets`` and the loader tests."""
        labelled = [e.labels for e in self.entities if e.labels is not None]
        return {
            "entities": len(self.entities),
            "train_steps": int(sum(e.train.shape[0] for e in self.entities)),
            "test_steps": int(sum(e.test.shape[0] for e in self.entities)),
            "anomalous_steps": int(sum(int(lab.sum()) for lab in labelled)),
            "intervals": int(sum(len(e.intervals) for e in self.entities)),
        }
