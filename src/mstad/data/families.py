"""Generated families of labelled multivariate series, for choosing defaults without test labels.

A default chosen on one kind of data can lose on another, so defaults are selected on several
families that differ in how sensors relate and how anomalies show (``benchmarks/
best_selection.py``). Each family has entities of 2–40 sensors, 3,000 training and 3,000 test
steps, and 5 anomalies of 20–150 steps on 1–3 root-cause sensors (kept as interval causes):

* ``factors`` — sensors share a few latent processes (smooth AR(2) factors, loadings drawn per
  sensor, 10 % noise): **correlation breaks**. A root-cause sensor follows an independent
  process of the same variance (``decouple``), or its loading flips sign (``flip``), or its
  gain drifts to 0 (``fade``); values stay inside their normal range.
* ``regimes`` — independent sensors, each a mean-reverting AR(1) process around a slow daily
  cycle: **level shifts** (2–4 std), **variance changes** (×3) and **stuck values**.
* ``seasonal`` — each sensor a periodic signal (a fundamental of 40–200 steps and two harmonics)
  plus noise: **frequency changes** (period ×0.6 or ×1.6), **amplitude changes** (×0.3 or ×2)
  and **phase jumps** (half a period), shapes that a level detector cannot see.

The ``-long`` families (:data:`LONG_FAMILIES`: ``factors-long``, ``regimes-long``,
``seasonal-long``) are the same generators with **2 anomalies of 150–600 steps** (5–40 % of the
test split, one in each half) instead of 5 short ones — the lengths of NASA's labelled anomalies,
which last hundreds to thousands of steps. A detector that stops alarming once a change has been
seen for a while (a past reference) is judged there as well as where anomalies are short.

Everything is drawn from ``numpy.random.default_rng(seed)``; the same seed gives the same data.
"""

from __future__ import annotations

import numpy as np

from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels
from mstad.errors import ConfigError

FAMILIES = ("factors", "regimes", "seasonal")
#: the same generators with a few long anomalies (see the module docstring)
LONG_FAMILIES = tuple(f"{f}-long" for f in FAMILIES)
#: sensor counts of a family's entities
SENSORS = (2, 5, 10, 20, 30, 40)
N_TRAIN = N_TEST = 3000
N_ANOMALIES = 5
#: (count, shortest, longest) of the anomalies: the short families' and the long ones'
SHORT_PLAN, LONG_PLAN = (N_ANOMALIES, 20, 150), (2, 150, 600)


def _ar2(rng: np.random.Generator, n: int, period: float) -> np.ndarray:
    """A smooth quasi-periodic AR(2) process with unit variance."""
    r, theta = 0.995, 2 * np.pi / period
    a1, a2 = 2 * r * np.cos(theta), -(r**2)
    e = rng.standard_normal(n + 500)
    x = np.zeros(n + 500)
    for t in range(2, n + 500):
        x[t] = a1 * x[t - 1] + a2 * x[t - 2] + e[t]
    x = x[500:]
    return (x - x.mean()) / x.std()


