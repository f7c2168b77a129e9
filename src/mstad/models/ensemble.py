"""An ensemble of complementary detectors on calibrated scores, weighed by what they can see.

Every member is fitted as usual — and so calibrated on the validation tail of the training
split, in the common surprise unit of :mod:`mstad.models.calibration` — and the members'
calibrated scores are combined per step (``mean``: members must agree; ``max``: any member
that finds the step unusual raises it). Shape detectors (``discord``) and correlation detectors
(``pca``) fail on different anomalies, which is why they are combined; but a member that sees
nothing in an entity only adds noise (PCA on a single telemetry channel, or on independent
sensors). So with ``weighting="injected"`` each member is first judged on the entity's *own
normal data*: a copy fitted on the training head scores ``copies`` versions of the validation
tail, each with anomalies of the common kinds injected into its sensors
(:data:`mstad.data.inject.MULTI_KINDS`, correlation breaks included; seeded by the data, so a
fit repeats), and

* ``selection="close"`` keeps the members whose AUROC there is within ``margin`` of the best
  member's, combined with equal weight (a member clearly worse is dropped);
* ``selection="weighted"`` weighs every member by ``max(AUROC - 0.5, 0) ** power`` (equal
  weights when none is above chance; the default since round 19; ``power=2`` since rounds 21–22 —
  a larger ``power`` leans harder on the member the injected copies rank better);
* ``selection="subset"`` scores every combination of the members (each alone, each pair, …,
  all; equal weights, combined as the ensemble combines) on the same injected copies and keeps
  the one that ranks them best — a pair whose members see different anomalies can beat both
  members alone, which ``close`` cannot see (a tie keeps the larger combination);
* ``selection="expected"`` weighs as ``weighted`` by the *expected* ``max(g, 0) ** power``
  with ``g`` the AUROC − 0.5 measured with the judge's standard error (:func:`judge_spread`):
  judges near chance give near-equal weights, not ratios of noise. Round 25 lost 0.002–0.007
  on six sets against ``weighted`` and tied on the rest (calibration_log §24): an option.

With ``weighting="structure"`` no injection is made: a correlation model (``pca``) joins
only where the training data have correlation structure (95 % of their standardised variance
in at most half as many components as sensors) — on independent sensors, or a single one, its
residual is noise.

Injected labels are synthetic and come from training data only: no test label is involved.
``weighting="none"`` combines all members equally. Command-flag sensors are dropped first
(``inputs="continuous"``, see :mod:`mstad.features.columns`), so every member sees the same
columns. The weights and the AUROCs behind them are kept (``weights_``, ``member_auroc_``).

``--model best`` is this ensemble at its defaults: ``discord`` and ``pca``; ``pca`` gated by the
structure test, and where it passes, both members judged on injected validation anomalies
(``weighting="structure+injected"``, round 17) and weighed by the square of their injected
AUROC − 0.5 (``selection="weighted"``, round 19: on sixteen sets, four of them families no
earlier round had seen, worst shortfall 0.014 against 0.023 for dropping a member more than
``margin`` below the other; ``power=2``, rounds 21–22: on round 22's seventeen sets worst
shortfall 0.023 against 0.020 for the first power — a tie, won on the objective), combined by
the weighted **mean** (round 16: the mean keeps ``discord``'s false alarms on coupled sensors
at half strength); ``benchmarks/results/calibration_log.md`` §14–§18, §20–§21. Where ``pca``
is gated out, nothing is judged: ``discord`` alone. Since round 34 that combination is averaged
with the shape view (``shape_view``, below).

``discord_reference`` is the ``reference`` its ``discord`` member is made with: ``"both"`` by
default (round 15, and again round 22: train-only and train+past distances, their surprises
averaged — a long anomaly keeps half its alarm; round 21's ``"train"`` lost 0.093 on SMAP
holdouts whose telemetry moves to an operating level of its own;
``benchmarks/results/calibration_log.md`` §13, §20, §21).

``discord_scales`` is the ``scales`` rule of the ``discord`` member: ``"distance"`` by default;
``"surprise"`` (each window length calibrated on its own) won round 27's ``best`` group and tied
round 28 on fresh draws — ahead on cyclic server metrics and drift, behind where the longest
window sees the anomaly — so it is an option (``benchmarks/results/calibration_log.md`` §27–§28).

``judge_span`` is the range of lengths of the judge's injected anomalies (10–99 steps by
default, each capped by the room the validation tail has): a judge that plants only short
anomalies favours the member that finds short ones, where test anomalies may last hundreds of
steps; round 30 kept 10–99 against 10–399: the longer judge lost the servers families
(``benchmarks/results/calibration_log.md`` §30–§31).

``shape_view`` (on by default since round 34) averages the members' combination — in its own
calibrated unit — with the ``shape`` detector's score (:mod:`mstad.models.shape`: how unlike
any training window of its own sensor each window's z-normalised shape is, the largest
sensor's), and the entity's calibration then applies to that average. Every member compares
raw windows, so a series that settles at a level training never showed stays far from every
training window; the shape view does not, and sees a changed shape that keeps its level. Round
34 (two fresh draws of eighteen label-free sets, the view built as it is here): worst
shortfall in entity AUROC 0.036 (seasonal: amplitude anomalies, which z-normalisation removes)
against 0.156 without it (regime changes over long series); gains on the drift set +0.095,
regimes +0.083 / +0.156, the SMAP holdouts +0.044 / +0.043, correlation breaks +0.010 /
+0.066; losses seasonal −0.037, the plant's batches −0.016, long lagged couplings −0.011, the
plant −0.006 (``benchmarks/results/calibration_log.md`` §33–§35). ``-p shape_view=false``
restores the ensemble before it. ``shape_steps`` is the view's step rule (the shape detector's
``steps``): the mean of a step's covering windows since round 40 (§42: three fresh draws of
nineteen sets, the made-up MSL among them; worst shortfall 0.018 against 0.051 for round 39's
midpoint, ``-p shape_steps=mid``); ``-p shape_steps=max`` restores rounds 34–38's largest.

``smoothing`` is the span of a causal EWMA of the combined score and of its explanation
(:mod:`mstad.models.smoothing`), applied to validation and test alike before the entity's
calibration, so the reported unit stays the surprise of the smoothed score. Off (0) by default:
span 10 won selection round 11 on entity AUROC but narrows the validation scores so much that
a new plant batch alarms on every step (``benchmarks/results/calibration_log.md`` §9).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from mstad.data.inject import MULTI_KINDS, inject, sensor_spreads
from mstad.data.labels import intervals_to_labels
from mstad.errors import ConfigError, MstadError
from mstad.features.columns import INPUTS, input_columns
from mstad.features.structure import shares_structure
from mstad.models.base import Detector
from mstad.models.calibration import SURPRISE_FLOOR, Calibration
from mstad.models.discord import REFERENCES, SCALE_RULES
from mstad.models.registry import detector_class, make_detector, register
from mstad.models.shape import STEP_RULES, ShapeDetector
from mstad.models.smoothing import smoothed
from mstad.params import SEED_SPEC, spec

#: how judged members are weighed (see the module docstring)
SELECTIONS = ("close", "weighted", "subset", "expected")
#: injected anomalies per 1,000 validation steps (at least :data:`MIN_INJECTED`)
INJECTED_PER_1000 = 4.0
#: what the ensemble tells its members is a flag: nothing — it has chosen the columns (declared
#: or guessed flags left out under ``inputs="continuous"``, every column under ``"all"``)
MEMBER_FLAGS: tuple[int, ...] = ()
MIN_INJECTED = 3
#: lengths (steps, from inclusive, to exclusive) of the judge's injected anomalies by default
JUDGE_SPAN = (10, 100)


def injected_validation(
    head: np.ndarray, tail: np.ndarray, seed: int, span: tuple[int, int] = JUDGE_SPAN
) -> tuple[np.ndarray, np.ndarray] | None:
    """``tail`` with anomalies injected into its sensors (sizes from ``head``, lengths drawn
    from ``span`` and capped by the tail's room), and the labels; None when the tail is too
    short to hold them (or anomalies as short as ``span``'s shortest)."""
    n = max(MIN_INJECTED, int(round(len(tail) * INJECTED_PER_1000 / 1000)))
    if len(tail) // n < max(40, span[0] + 10):
        return None
    kinds = MULTI_KINDS if tail.shape[1] > 1 else MULTI_KINDS[:-1]
    series, intervals = inject(
        tail, range(tail.shape[1]), n, seed, sensor_spreads(head), kinds, span=tuple(span)
    )
    return series, intervals_to_labels(intervals, len(tail))


def judge_spread(labels: np.ndarray) -> float:
    """Standard error of an AUROC on injected ``labels`` when the scores carry no signal
    (Hanley & McNeil 1982: ``sqrt((n1 + n0 + 1) / (12 n1 n0))``), counted in anomalies rather
    than steps — the steps of one anomaly, and of a stretch of normal data that long, move
    together: ``n1`` injected anomalies, ``n0`` normal steps over their mean length."""
    runs = np.flatnonzero(np.diff(np.concatenate([[0], labels.astype(np.int8)])) == 1)
    n1 = max(len(runs), 1)
    length = max(labels.sum() / n1, 1.0)
    n0 = max((~labels.astype(bool)).sum() / length, 1.0)
    return float(np.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))


def expected_gain(gain: np.ndarray, spread: float, power: float) -> np.ndarray:
    """``E[max(g, 0) ** power]`` for ``g ~ N(gain, spread²)``: a member's weight when its
    injected AUROC − 0.5 is measured with that error. Near-random judges (both members within
    an error of 0.5) get near-equal weights instead of weights that are ratios of noise; a
    clear gap keeps its lead."""
    from scipy.stats import norm

    return np.array(
        [
            norm.expect(lambda g: g**power, loc=mu, scale=spread, lb=0.0)
            if spread > 0
            else max(mu, 0.0) ** power
            for mu in np.asarray(gain, dtype=np.float64)
        ]
    )


def _shares(parts: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per-sensor contributions ``parts [T, D]`` (negatives as 0) rescaled so each step's row
    sums to ``score``; rows with nothing to share stay 0."""
    parts = np.maximum(parts, 0.0)
    total = parts.sum(axis=1, keepdims=True)
    shares = np.divide(parts, total, out=np.zeros_like(parts), where=total > 0)
    return shares * np.asarray(score)[:, None]


def combine_scores(
    weights: np.ndarray, scores: Sequence[np.ndarray | None], combine: str
) -> np.ndarray:
    """Weighted mean (or max) of members' calibrated scores; members of weight 0 are left out
    (their entry may be None)."""
    used = [(w, s) for w, s in zip(weights, scores, strict=True) if w > 0]
    if combine == "max":
        return np.max([s for _, s in used], axis=0)
    return sum(w * s for w, s in used)


@register
class EnsembleDetector(Detector):
    name = "ensemble"
    supports_explain = True
    #: _explain's rows sum to the raw score: the members' and the view's surprises combined
    explain_unit = "share of the step's combined surprise (decades)"
    score_floor = SURPRISE_FLOOR  # members' scores are surprises already: never stretch them

    param_specs = {
        "members": spec(min_length=1),
        "combine": spec(choices=("max", "mean")),
        "inputs": spec(choices=INPUTS),
        "weighting": spec(choices=("injected", "structure", "structure+injected", "none")),
        "selection": spec(choices=SELECTIONS),
        "margin": spec(ge=0, le=0.5),
        "power": spec(gt=0, le=10),
        "copies": spec(ge=1),
        "smoothing": spec(ge=0),
        "discord_reference": spec(choices=REFERENCES),
        "discord_scales": spec(choices=SCALE_RULES),
        "judge_span": spec(min_length=2, max_length=2, item_ge=1),
        "shape_view": spec(choices=(False, True)),
        "shape_steps": spec(choices=STEP_RULES),
        "seed": SEED_SPEC,
    }
    #: ensembles saved before round 15 made their discord member with discord's default
    #: (and before round 21 weighed by the first power of the injected AUROC − 0.5)
    params_before_added = {
        "discord_reference": "train+past",
        "power": 1.0,
        "discord_scales": "distance",
        "judge_span": JUDGE_SPAN,
        "shape_view": False,
        "shape_steps": "max",
    }

    state_shapes = {
        "columns": ("C",),
        "weights": ("M",),
        "member_auroc": ("M",),
        "inner_calibration?": (None,),
    }
    state_nonfinite = ("member_auroc", "inner_calibration")  # NaN: not judged; knots padding

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        return {**super()._state_dims(state), "M": len(self.members)}

    def __init__(
        self,
        members: Sequence[str] = ("discord", "pca"),
        combine: str = "mean",
        inputs: str = "continuous",
        weighting: str = "structure+injected",
        selection: str = "weighted",
        margin: float = 0.05,
        power: float = 2.0,
        copies: int = 3,
        smoothing: float = 0,
        discord_reference: str = "both",
        discord_scales: str = "distance",
        judge_span: Sequence[int] = JUDGE_SPAN,
        shape_view: bool = True,
        shape_steps: str = "mean",
        seed: int = 0,
    ):
        members = tuple(members)
        for member in members:
            try:
                detector_class(member)
            except ConfigError:
                raise ValueError(f"members: {member!r} is not a detector") from None
            if detector_class(member).name == "ensemble":
                raise ValueError("members: an ensemble cannot hold an ensemble")
        self.members = members
        self.combine = combine
        self.inputs = inputs
        self.weighting = weighting
        self.selection = selection
        self.margin = float(margin)
        self.power = float(power)
        self.copies = copies
        if 0 < smoothing < 1:
            raise ValueError(f"smoothing: an EWMA span >= 1, or 0 for none, got {smoothing}")
        self.smoothing = float(smoothing)
        self.discord_reference = discord_reference
        self.discord_scales = discord_scales
        if len(judge_span) != 2 or not 1 <= judge_span[0] < judge_span[1]:
            raise ValueError(f"judge_span: [shortest, longest + 1] steps, got {list(judge_span)}")
        self.judge_span = tuple(int(v) for v in judge_span)
        self.shape_view = bool(shape_view)
        self.shape_steps = shape_steps
        self.seed = seed

    def _member(self, name: str) -> Detector:
        """A fresh member; the ensemble's ``seed`` reaches the members that take one, its
        ``discord_reference`` and ``discord_scales`` the ``discord`` member."""
        cls = detector_class(name)
        params = {"seed": self.seed} if "seed" in cls.param_names() else {}
        if cls.name == "discord":
            params["reference"] = self.discord_reference
            params["scales"] = self.discord_scales
        return make_detector(name, **params)

    @property
    def min_steps(self) -> int:
        shape = [ShapeDetector().min_steps] if self.shape_view else []
        return max([self._member(m).min_steps for m in self.members] + shape)

    def _combine(self, scores: list[np.ndarray | None]) -> np.ndarray:
        return combine_scores(self.weights_, scores, self.combine)

    def _injected_scores(
        self, x: np.ndarray, head: int | None, which: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray]] | None:
        """Labels of ``copies`` injected versions of the validation tail (pooled) and the
        calibrated scores there of each member indexed by ``which`` (a copy fitted on the
        head), or None when there is no tail long enough to judge on."""
        if head is None:
            return None
        seed = zlib.crc32(np.ascontiguousarray(x[:head]).tobytes()) % (2**31)
        problems = [
            injected_validation(x[:head], x[head:], seed + k, self.judge_span)
            for k in range(self.copies)
        ]
        if any(p is None for p in problems):
            return None
        labels = np.concatenate([y for _, y in problems])
        out = []
        for i in which:
            copy = self._member(self.members[i])
            if len(x[:head]) < copy.min_steps:
                return None
            copy.fit(x[:head], MEMBER_FLAGS)
            out.append(np.concatenate([copy.score(series) for series, _ in problems]))
        return labels, out

    def _structured(self, x: np.ndarray) -> np.ndarray:
        """Which members to keep under ``weighting="structure"``: a correlation model
        (``Detector.models_correlations``, e.g. ``pca``) only where the training data have
        correlation structure (:func:`mstad.features.structure.shares_structure`: 95 % of
        their standardised variance in at most half as many components as sensors, or the
        directions left after those at most 1/20 as loud as a sensor); every other member
        always."""
        shared = shares_structure(x)
        keep = np.array(
            [shared or not detector_class(name).models_correlations for name in self.members],
            dtype=float,
        )
        return keep / keep.sum() if keep.sum() else np.full(len(keep), 1.0 / len(keep))

    def _weights(
        self, aurocs: np.ndarray, labels: np.ndarray, scores: list[np.ndarray]
    ) -> np.ndarray:
        """Weights of the judged members, whose injected-copy ``scores`` (and their ``aurocs``
        against ``labels``) are given, under ``selection``."""
        if self.selection == "close":
            keep = aurocs >= aurocs.max() - self.margin
            return keep / keep.sum()
        if self.selection == "subset":  # the combination the injected copies rank best
            best, best_auroc = None, -np.inf
            for size in range(len(scores), 0, -1):  # larger first: a tie keeps more members
                for subset in combinations(range(len(scores)), size):
                    weights = np.zeros(len(scores))
                    weights[list(subset)] = 1.0 / size
                    auroc = roc_auc_score(labels, combine_scores(weights, scores, self.combine))
                    if auroc > best_auroc:
                        best, best_auroc = weights, auroc
            return best
        if self.selection == "expected":
            gain = expected_gain(aurocs - 0.5, judge_spread(labels), self.power)
        else:
            gain = np.maximum(aurocs - 0.5, 0.0) ** self.power
        return gain / gain.sum() if gain.sum() > 0 else np.full(len(aurocs), 1.0 / len(aurocs))

    def _member_weights(self, x: np.ndarray, head: int | None) -> np.ndarray:
        """``weights_`` (and ``member_auroc_``, NaN where a member was not judged): the structure
        gate under ``"structure"`` and ``"structure+injected"``, every member otherwise; then,
        under ``"injected"`` — and under ``"structure+injected"`` where more than one member
        passed the gate — the passed members judged on injected validation anomalies. Where the
        tail is too short to judge on, the gate's (or equal) weights stand."""
        n = len(self.members)
        self.member_auroc_ = np.full(n, np.nan)
        gated = self._structured(x) if "structure" in self.weighting else np.full(n, 1.0 / n)
        passed = np.flatnonzero(gated > 0)
        judge = self.weighting == "injected" or (
            self.weighting == "structure+injected" and len(passed) > 1
        )
        judged = self._injected_scores(x, head, passed) if judge else None
        if judged is None:
            return gated
        labels, scores = judged
        aurocs = np.array([roc_auc_score(labels, s) for s in scores])
        self.member_auroc_[passed] = aurocs
        weights = np.zeros(n)
        weights[passed] = self._weights(aurocs, labels, scores)
        return weights

    def _fit_with_validation(self, train: np.ndarray, head: int | None) -> tuple[np.ndarray, str]:
        self.columns_ = input_columns(train, self.inputs, self.flags_)
        x = train[:, self.columns_]
        self.weights_ = self._member_weights(x, head)
        self.members_ = [self._member(m).fit(x, MEMBER_FLAGS) for m in self.members]
        # each member calibrated on a tail ending where train ends: align them on the shortest
        n = min(len(m.validation_scores_) for m in self.members_)
        validation = self._combine([m.validation_scores_[-n:] for m in self.members_])
        validation = smoothed(validation, self.smoothing)
        fitted_on = self.members_[0].calibration_.fitted_on
        self.inner_calibration_ = None
        if self.shape_view:
            self.shape_ = ShapeDetector(steps=self.shape_steps).fit(x, MEMBER_FLAGS)
            self.inner_calibration_ = Calibration.fit(validation, fitted_on, SURPRISE_FLOOR)
            n = min(n, len(self.shape_.raw_validation_))
            validation = self._with_shape(validation[-n:], self.shape_.raw_validation_[-n:])
        return validation, fitted_on

    def _with_shape(self, combined: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """The members' smoothed combination in its own calibrated unit, averaged with the
        shape view's score (a maximum of per-sensor surprises); as it is without the view."""
        if not self.shape_view:
            return combined
        return (self.inner_calibration_.apply(combined) + shape) / 2

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        x = series[:, self.columns_]
        combined = self._combine(
            [
                m.score(x) if w > 0 else None
                for w, m in zip(self.weights_, self.members_, strict=True)
            ]
        )
        shape = self.shape_.raw_score(x) if self.shape_view else None
        return self._with_shape(smoothed(combined, self.smoothing), shape)

    def streamer(self, max_past_windows: int | None = None):
        from mstad.models.streaming import EnsembleStreamer

        return EnsembleStreamer(self, max_past_windows)

    def _explain(self, series: np.ndarray) -> np.ndarray:
        """Members' per-sensor contributions, each step's shares scaled to the member's
        calibrated score there, then weighed like the scores; with the shape view, half of
        each step is the members' (scaled to their calibrated combination) and half the
        view's (its per-sensor surprises, scaled to its score)."""
        x = series[:, self.columns_]
        out = np.zeros((len(series), self.n_sensors_))
        for weight, member in zip(self.weights_, self.members_, strict=True):
            if weight == 0 or not member.supports_explain:
                continue
            out[:, self.columns_] += weight * _shares(member.explain(x), member.score(x))
        out = smoothed(out, self.smoothing)  # explained as the score is: the same average
        if not self.shape_view:
            return out
        members = self.inner_calibration_.apply(out.sum(axis=1))
        shape = _shares(self.shape_.explain(x), self.shape_.raw_score(x))
        out = _shares(out, members) / 2
        out[:, self.columns_] += shape / 2
        return out

    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "columns": self.columns_,
            "weights": self.weights_,
            "member_auroc": self.member_auroc_,
        }
        if self.inner_calibration_ is not None:
            state["inner_calibration"] = self.inner_calibration_.to_array()
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.columns_ = state["columns"]
        self.weights_ = state["weights"]
        self.member_auroc_ = state["member_auroc"]
        self.inner_calibration_ = None
        if self.shape_view:
            if "inner_calibration" not in state:
                raise MstadError("an ensemble with shape_view saved without its inner calibration")
            self.inner_calibration_ = Calibration.from_array(state["inner_calibration"])

    def _save_extra(self, path: Path) -> None:
        for i, member in enumerate(self.members_):
            member.save(path / f"member_{i}")
        if self.shape_view:
            self.shape_.save(path / "shape")

    def _load_extra(self, path: Path) -> None:
        self.members_ = [Detector.load(path / f"member_{i}") for i in range(len(self.members))]
        if self.shape_view:
            self.shape_ = Detector.load(path / "shape")
            if self.shape_.name != "shape" or self.shape_.n_sensors_ != len(self.columns_):
                raise MstadError(
                    f"{path / 'shape'}: not the shape view on {len(self.columns_)} columns this "
                    "ensemble was saved with; save the detector again"
                )
        for i, (name, member) in enumerate(zip(self.members, self.members_, strict=True)):
            if member.name != detector_class(name).name or member.n_sensors_ != len(self.columns_):
                raise MstadError(
                    f"{path / f'member_{i}'}: not the {name} member on {len(self.columns_)} "
                    "columns this ensemble was saved with; save the detector again"
                )
