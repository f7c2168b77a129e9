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

Two families were added after selection rounds 1–17 had chosen today's defaults
(:data:`LATER_FAMILIES`), so that those defaults could first be checked on data no round had
seen (``benchmarks/results/calibration_log.md`` §17):

* ``lagged`` — a process line: one smooth upstream driver, every other sensor a delayed,
  low-pass-filtered, scaled copy of an earlier sensor (transport delays of 5–40 steps) plus
  noise: **the line slows** (a sensor's delay ×3), **fouling or mis-calibration** (its gain
  ×0.4 or ×1.8) and **a leak** (an offset ramping to 3 std).
* ``servers`` — a server's metrics: a shared daily load (288 steps a day) with heavy-tailed
  bursts, read as CPU percent (clipped at 100), request counts (Poisson, integers), latency
  (lognormal noise), memory (a garbage-collected sawtooth) and error counts (mostly 0):
  **an agent that stops** (the sensor reads 0), **a pinned sensor** (stuck at its training
  99.5th percentile), **a memory leak** (a ramp to 3 std) and **a storm** (the sensor's
  departures from its running median ×3).

Each has a ``-long`` variant as the first three. The seeds of the first six families do not
depend on the later ones (their data are unchanged by the addition).

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
#: added after rounds 1–17 (see the module docstring), each with its ``-long`` variant
LATER_FAMILIES = ("lagged", "servers", "lagged-long", "servers-long")
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


def _faults(rng: np.random.Generator, plan: list, kinds: tuple[str, ...]):
    """Each anomaly of ``plan`` as (its slice of the whole series, its kind, its causes); the
    kind is drawn from ``kinds`` as the anomaly is reached, between the draws its generator
    makes for the previous one (the families' data depend on that order)."""
    for start, end, causes in plan:
        yield slice(N_TRAIN + start, N_TRAIN + end), kinds[int(rng.integers(len(kinds)))], causes


