"""Thresholds fitted on scores of normal data only — never on test labels.

Every thresholder's ``fit`` takes one argument, the scores of training/validation data; there
is no way to hand it labels. Methods:

* ``max_validation`` — ``β · max(validation scores)`` (MSCRED; β = 1.5 in the authors' code);
* ``quantile`` — the ``q`` quantile of validation scores;
* ``pot`` — Peaks-Over-Threshold (Siffer et al., KDD 2017, as in OmniAnomaly): fit a generalised
  Pareto distribution to the excesses over the ``level`` quantile and return the score exceeded
  with probability ``risk``. With fewer than ``min_excesses`` excesses the GPD fit is meaningless,
  so it falls back to ``max(max(validation), -log10(risk))`` and says so: calibrated scores are
  surprises (``-log10`` of the validation tail probability, :mod:`mstad.models.calibration`), so
  ``-log10(risk)`` is the score a validation step exceeds with probability ``risk``.

* ``surprise`` — ``-log10(risk)`` itself, no fit: on the calibrated scale a score ``s`` is
  exceeded by a validation step with probability ``10^-s`` by construction (the calibration's
  empirical survival inside the validation range, its generalised-Pareto tail — fitted on the
  top 10 % of the raw validation scores, shape ≥ 0 — beyond it), so the score exceeded with
  probability ``risk`` is ``-log10(risk)``: 3 at the default risk, the same for every entity.
  ``pot`` re-estimates that tail from the top 2 % of the calibrated scores (about 11 of SMAP's
  570 validation steps) and lands lower, at 2.4–2.6 on most SMAP channels. Not the default:
  calibration round 31 kept ``pot`` (``benchmarks/results/calibration_log.md`` §32), where also
  the exception to "by construction" is measured — ``discord`` on several sensors, whose
  per-sensor calibration makes its validation maximum pile up (1.1–1.8 instead of ~2.8).

No method may return a threshold that every normal step exceeds: a value at or below the
validation median (e.g. ``β·max`` of all-zero scores, 0) is raised to the smallest validation
score above the median, else to the next float above it, and the note says so
(``thresholds.json``). A threshold is always finite.

* ``ndt`` — telemanom's non-parametric dynamic threshold (Hundman et al., KDD 2018): the
  ``mean + z·std`` of the scores that best separates a few high sequences from the rest, then
  its pruning of sequences whose peaks are within ``p`` of the next lower one
  (:class:`NDT`).

``spot`` streams POT over a score series (unsupervised online updates, no labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mstad.errors import ConfigError
from mstad.models.gpd import fit_gpd
from mstad.params import checked_init, spec


@dataclass(frozen=True)
class FittedThreshold:
    method: str
    value: float
    fitted_on: str
    n_scores: int
    note: str = ""


class Thresholder:
    name: ClassVar[str]
    #: ranges of the ``__init__`` parameters (:func:`mstad.params.spec`)
    param_specs: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every thresholder validates its parameters like a detector (:mod:`mstad.params`)."""
        super().__init_subclass__(**kwargs)
        checked_init(cls, "threshold")

    def fit(self, normal_scores: np.ndarray) -> float:
        raise NotImplementedError

    def fit_report(self, normal_scores: np.ndarray, fitted_on: str) -> FittedThreshold:
        scores = np.asarray(normal_scores, dtype=np.float64)
        value, note = float(self.fit(scores)), getattr(self, "note_", "")
        median = float(np.median(scores))
        if not value > median or not np.isfinite(value):
            above = scores[scores > median]
            raised = float(above.min()) if above.size else float(np.nextafter(median, np.inf))
            note = "; ".join(
                n for n in (note, f"{value:.4g} is not above the validation median: raised") if n
            )
            value = raised
        return FittedThreshold(self.name, value, fitted_on, int(scores.size), note)


class MaxValidation(Thresholder):
    name = "max_validation"
    param_specs = {"beta": spec(gt=0)}

    def __init__(self, beta: float = 1.5):
        self.beta = beta

    def fit(self, normal_scores: np.ndarray) -> float:
        return float(self.beta * np.max(normal_scores))


