"""Per-entity score calibration: a bounded *surprise* with one meaning everywhere.

Raw scores of different detectors and entities live on different scales, so pooled metrics,
shared thresholds and rankings of entities need one common unit. Every detector maps its raw
score ``x`` through the distribution of its raw scores on held-out **normal** data (the
validation tail of the training split, or the training data itself when it is too short to
split; test data and labels are never involved):

    surprise(x) = -log10 P_val(S >= x)

the number of decades by which ``x`` is improbable under validation behaviour: 0 at the bottom,
1 at the validation 90th percentile, 2 at the 99th, 3 for "one validation step in a thousand".

* **Body**: the empirical survival function of the validation scores (mid-ranks, so ties such
  as a flat validation series are handled), interpolated linearly in ``log p`` between up to
  :data:`KNOTS` knots. Below the lowest validation score the surprise decays smoothly to 0, so
  the map stays strictly increasing.
* **Tail** (above the validation ``1 - TAIL_FRACTION`` quantile ``u``): a generalised Pareto
  distribution fitted to the excesses over ``u``, as Peaks-Over-Threshold does (Siffer et al.,
  KDD 2017). The shape is clipped to ``[0, MAX_SHAPE]``: a lighter-than-exponential tail cannot
  be told from a bounded one with a few hundred excesses, and a bounded fit would end the scale
  at a finite end point — past it every score would tie. With fewer than
  :data:`MIN_EXCESSES` excesses (short or flat validation tails) the tail is exponential from
  the validation maximum with the validation standard deviation as its scale.
* **Degenerate cases**: the tail scale is floored at ``max(min_scale, 1e-6·max(|median|,
  1e-6))`` — ``min_scale`` is the detector's own floor in raw units, set from training data
  (e.g. 0.1 training standard deviations for ``discord``). A flat validation series therefore
  gets a tail of that scale from its one value: any departure from a constant becomes large
  surprise, but on the same bounded scale as everything else. The floor used is recorded.
* **Bounded**: surprise is reported exactly up to :data:`KNEE` (p = 10⁻⁶) and above it bends
  smoothly towards :data:`CAP` = 10 without reaching it (``KNEE + (CAP - KNEE)·g(r)``,
  ``g(r) = log1p(r) / (1 + log1p(r))``, ``r = (s - KNEE) / (CAP - KNEE)``): the same increasing
  function for every entity, so the order of all scores — inside an entity and pooled across
  entities — is that of ``-log10 p`` itself, and float64 still tells apart p-values down to
  10⁻³⁰⁰ and beyond. No calibrated score is ever above ``CAP``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.stats import genpareto

#: surprise is exact up to here (decades: p = 1e-6) ...
KNEE = 6.0
#: ... and bends towards this bound above it; no calibrated score reaches it
CAP = 10.0
#: fraction of the validation scores above the tail threshold ``u``
TAIL_FRACTION = 0.1
#: fewer excesses than this: exponential tail from the validation maximum
MIN_EXCESSES = 10
#: largest GPD shape kept (heavier tails are clipped to it)
MAX_SHAPE = 0.5
#: knots of the empirical body (evenly spaced validation quantiles up to ``u``)
KNOTS = 65
_LN10 = math.log(10.0)
#: tail-scale floor for scores that are surprises already (ensembles, discord's per-sensor max):
#: one decade more in gives at most one decade more out — a calibration never stretches them
SURPRISE_FLOOR = 1.0 / _LN10


def bounded(surprise: np.ndarray) -> np.ndarray:
    """The reported scale: ``surprise`` itself up to :data:`KNEE`, then bending below :data:`CAP`."""
    s = np.asarray(surprise, dtype=np.float64)
    r = np.maximum(s - KNEE, 0.0) / (CAP - KNEE)
    with np.errstate(invalid="ignore"):
        g = np.log1p(r) / (1.0 + np.log1p(r))
    g = np.where(np.isposinf(r), 1.0, g)
    return np.where(s <= KNEE, s, KNEE + (CAP - KNEE) * g)


def unbounded(calibrated: np.ndarray) -> np.ndarray:
    """Inverse of :func:`bounded`: ``-log10 p`` from a calibrated score (``inf`` at ``CAP``)."""
    b = np.asarray(calibrated, dtype=np.float64)
    g = np.clip((b - KNEE) / (CAP - KNEE), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        r = np.expm1(g / (1.0 - g))
    return np.where(b <= KNEE, b, KNEE + (CAP - KNEE) * r)


def _mid_rank_log_survival(sorted_scores: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``log P(S >= x)`` with mid-ranks for ties and a +0.5 continuity correction."""
    n = len(sorted_scores)
    above = n - np.searchsorted(sorted_scores, at, side="right")
    ties = np.searchsorted(sorted_scores, at, side="right") - np.searchsorted(
        sorted_scores, at, side="left"
    )
    return np.log((above + 0.5 * ties + 0.5) / (n + 1.0))


