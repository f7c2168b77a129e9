"""MSCRED's synthetic data (Zhang et al., AAAI 2019, Eq. 7), regenerated deterministically.

Each sensor is ``sin((t - t0)/ω)`` or ``cos((t - t0)/ω)`` (chosen at random) plus ``λ·ε`` with
``t0 ~ U[50, 100]``, ``ω ~ U[40, 50]``, ``ε ~ N(0, 1)``, ``λ = 0.3``. Five shock-like anomalies are
injected in the test period, each into 3 root-cause sensors, with durations 10/30/90/10/30.

The original CSV is not public; where the paper is silent mstad chooses and documents:

* positions and root causes default to the authors' label file (``end, r1, r2, r3``; 0-based
  sensors, interval ``[end - span, end)``);
* the shock is the Friedlander waveform, the textbook profile of a blast (shock) wave: a jump to
  ``A`` followed by a decay, ``A·(1 - u)·exp(-u)``, ``u ∈ [0, 1)`` over the span, with ``A = 1``
  (the signal's own amplitude, so values stay in the signal's range) and a random sign per sensor,
  added to the signal. An earlier version used a decaying oscillation ``A·exp(-3u)·cos(4πu)``;
  its two periods per span average out of every windowed product, so it was nearly invisible to
  any correlation representation (measured on scale-S signature matrices: 0–4 % of the
  root-cause entries of the 10/30-step anomalies rose above the 99th percentile of the noise's own
  footprint, against 51–70 % for this waveform — ``tests/data/test_synthetic.py``);
* split as in the paper: train ``[0, 8000)``, validation ``[8000, 10000)`` (the tail of
  ``Entity.train``), test ``[10000, 20000)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels
from mstad.errors import DataError
from mstad.params import SEED_SPEC, spec

#: The authors' ``test_anomaly.csv``: (end, cause1, cause2, cause3); durations cycle 10/30/90.
PAPER_ANOMALIES = (
    (11810, 24, 15, 28),
    (12760, 21, 26, 5),
    (14540, 3, 16, 2),
    (17790, 9, 5, 20),
    (18620, 25, 14, 8),
)
DURATIONS = (10, 30, 90)


def shock(span: int, amplitude: float = 1.0) -> np.ndarray:
    """The injected shape over ``span`` steps: the Friedlander (blast-wave) positive phase."""
    u = np.arange(span) / span
    return amplitude * (1.0 - u) * np.exp(-u)


def _anomaly_plan(
    rng: np.random.Generator, n_sensors: int, n_steps: int, train_end: int, n_anomalies: int | None
) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, end_exclusive, causes) for each anomaly."""
    paper = n_anomalies is None and n_steps == 20_000 and train_end == 10_000 and n_sensors >= 29
    if paper:
        return [
            (end - DURATIONS[k % 3], end, tuple(causes))
            for k, (end, *causes) in enumerate(PAPER_ANOMALIES)
        ]
    count = 5 if n_anomalies is None else n_anomalies
    spans = [DURATIONS[k % 3] for k in range(count)]
    test_len = n_steps - train_end
    slot = test_len // max(count, 1)
    if count and slot < max(spans) + 20:
        raise DataError(
            f"synthetic: {count} anomalies do not fit in a test period of {test_len} steps; "
            "use more steps or fewer anomalies"
        )
    plan = []
    for k, span in enumerate(spans):
        lo = train_end + k * slot + 10
        start = int(rng.integers(lo, lo + slot - span - 10))
        causes = tuple(sorted(int(c) for c in rng.choice(n_sensors, size=3, replace=False)))
        plan.append((start, start + span, causes))
    return plan


#: ranges of :func:`make_synthetic`'s parameters (``dataset_options`` of ``synthetic``)
SYNTHETIC_SPECS = {
    "n_sensors": spec(ge=3),
    "n_steps": spec(ge=40),
    "train_end": spec(ge=20),
    "noise": spec(ge=0),
    "n_anomalies": spec(ge=0),
    "amplitude": spec(ge=0),
    "seed": SEED_SPEC,
}


def make_synthetic(
    n_sensors: int = 30,
    n_steps: int = 20_000,
    train_end: int = 10_000,
    noise: float = 0.3,
    n_anomalies: int | None = None,
    amplitude: float = 1.0,
    seed: int = 0,
) -> Entity:
    """One seeded MSCRED-style entity; the validation span is the last 20 % of ``train``."""
    if n_sensors < 3:
        raise DataError(f"synthetic: n_sensors = {n_sensors}, need at least 3 (root causes)")
    if not 0 < train_end < n_steps:
        raise DataError(f"synthetic: train_end = {train_end} must lie inside 1..{n_steps - 1}")
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps, dtype=np.float64)[:, None]
    t0 = rng.uniform(50, 100, size=n_sensors)
    omega = rng.uniform(40, 50, size=n_sensors)
    use_sin = rng.random(n_sensors) < 0.5
    phase = (t - t0) / omega
    x = np.where(use_sin, np.sin(phase), np.cos(phase))
    x += noise * rng.standard_normal(x.shape)
    intervals = []
    for start, end, causes in _anomaly_plan(rng, n_sensors, n_steps, train_end, n_anomalies):
        for sensor in causes:
            x[start:end, sensor] += rng.choice((-1.0, 1.0)) * shock(end - start, amplitude)
        intervals.append(Interval(start - train_end, end - 1 - train_end, causes))
    test_len = n_steps - train_end
    return Entity(
        name="mscred-synthetic",
        train=x[:train_end].astype(np.float32),
        test=x[train_end:].astype(np.float32),
        labels=intervals_to_labels(intervals, test_len),
        intervals=tuple(intervals),
        sensors=tuple(f"x{i:02d}" for i in range(n_sensors)),
    )


def load_synthetic(n_entities: int = 1, **params) -> Dataset:
    """The embedded default data set, no download needed: one entity, or ``n_entities`` with
    seeds ``seed, seed + 1, …`` (named ``synthetic-0``, ``synthetic-1``, …)."""
    if n_entities < 1:
        raise DataError(f"synthetic: n_entities = {n_entities}, need at least 1")
    if n_entities == 1:
        return Dataset("synthetic", (make_synthetic(**params),))
    seed = params.pop("seed", 0)
    entities = [
        dataclasses.replace(make_synthetic(seed=seed + k, **params), name=f"synthetic-{k}")
        for k in range(n_entities)
    ]
    return Dataset("synthetic", tuple(entities))
