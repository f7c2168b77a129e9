"""Labelled anomalies injected into normal data, for choosing defaults without test labels.

Issue 8's rule: every choice is made on validation data taken from the training split, or on
synthetic data. :func:`injected_holdout` turns an entity's *training* split into a labelled
problem — fit on its head, score its tail with anomalies of the common kinds injected into one
sensor — so detector variants can be compared on real signals while the test split and its labels
stay unread.

Kinds (the usual taxonomy of point, contextual and pattern anomalies), sizes in the sensor's
training standard deviation ``s`` (or range for flat sensors):

* ``spike``: one to three steps moved by 4–8 ``s``;
* ``level``: a level shift of 1–3 ``s``;
* ``flat``: the value frozen (a stuck sensor);
* ``noise``: Gaussian noise of 0.5–1.5 ``s`` added;
* ``trend``: a linear drift reaching 2–4 ``s``;
* ``warp``: the segment played at twice its speed (a changed frequency);
* ``scale``: deviations from the segment mean multiplied by 0.2 or 3;
* ``decouple`` (:data:`MULTI_KINDS` only): the sensor replays its own values from another,
  randomly chosen stretch of the series — its range and shape stay normal, its relation to the
  other sensors breaks (a correlation fault, as a fouled sensor or a stuck controller gives).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mstad.data.entity import Entity, Interval
from mstad.data.labels import intervals_to_labels
from mstad.errors import DataError

KINDS = ("spike", "level", "flat", "noise", "trend", "warp", "scale")
#: the kinds for several sensors: a correlation break added
MULTI_KINDS = (*KINDS, "decouple")


def _segment(kind: str, x: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    n = len(x)
    sign = rng.choice((-1.0, 1.0))
    if kind == "spike":
        return x + sign * rng.uniform(4, 8) * s
    if kind == "level":
        return x + sign * rng.uniform(1, 3) * s
    if kind == "flat":
        return np.full(n, x[0])
    if kind == "noise":
        return x + rng.normal(0, rng.uniform(0.5, 1.5) * s, n)
    if kind == "trend":
        return x + sign * rng.uniform(2, 4) * s * np.linspace(0, 1, n)
    if kind == "warp":
        return np.interp(np.arange(n) * 2.0 % n, np.arange(n), x)
    if kind == "scale":
        return x.mean() + (x - x.mean()) * rng.choice((0.2, 3.0))
    raise ValueError(f"unknown anomaly kind {kind!r}; choose from {', '.join(KINDS)}")


def inject(
    series: np.ndarray,
    sensor: int | Sequence[int],
    n_anomalies: int,
    seed: int,
    scale: float | np.ndarray,
    kinds: tuple[str, ...] = KINDS,
    span: tuple[int, int] = (20, 200),
) -> tuple[np.ndarray, list[Interval]]:
    """Copy of ``series`` with ``n_anomalies`` non-overlapping anomalies, each in one sensor:
    ``sensor`` itself, or one drawn from the sequence ``sensor`` per anomaly (``scale`` then
    holds one spread per sensor of the series)."""
    rng = np.random.default_rng(seed)
    out = np.array(series, dtype=np.float64)
    n = len(out)
    slots = n // n_anomalies
    if slots < span[0] + 10:
        raise DataError(f"{n} steps are too few for {n_anomalies} injected anomalies")
    intervals = []
    for i in range(n_anomalies):
        kind = kinds[rng.integers(len(kinds))]
        length = 1 + int(rng.integers(3)) if kind == "spike" else int(rng.integers(*span))
        length = min(length, slots - 10)
        start = i * slots + int(rng.integers(5, slots - length - 4))
        seg = slice(start, start + length)
        j = int(sensor) if np.ndim(sensor) == 0 else int(sensor[rng.integers(len(sensor))])
        s = float(scale) if np.ndim(scale) == 0 else float(scale[j])
        if kind == "decouple":  # a stretch of the same sensor from elsewhere in the series
            other = int(rng.integers(0, n - length))
            if abs(other - start) < length:
                other = (other + 2 * length) % (n - length)
            out[seg, j] = series[other : other + length, j]
        else:
            out[seg, j] = _segment(kind, out[seg, j], s, rng)
        intervals.append(Interval(start, start + length - 1, (j,)))
    return out.astype(np.float32), intervals


def sensor_spreads(train: np.ndarray) -> np.ndarray:
    """Per-sensor size unit for injections: standard deviation, else range, else 1."""
    x = np.asarray(train, dtype=np.float64)
    std, ptp = x.std(axis=0), np.ptp(x, axis=0)
    return np.where(std > 0, std, np.where(ptp > 0, ptp, 1.0))


def injected_holdout(
    entity: Entity,
    sensor: int | Sequence[int] = 0,
    fraction: float = 0.4,
    per_1000: float = 2.0,
    seed: int = 0,
    kinds: tuple[str, ...] = KINDS,
    span: tuple[int, int] = (20, 200),
) -> Entity:
    """An entity whose train is the head of ``entity.train`` and whose test is its tail with
    injected anomalies (about ``per_1000`` per 1,000 steps, at least one) in ``sensor``, or in
    one sensor drawn per anomaly from the sequence ``sensor``."""
    train = entity.train
    cut = int(round(len(train) * (1 - fraction)))
    head, tail = train[:cut], train[cut:]
    spread = sensor_spreads(head)
    spread = spread if np.ndim(sensor) else float(spread[sensor])
    n_anomalies = max(1, int(round(len(tail) * per_1000 / 1000)))
    test, intervals = inject(tail, sensor, n_anomalies, seed, spread, kinds, span)
    return Entity(
        name=entity.name,
        train=head,
        test=test,
        labels=intervals_to_labels(intervals, len(test)),
        intervals=tuple(intervals),
        sensors=entity.sensors,
        flags=entity.flags,
    )