@dataclass(frozen=True)
class Calibration:
    """What :meth:`fit` learnt from validation scores; :meth:`apply` maps raw → surprise."""

    fitted_on: str  # "validation" or "train"
    n_scores: int
    knots_x: tuple[float, ...]  # body knots (raw units), increasing; the last is ``u``
    knots_log_sf: tuple[float, ...]  # natural log of the survival at each knot
    tail_shape: float  # GPD shape (0 = exponential)
    tail_scale: float  # GPD scale, raw units, >= floor
    floor: float  # smallest tail scale allowed (raw units)
    note: str = ""
    unit: str = field(default="surprise: -log10 P_val(S >= x), bounded below 10")

    @classmethod
    def fit(cls, scores: np.ndarray, fitted_on: str, min_scale: float = 0.0) -> Calibration:
        """Fit on raw scores of normal data. ``min_scale`` floors the tail scale, in raw units
        (a detector whose held-out scores can all be equal declares one from its data)."""
        v = np.sort(np.asarray(scores, dtype=np.float64).ravel())
        if v.size == 0 or not np.isfinite(v).all():
            raise ValueError("calibration needs finite validation scores")
        n = v.size
        median = float(np.median(v))
        floor = max(float(min_scale), 1e-6 * max(abs(median), 1e-6))
        u = float(np.quantile(v, 1.0 - TAIL_FRACTION))
        excesses = v[v > u] - u
        notes = []
        if excesses.size >= MIN_EXCESSES:
            shape, _, scale = genpareto.fit(excesses, floc=0.0)
            shape = float(np.clip(shape, 0.0, MAX_SHAPE))
            if shape == 0.0:  # the exponential's maximum-likelihood scale
                scale = float(excesses.mean())
        else:
            u, shape, scale = float(v[-1]), 0.0, float(v.std())
            notes.append(f"{excesses.size} tail excesses < {MIN_EXCESSES}: exponential tail")
        if not scale > floor:
            notes.append(f"tail scale {scale:.3g} floored at {floor:.3g}")
            scale = floor
        body = v[v <= u]
        knots = np.unique(body[np.linspace(0, body.size - 1, KNOTS).round().astype(int)])
        if knots[-1] < u:
            knots = np.append(knots, u)
        log_sf = _mid_rank_log_survival(v, knots)
        log_sf = np.minimum.accumulate(log_sf)  # survival never rises with x
        return cls(
            fitted_on,
            int(n),
            tuple(float(k) for k in knots),
            tuple(float(s) for s in log_sf),
            float(shape),
            float(scale),
            float(floor),
            "; ".join(notes),
        )

    def log_survival(self, raw: np.ndarray) -> np.ndarray:
        """Natural log of the validation survival probability of each raw score."""
        x = np.asarray(raw, dtype=np.float64)
        kx, ks = np.asarray(self.knots_x), np.asarray(self.knots_log_sf)
        out = np.interp(x, kx, ks)
        body_scale = max(kx[-1] - kx[0], self.tail_scale)
        below = x < kx[0]
        out[below] = ks[0] * np.exp((x[below] - kx[0]) / body_scale)
        above = x > kx[-1]
        z = (x[above] - kx[-1]) / self.tail_scale
        if self.tail_shape > 0:
            tail = -np.log1p(self.tail_shape * z) / self.tail_shape
        else:
            tail = -z
        out[above] = ks[-1] + tail
        return out

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated (bounded surprise) score of each raw score, in ``[0, CAP)``."""
        return bounded(-self.log_survival(raw) / _LN10)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_array(self) -> np.ndarray:
        """Fixed-length float array (``4 + 2·(KNOTS + 1)``, NaN-padded), for ``.npz`` state."""
        pad = np.full(KNOTS + 1 - len(self.knots_x), np.nan)
        head = [self.n_scores, self.tail_shape, self.tail_scale, self.floor]
        return np.concatenate([head, self.knots_x, pad, self.knots_log_sf, pad])

    @classmethod
    def from_array(cls, array: np.ndarray, fitted_on: str = "validation") -> Calibration:
        a = np.asarray(array, dtype=np.float64)
        knots = a[4:].reshape(2, -1)
        keep = ~np.isnan(knots[0])
        return cls(
            fitted_on,
            int(a[0]),
            tuple(knots[0][keep].tolist()),
            tuple(knots[1][keep].tolist()),
            float(a[1]),
            float(a[2]),
            float(a[3]),
        )

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        data = dict(data)
        for key in ("knots_x", "knots_log_sf"):
            data[key] = tuple(float(v) for v in data[key])
        return cls(**data)


#: the values a detector's ``baseline`` parameter may take
BASELINES = ("none", "past_median")


def past_median_removed(scores: np.ndarray, block: int = 100) -> np.ndarray:
    """Scores minus the median of all scores before their block of ``block`` steps (0 for the
    first block): a causal baseline, as an online monitor would keep."""
    out = np.array(scores, dtype=np.float64)
    for lo in range(block, len(out), block):
        out[lo : lo + block] -= np.median(scores[:lo])
    return out


def remove_baseline(scores: np.ndarray, baseline: str) -> np.ndarray:
    """Apply a detector's ``baseline`` (one of :data:`BASELINES`) to its raw scores."""
    return past_median_removed(scores) if baseline == "past_median" else scores
