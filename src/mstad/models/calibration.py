"""Per-entity score calibration: a bounded *surprise* with one meaning everywhere.

Raw scores of different detectors and entities live on different scales, so pooled metrics,
shared thresholds and rankings of entities need one common unit. Every detector maps its raw
score ``x`` through the distribution of its raw scores on held-out **normal** data (the
validation tail of the training split, or the training data itself when it is too short to
split; test data and labels are never involved):

    surprise(x) = -log10 P_val(S >= x)

the number of decades by which ``x`` is improbable under validation behaviour: 0 at the bottom,
1 at the validation 90th percentile, 2 at the 99th, 3 for "one validation step in a thousand".

* **Inside the validation range**: the empirical survival function of the validation scores
  (mid-ranks, so ties such as a flat validation series are handled; each score known only to
  a tenth of the floor below, so near-flat scores are not over-resolved), interpolated in
  ``log p`` between validation scores at evenly spaced ranks (body) and at 8 survival levels per
  decade (tail), at most :data:`KNOTS`. Below the lowest validation score the surprise decays
  smoothly to 0, so the map stays strictly increasing.
* **Beyond the validation maximum**: a generalised Pareto distribution fitted to the excesses
  over the validation ``1 - TAIL_FRACTION`` quantile ``u``, as Peaks-Over-Threshold does
  (Siffer et al., KDD 2017), conditioned on reaching the maximum. The shape is clipped to
  ``[0, MAX_SHAPE]``: a lighter-than-exponential tail cannot be told from a bounded one with a
  few hundred excesses, and a bounded fit would end the scale at a finite end point — past it
  every score would tie. With fewer than :data:`MIN_EXCESSES` excesses (short or flat
  validation tails) the tail is exponential with the validation standard deviation as scale.
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
  10⁻³⁰⁰ and beyond. No calibrated score is ever above ``CAP``; only a raw score of +inf
  (an overflow inside a detector) reaches it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from mstad.errors import reason
from mstad.models.gpd import fit_gpd

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
#: validation scores are known to this fraction of the floor (see ``_log_survival_at``): fine
#: enough not to blur a body spread over a few floors, coarse enough for near-flat scores
RESOLUTION = 0.1
#: most knots of the empirical survival (33 in the body, 8 per decade in the tail, the max)
KNOTS = 96
_LN10 = math.log(10.0)
#: tail-scale floor for scores that are surprises already (ensembles, discord's per-sensor max):
#: one decade more in gives at most one decade more out — a calibration never stretches them
SURPRISE_FLOOR = 1.0 / _LN10


def in_sample_warning(what: str, n_steps: int) -> str:
    """The one line a user gets when ``what`` (an entity, a file) had ``n_steps`` training steps,
    too few to hold out a validation tail: the calibration (``fitted_on="train"``) and threshold
    then come from data the detector was fitted on, which it matches better than anything new (a
    nearest-window detector matches it exactly), so new data look more surprising than they are."""
    return (
        f"{what}: {n_steps:,} training steps are too few to hold out a validation tail; scores "
        "and threshold are calibrated on the training data itself and overstate surprise "
        "(alarms too often): record more normal data"
    )


def bounded(surprise: np.ndarray) -> np.ndarray:
    """The reported scale: ``surprise`` itself up to :data:`KNEE`, then bending below CAP."""
    s = np.asarray(surprise, dtype=np.float64)
    if s.size and s.max() <= KNEE:  # the common case, and a stream's few values at a time
        return s if s is not surprise else s.copy()
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


def _log_survival_at(sorted_scores: np.ndarray, at: np.ndarray, resolution: float) -> np.ndarray:
    """``log P(S >= x)`` of the validation scores, each known only to ``resolution``.

    A validation score ``v`` counts 1 for ``x < v`` and ``0.5·exp(-(x - v) / resolution)`` for
    ``x >= v`` (mid-rank at a tie, then fading over one resolution), plus a +0.5 continuity
    correction: ``(Σ + 0.5) / (n + 1)``. Where the scores are spread far wider than the
    resolution this is the empirical mid-rank survival; where they are (near) flat — a
    validation tail that repeats training — a score within the resolution of them is not
    surprising at all, rather than as surprising as the validation maximum.
    """
    v, n = sorted_scores, len(sorted_scores)
    below_or_at = np.searchsorted(v, at, side="right")
    z = (v - v[0]) / resolution
    log_cum = np.logaddexp.accumulate(z)  # log Σ_{i<=j} exp(z_i)
    fade = np.zeros(len(at))
    some = below_or_at > 0
    idx = below_or_at[some] - 1
    fade[some] = 0.5 * np.exp(log_cum[idx] - (at[some] - v[0]) / resolution)
    return np.log((n - below_or_at + fade + 0.5) / (n + 1.0))


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
    tail_threshold: float = 0.0  # ``u``: where the GPD's excesses start (raw units)
    unit: str = field(default="surprise: -log10 P_val(S >= x), bounded below 10")

    def __post_init__(self) -> None:
        """A calibration read from disk is checked like one fitted: a scale of 0 or a NaN knot
        would turn every score into inf or NaN."""
        kx, ks = np.asarray(self.knots_x, float), np.asarray(self.knots_log_sf, float)
        numbers = (self.tail_shape, self.tail_scale, self.floor, self.tail_threshold)
        problems = [
            (kx.size == 0 or kx.size != ks.size, "knots_x and knots_log_sf need equal lengths"),
            (not (np.isfinite(kx).all() and np.isfinite(ks).all()), "knots must be finite"),
            (bool((np.diff(kx) < 0).any()), "knots_x must increase"),
            (bool((ks > 0).any() or (np.diff(ks) > 1e-12).any()), "knots_log_sf must fall"),
            (not all(math.isfinite(v) for v in numbers), "tail values must be finite"),
            (not self.tail_scale > 0 or not self.floor > 0, "tail_scale and floor must be > 0"),
            (not 0 <= self.tail_shape <= MAX_SHAPE, f"tail_shape must lie in [0, {MAX_SHAPE}]"),
            (type(self.n_scores) is not int or self.n_scores < 1, "n_scores must be >= 1"),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(message)

    @classmethod
    def fit(
        cls,
        scores: np.ndarray,
        fitted_on: str,
        min_scale: float = 0.0,
        resolution: float | None = None,
    ) -> Calibration:
        """Fit on raw scores of normal data. ``min_scale`` floors the tail scale, in raw units
        (a detector whose held-out scores can all be equal declares one from its data);
        ``resolution`` is how finely validation scores are told apart (default
        ``RESOLUTION·floor``; a detector whose raw unit has a measurement resolution of its
        own, such as distances in training standard deviations, passes it)."""
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
            shape, scale = fit_gpd(excesses)
            shape = float(np.clip(shape, 0.0, MAX_SHAPE))
            if shape == 0.0:  # the exponential's maximum-likelihood scale
                scale = float(excesses.mean())
        else:
            u, shape, scale = float(v[-1]), 0.0, float(v.std())
            notes.append(f"{excesses.size} tail excesses < {MIN_EXCESSES}: exponential tail")
        if not scale > floor:
            notes.append(f"tail scale {scale:.3g} floored at {floor:.3g}")
            scale = floor
        # knots: evenly spaced ranks in the body, geometrically spaced survival in the tail
        tail_sf = TAIL_FRACTION * 10.0 ** (-np.arange(1, 8 * 12) / 8)
        levels = np.concatenate(
            [np.linspace(0, 1 - TAIL_FRACTION, 33), 1 - tail_sf[tail_sf >= 1 / n], [1.0]]
        )
        knots = np.unique(v[np.round(levels * (n - 1)).astype(int)])
        if knots.size > KNOTS:  # more decades than the array holds: keep the top ones
            knots = np.concatenate([knots[: KNOTS // 3], knots[-(KNOTS - KNOTS // 3) :]])
        resolution = RESOLUTION * floor if resolution is None else max(resolution, 1e-300)
        log_sf = np.minimum.accumulate(_log_survival_at(v, knots, resolution))
        return cls(
            fitted_on,
            int(n),
            tuple(float(k) for k in knots),
            tuple(float(s) for s in log_sf),
            float(shape),
            float(scale),
            float(floor),
            "; ".join(notes),
            float(u),
        )

    def log_survival(self, raw: np.ndarray) -> np.ndarray:
        """Natural log of the validation survival probability of each raw score: the
        empirical survival up to the validation maximum, the fitted tail (conditioned on
        reaching the maximum) above it."""
        x = np.asarray(raw, dtype=np.float64)
        kx, ks = self._knots
        out = np.interp(x, kx, ks)
        body_scale = max(kx[-1] - kx[0], self.tail_scale)
        below = x < kx[0]
        out[below] = ks[0] * np.exp((x[below] - kx[0]) / body_scale)
        above = x > kx[-1]
        xi, sigma, u = self.tail_shape, self.tail_scale, self.tail_threshold
        if xi > 0:
            gap = np.log1p(xi * (x[above] - u) / sigma) - np.log1p(xi * (kx[-1] - u) / sigma)
            tail = -gap / xi
        else:
            tail = -(x[above] - kx[-1]) / sigma
        out[above] = ks[-1] + tail
        return out

    @cached_property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        """The knots as arrays, made once (a stream applies a calibration to every row)."""
        return np.asarray(self.knots_x), np.asarray(self.knots_log_sf)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated (bounded surprise) score of each raw score, in ``[0, CAP)``."""
        return bounded(-self.log_survival(raw) / _LN10)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_array(self) -> np.ndarray:
        """Fixed-length float array (``5 + 2·KNOTS``, NaN-padded), for ``.npz`` state files."""
        pad = np.full(KNOTS - len(self.knots_x), np.nan)
        head = [self.n_scores, self.tail_shape, self.tail_scale, self.floor, self.tail_threshold]
        return np.concatenate([head, self.knots_x, pad, self.knots_log_sf, pad])

    @classmethod
    def from_array(cls, array: np.ndarray, fitted_on: str = "validation") -> Calibration:
        a = np.asarray(array, dtype=np.float64)
        knots = a[5:].reshape(2, -1)
        keep = ~np.isnan(knots[0])
        return cls(
            fitted_on,
            int(a[0]),
            tuple(knots[0][keep].tolist()),
            tuple(knots[1][keep].tolist()),
            float(a[1]),
            float(a[2]),
            float(a[3]),
            tail_threshold=float(a[4]),
        )

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """From :meth:`to_dict`; a missing, unknown or invalid field is a ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping, got {type(data).__name__}")
        data = dict(data)
        try:
            for key in ("knots_x", "knots_log_sf"):
                data[key] = tuple(float(v) for v in data[key])
            for key in ("tail_shape", "tail_scale", "floor", "tail_threshold"):
                if key in data:
                    data[key] = float(data[key])
            return cls(**data)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"missing or unknown field ({reason(exc)})") from None


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