class Quantile(Thresholder):
    name = "quantile"
    param_specs = {"q": spec(gt=0, le=1)}

    def __init__(self, q: float = 0.99):
        self.q = q

    def fit(self, normal_scores: np.ndarray) -> float:
        return float(np.quantile(normal_scores, self.q))


def _gpd_quantile(excesses: np.ndarray, initial: float, risk: float, n_total: int) -> float:
    shape, scale = fit_gpd(excesses)
    ratio = risk * n_total / len(excesses)
    if abs(shape) < 1e-8:
        return float(initial - scale * math.log(ratio))
    return float(initial + scale / shape * (ratio ** (-shape) - 1))


class POT(Thresholder):
    name = "pot"
    param_specs = {"risk": spec(gt=0, lt=1), "level": spec(gt=0, lt=1), "min_excesses": spec(ge=1)}

    def __init__(self, risk: float = 1e-3, level: float = 0.98, min_excesses: int = 10):
        self.risk, self.level, self.min_excesses = risk, level, min_excesses

    def fit(self, normal_scores: np.ndarray) -> float:
        scores = np.asarray(normal_scores, dtype=np.float64)
        initial = float(np.quantile(scores, self.level))
        excesses = scores[scores > initial] - initial
        if len(excesses) < self.min_excesses:
            floor = -math.log10(self.risk)
            self.note_ = (
                f"{len(excesses)} excesses < {self.min_excesses}: used "
                f"max(max(scores), -log10(risk) = {floor:.3g})"
            )
            return max(float(scores.max()), floor)
        self.note_ = ""
        return max(_gpd_quantile(excesses, initial, self.risk, len(scores)), initial)


class Surprise(Thresholder):
    name = "surprise"
    param_specs = {"risk": spec(gt=0, lt=1)}

    def __init__(self, risk: float = 1e-3):
        self.risk = risk

    def fit(self, normal_scores: np.ndarray) -> float:
        self.note_ = f"-log10(risk = {self.risk:.3g}): validation tail probability {self.risk:.3g}"
        return -math.log10(self.risk)


def _buffered_runs(above: np.ndarray, buffer: int) -> list[tuple[int, int]]:
    """Inclusive (start, end) of the runs of ``above`` widened by ``buffer - 1`` steps each side
    (telemanom's ``error_buffer``), dropping runs of a single step as telemanom does."""
    index = np.flatnonzero(above)
    if index.size == 0:
        return []
    widen = max(buffer - 1, 0)
    mask = np.zeros(len(above) + 1, dtype=bool)
    for i in index:  # few steps are above any threshold worth considering
        mask[max(0, i - widen) : min(len(above), i + widen + 1)] = True
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask])))
    runs = list(zip(edges[0::2], edges[1::2] - 1, strict=True))
    return [(int(a), int(b)) for a, b in runs if b > a]