def _factors(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n = N_TRAIN + N_TEST
    k = int(rng.integers(1, 4))
    latent = np.stack([_ar2(rng, n, rng.uniform(50, 300)) for _ in range(k)], axis=1)
    loadings = rng.normal(size=(d, k))
    loadings /= np.linalg.norm(loadings, axis=1, keepdims=True)
    x = latent @ loadings.T + 0.1 * rng.standard_normal((n, d))
    plan = _plan(rng, d, plan_of)
    for seg, kind, causes in _faults(rng, plan, ("decouple", "flip", "fade")):
        for c in causes:
            clean = latent[seg] @ loadings[c]
            if kind == "decouple":
                replacement = _ar2(rng, seg.stop - seg.start + 200, rng.uniform(50, 300))[200:]
                x[seg, c] += replacement * clean.std() / max(replacement.std(), 1e-9) - clean
            elif kind == "flip":
                x[seg, c] -= 2 * clean
            else:
                x[seg, c] -= clean * np.linspace(0, 1, seg.stop - seg.start)
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
    for seg, kind, causes in _faults(rng, plan, ("level", "variance", "stuck")):
        for c in causes:
            std = x[:N_TRAIN, c].std()
            if kind == "level":
                x[seg, c] += rng.choice((-1, 1)) * rng.uniform(2, 4) * std
            elif kind == "variance":
                x[seg, c] = x[seg, c].mean() + 3 * (x[seg, c] - x[seg, c].mean())
            else:
                x[seg, c] = x[seg.start, c]
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
    for seg, kind, causes in _faults(rng, plan, ("frequency", "amplitude", "phase")):
        for c in causes:
            clean = _periodic(t[seg], periods[c], phases[c])
            if kind == "frequency":  # the same phase at the start, another period after it
                tt = t[seg.start] + (t[seg] - t[seg.start]) / rng.choice((0.6, 1.6))
                new = _periodic(tt, periods[c], phases[c])
            elif kind == "amplitude":
                new = clean * rng.choice((0.3, 2.0))
            else:
                new = _periodic(t[seg] + periods[c] / 2, periods[c], phases[c])
            x[seg, c] += new - clean
    return x, plan


def _lowpass(x: np.ndarray, alpha: float) -> np.ndarray:
    """A first-order low-pass filter (EWMA with weight ``alpha`` on the newest value)."""
    y = np.empty_like(x)
    y[0] = x[0]
    for t in range(1, len(x)):
        y[t] = y[t - 1] + alpha * (x[t] - y[t - 1])
    return y


def _follow(upstream: np.ndarray, delay: int, alpha: float, gain: float) -> np.ndarray:
    """A sensor down the line: ``upstream`` ``delay`` steps late (its first value held before
    it arrives), low-pass filtered with ``alpha`` and scaled by ``gain``."""
    late = np.roll(upstream, delay)
    late[:delay] = upstream[0]
    return gain * _lowpass(late, alpha)


def _lagged(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n, head = N_TRAIN + N_TEST, 400  # head: the past that the longest delays read
    clean = np.empty((head + n, d))
    clean[:, 0] = _ar2(rng, head + n, rng.uniform(100, 400))
    parents = [0] + [int(rng.integers(0, j)) for j in range(1, d)]
    delays = rng.integers(5, 41, size=d)
    alphas = rng.uniform(0.05, 0.3, size=d)
    gains = rng.choice((-1, 1), size=d) * rng.uniform(0.5, 2, size=d)
    for j in range(1, d):
        clean[:, j] = _follow(clean[:, parents[j]], int(delays[j]), alphas[j], gains[j])
    clean = clean[head:]
    x = clean + 0.1 * clean.std(axis=0) * rng.standard_normal((n, d))
    plan = _plan(rng, d, plan_of)
    for seg, kind, causes in _faults(rng, plan, ("delay", "gain", "ramp")):
        for c in causes:
            std = x[:N_TRAIN, c].std()
            if kind == "ramp":
                x[seg, c] += rng.choice((-1, 1)) * 3 * std * np.linspace(0, 1, seg.stop - seg.start)
            elif kind == "gain":
                x[seg, c] += (rng.choice((0.4, 1.8)) - 1) * (
                    clean[seg, c] - clean[:N_TRAIN, c].mean()
                )
            elif c == 0:  # the driver itself arrives late: its own values 3 × 20 steps earlier
                x[seg, c] += np.roll(clean[:, 0], 60)[seg] - clean[seg, 0]
            else:  # the same follower with three times its delay (recomputed on the clean data)
                slow = _follow(clean[:, parents[c]], 3 * int(delays[c]), alphas[c], gains[c])
                x[seg, c] += slow[seg] - clean[seg, c]
    return x, plan


def _servers(rng: np.random.Generator, d: int, plan_of: tuple) -> tuple[np.ndarray, list]:
    n = N_TRAIN + N_TEST
    t = np.arange(n)
    daily = 1 + 0.6 * np.sin(2 * np.pi * t / 288 + rng.uniform(0, 6.3))
    wobble = np.exp(0.3 * _ar2(rng, n, rng.uniform(20, 60)))
    bursts = 1 + 2 * (rng.random(n) < 0.005) * rng.exponential(1, n)
    load = daily * wobble * bursts
    x = np.empty((n, d))
    for j in range(d):
        kind = int(rng.integers(5))
        if kind == 0:  # CPU percent
            x[:, j] = np.clip(rng.uniform(15, 35) * load + 3 * rng.standard_normal(n), 0, 100)
        elif kind == 1:  # requests per step
            x[:, j] = rng.poisson(rng.uniform(5, 50) * load)
        elif kind == 2:  # latency, ms
            x[:, j] = rng.uniform(20, 80) * (1 + 0.2 * load**2) * rng.lognormal(0, 0.25, n)
        elif kind == 3:  # memory: grows with load, collected every 100–400 steps
            period = int(rng.integers(100, 401))
            growth = np.cumsum(0.01 * load)
            x[:, j] = (
                40
                + growth
                - np.maximum.accumulate(np.where(t % period == 0, growth, 0))
                + 0.3 * rng.standard_normal(n)
            )
        else:  # errors per step, mostly 0
            x[:, j] = rng.poisson(rng.uniform(0.05, 0.5) * load)
    plan = _plan(rng, d, plan_of)
    for seg, kind, causes in _faults(rng, plan, ("dropout", "pinned", "leak", "storm")):
        for c in causes:
            train = x[:N_TRAIN, c]
            if kind == "dropout":
                x[seg, c] = 0.0
            elif kind == "pinned":
                x[seg, c] = np.quantile(train, 0.995)
            elif kind == "leak":
                x[seg, c] += 3 * train.std() * np.linspace(0, 1, seg.stop - seg.start)
            else:
                level = np.median(x[seg.start - 50 : seg.start, c])
                x[seg, c] = np.maximum(level + 3 * (x[seg, c] - level), 0)
    return x, plan


_GENERATORS = {
    "factors": _factors,
    "regimes": _regimes,
    "seasonal": _seasonal,
    "lagged": _lagged,
    "servers": _servers,
}


def make_family(family: str, seed: int = 0, sensors: tuple[int, ...] = SENSORS) -> Dataset:
    """One entity per sensor count in ``sensors``, named ``<family>-<D>``."""
    known = (*FAMILIES, *LONG_FAMILIES, *LATER_FAMILIES)  # appended: earlier seeds unchanged
    if family not in known:
        raise ConfigError(f"family {family!r} is unknown; choose one of {', '.join(known)}")
    generator = _GENERATORS[family.removesuffix("-long")]
    plan_of = LONG_PLAN if family.endswith("-long") else SHORT_PLAN
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