def _plan(
    rng: np.random.Generator, n_sensors: int, plan: tuple[int, int, int]
) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, end_exclusive, causes) of each anomaly: one per test slot, 1–3 causes;
    ``plan`` = (count, shortest, longest)."""
    count, shortest, longest = plan
    slot = N_TEST // count
    out = []
    for i in range(count):
        length = int(rng.integers(shortest, longest + 1))
        start = i * slot + int(rng.integers(20, slot - length - 20))
        k = int(rng.integers(1, min(3, n_sensors) + 1))
        causes = tuple(sorted(int(c) for c in rng.choice(n_sensors, size=k, replace=False)))
        out.append((start, start + length, causes))
    return out


def _factors(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n = N_TRAIN + N_TEST
    k = int(rng.integers(1, 4))
    latent = np.stack([_ar2(rng, n, rng.uniform(50, 300)) for _ in range(k)], axis=1)
    loadings = rng.normal(size=(d, k))
    loadings /= np.linalg.norm(loadings, axis=1, keepdims=True)
    x = latent @ loadings.T + 0.1 * rng.standard_normal((n, d))
    plan = _plan(rng, d, plan_of)
    for start, end, causes in plan:
        seg = slice(N_TRAIN + start, N_TRAIN + end)
        kind = ("decouple", "flip", "fade")[int(rng.integers(3))]
        for c in causes:
            clean = latent[seg] @ loadings[c]
            if kind == "decouple":
                replacement = _ar2(rng, end - start + 200, rng.uniform(50, 300))[200:]
                x[seg, c] += replacement * clean.std() / max(replacement.std(), 1e-9) - clean
            elif kind == "flip":
                x[seg, c] -= 2 * clean
            else:
                x[seg, c] -= clean * np.linspace(0, 1, end - start)
    return x, plan


def _regimes(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n = N_TRAIN + N_TEST
    t = np.arange(n)
    x = np.empty((n, d))
    for j in range(d):
        phi = rng.uniform(0.8, 0.98)
        e = rng.standard_normal(n) * np.sqrt(1 - phi**2)
        ar = np.zeros(n)
        for i in range(1, n):
            ar[i] = phi * ar[i - 1] + e[i]
        x[:, j] = ar + rng.uniform(0.5, 2) * np.sin(2 * np.pi * t / 1440 + rng.uniform(0, 6.3))
    plan = _plan(rng, d, plan_of)
    for start, end, causes in plan:
        seg = slice(N_TRAIN + start, N_TRAIN + end)
        kind = ("level", "variance", "stuck")[int(rng.integers(3))]
        for c in causes:
            std = x[:N_TRAIN, c].std()
            if kind == "level":
                x[seg, c] += rng.choice((-1, 1)) * rng.uniform(2, 4) * std
            elif kind == "variance":
                x[seg, c] = x[seg, c].mean() + 3 * (x[seg, c] - x[seg, c].mean())
            else:
                x[seg, c] = x[N_TRAIN + start, c]
    return x, plan


def _periodic(t: np.ndarray, period: float, phase: float) -> np.ndarray:
    w = 2 * np.pi * t / period + phase
    return np.sin(w) + 0.4 * np.sin(2 * w + 1.0) + 0.2 * np.sin(3 * w + 2.0)


def _seasonal(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n = N_TRAIN + N_TEST
    t = np.arange(n, dtype=np.float64)
    periods = rng.uniform(40, 200, size=d)
    phases = rng.uniform(0, 2 * np.pi, size=d)
    x = np.stack([_periodic(t, periods[j], phases[j]) for j in range(d)], axis=1)
    x += 0.15 * rng.standard_normal((n, d))
    plan = _plan(rng, d, plan_of)
    for start, end, causes in plan:
        seg = slice(N_TRAIN + start, N_TRAIN + end)
        kind = ("frequency", "amplitude", "phase")[int(rng.integers(3))]
        for c in causes:
            clean = _periodic(t[seg], periods[c], phases[c])
            if kind == "frequency":  # the same phase at the start, another period after it
                tt = t[N_TRAIN + start] + (t[seg] - t[N_TRAIN + start]) / rng.choice((0.6, 1.6))
                new = _periodic(tt, periods[c], phases[c])
            elif kind == "amplitude":
                new = clean * rng.choice((0.3, 2.0))
            else:
                new = _periodic(t[seg] + periods[c] / 2, periods[c], phases[c])
            x[seg, c] += new - clean
    return x, plan


_GENERATORS = {"factors": _factors, "regimes": _regimes, "seasonal": _seasonal}


def make_family(family: str, seed: int = 0, sensors: tuple[int, ...] = SENSORS) -> Dataset:
    """One entity per sensor count in ``sensors``, named ``<family>-<D>``."""
    known = (*FAMILIES, *LONG_FAMILIES)
    if family not in known:
        raise ConfigError(f"family {family!r} is unknown; choose one of {', '.join(known)}")
    generator = _GENERATORS[family.removesuffix("-long")]
    plan_of = LONG_PLAN if family in LONG_FAMILIES else SHORT_PLAN
    entities = []
    for i, d in enumerate(sensors):
        rng = np.random.default_rng([seed, known.index(family), i])
        x, plan = generator(rng, int(d), plan_of)
        intervals = tuple(Interval(s, e - 1, causes) for s, e, causes in plan)
        entities.append(
            Entity(
                name=f"{family}-{d}",
                train=x[:N_TRAIN].astype(np.float32),
                test=x[N_TRAIN:].astype(np.float32),
                labels=intervals_to_labels(intervals, N_TEST),
                intervals=intervals,
                sensors=tuple(f"x{j:02d}" for j in range(d)),
            )
        )
    return Dataset(family, entities)