class NDT(Thresholder):
    """Telemanom's non-parametric dynamic threshold, fitted on validation scores.

    After khundman/telemanom ``errors.py`` (``find_epsilon``, ``prune_anoms``): for ``z`` in
    2.5, 3, … < ``z_max``, ``ε = mean + z·std`` of the scores; it is scored by the relative drop
    of the mean and std when the scores above ``ε`` are removed, divided by
    ``sequences² + flagged steps`` (steps within ``error_buffer`` of a score above ``ε``), among
    choices flagging at most 5 sequences and under half the steps; the best ``ε`` wins (``z_max``
    when none qualifies). Pruning: the flagged sequences' peaks, in decreasing order and followed
    by the highest unflagged score, are walked; a peak less than ``p`` (13 %) above the next one
    is dropped unless a larger gap follows — the threshold is raised above every dropped peak.

    Departure: telemanom fits ε again on a sliding window of the *test* errors; here, as every
    thresholder, it is fitted once on the calibrated validation scores (normal data only) and
    applied unchanged.
    """

    name = "ndt"
    param_specs = {"error_buffer": spec(ge=1), "p": spec(gt=0, lt=1), "z_max": spec(gt=2.5)}

    def __init__(self, error_buffer: int = 100, p: float = 0.13, z_max: float = 12.0):
        self.error_buffer, self.p, self.z_max = error_buffer, p, z_max

    def epsilon(self, scores: np.ndarray) -> float:
        mean, sd = float(scores.mean()), float(scores.std())
        best_z, best = self.z_max, 0.0
        for z in np.arange(2.5, self.z_max, 0.5):
            eps = mean + z * sd
            below = scores[scores < eps]
            runs = _buffered_runs(scores > eps, self.error_buffer)
            if not runs or below.size == 0:
                continue
            flagged = sum(b - a + 1 for a, b in runs)
            gain = (mean - below.mean()) / mean + (sd - below.std()) / sd
            value = gain / (len(runs) ** 2 + flagged)
            if value >= best and len(runs) <= 5 and flagged < 0.5 * len(scores):
                best_z, best = float(z), value
        return mean + best_z * sd

    def fit(self, normal_scores: np.ndarray) -> float:
        scores = np.asarray(normal_scores, dtype=np.float64)
        if not (scores.mean() > 0 and scores.std() > 0):
            self.note_ = "validation scores are constant or not positive: no NDT fit"
            return float(scores.max())
        eps = self.epsilon(scores)
        runs = _buffered_runs(scores > eps, self.error_buffer)
        peaks = sorted((float(scores[a : b + 1].max()) for a, b in runs), reverse=True)
        flagged = np.zeros(len(scores), dtype=bool)
        for a, b in runs:
            flagged[a : b + 1] = True
        rest = scores[~flagged]
        walk = peaks + ([float(rest.max())] if rest.size and rest.max() > 0 else [])
        dropped: list[float] = []
        for i in range(len(peaks)):
            if i + 1 < len(walk) and (walk[i] - walk[i + 1]) / walk[i] < self.p:
                dropped.append(walk[i])
            else:
                dropped = []
        self.note_ = f"epsilon {eps:.4g}; {len(peaks)} validation sequences, {len(dropped)} pruned"
        return max([eps, *dropped])


THRESHOLDERS: dict[str, type[Thresholder]] = {
    cls.name: cls for cls in (MaxValidation, Quantile, POT, Surprise, NDT)
}


#: share of scored steps above the threshold past which the data, not events, are the news
MOST_STEPS = 0.5


def alarm_share_warning(what: str, scores: np.ndarray, threshold: float) -> str | None:
    """The one line a user gets when ``what``'s scores are above its threshold on more than
    :data:`MOST_STEPS` of the steps (else None): anomalies are the exception by definition, so
    an alarm on most of a series says that the series sits away from everything its training
    data showed — one "event" as long as the data, which no operator can act on (SMAP's T-3,
    D-5 and P-3 alarm on every test step, calibration log §32)."""
    share = float(np.mean(np.asarray(scores) > threshold)) if len(scores) else 0.0
    if share <= MOST_STEPS:
        return None
    return (
        f"{what}: {share:.0%} of its scored steps are above the alarm threshold "
        f"({threshold:.2f}): the data sit away from everything in training (a new operating "
        "level, a changed sensor, or training data that miss part of normal operation); if "
        "this is normal behaviour, refit on data that include it"
    )


def make_thresholder(method: str, **params: Any) -> Thresholder:
    if method not in THRESHOLDERS:
        raise ConfigError(
            f"threshold method {method!r} is unknown; choose one of {', '.join(THRESHOLDERS)}"
        )
    return THRESHOLDERS[method](**params)  # parameters validated on construction


def spot(
    normal_scores: np.ndarray, stream: np.ndarray, risk: float = 1e-3, level: float = 0.98
) -> np.ndarray:
    """Streaming POT: one threshold per step of ``stream``, updated with each new excess that is
    not itself an alarm. Initialised on ``normal_scores``; reads no labels."""
    scores = np.asarray(normal_scores, dtype=np.float64)
    initial = float(np.quantile(scores, level))
    excesses = list(scores[scores > initial] - initial)
    n_seen = len(scores)
    threshold = _gpd_quantile(np.array(excesses), initial, risk, n_seen)
    out = np.empty(len(stream))
    for t, value in enumerate(np.asarray(stream, dtype=np.float64)):
        out[t] = threshold
        if value > threshold:
            continue  # an alarm: not used to update the model of normal behaviour
        n_seen += 1
        if value > initial:
            excesses.append(value - initial)
            threshold = _gpd_quantile(np.array(excesses), initial, risk, n_seen)
    return out
