"""The bounded surprise calibration: its meaning, its bound, and the degenerate cases (flat
validation scores, a sensor constant in training that moves, a 3-sample validation tail) for
the calibration alone and through every detector."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.models import available_detectors, make_detector
from mstad.models.calibration import CAP, KNEE, Calibration, bounded, unbounded
from mstad.models.thresholds import make_thresholder
from tests.models.test_contract import FAST

#: small but working parameters for the slow detectors (the contract suite's), plus members
#: that keep the ensembles quick here
SMALL = {
    **FAST,
    "best": {"members": ("discord", "pca")},
    "ensemble": {"members": ("zscore", "pca")},
}


def test_surprise_is_minus_log10_of_the_validation_tail_probability():
    v = np.random.default_rng(0).normal(size=20_000)
    c = Calibration.fit(v, "validation")
    q = np.quantile(v, [0.5, 0.9, 0.99, 0.999])
    np.testing.assert_allclose(c.apply(q), [0.301, 1.0, 2.0, 3.0], atol=0.05)
    assert c.fitted_on == "validation" and c.n_scores == 20_000 and not c.note


def test_bounded_strictly_increasing_and_invertible():
    x = np.concatenate([np.linspace(-50, 50, 2001), np.logspace(2, 300, 200)])
    v = np.random.default_rng(1).gamma(2.0, size=3000)
    s = Calibration.fit(v, "validation").apply(x)
    assert np.all(np.diff(s) > 0), "the map must keep the order of every raw score"
    assert s.min() >= 0 and s.max() < CAP
    z = np.array([0.0, 1.0, KNEE, 7.0, 40.0, 1e6])
    np.testing.assert_allclose(bounded(z)[:3], z[:3])
    np.testing.assert_allclose(unbounded(bounded(z)), z, rtol=1e-9)
    assert bounded(np.array([np.inf]))[0] == CAP


def test_the_same_figure_whatever_the_raw_units():
    """Two entities whose raw scores differ by 10^9 in scale and by an offset get the same
    calibrated scores: the unit is the probability, not the raw score."""
    rng = np.random.default_rng(2)
    v, x = rng.exponential(size=2000), rng.exponential(size=500) * 2
    a = Calibration.fit(v, "validation").apply(x)
    b = Calibration.fit(1e9 * v + 5, "validation").apply(1e9 * x + 5)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_flat_validation_scores_are_a_defined_case():
    c = Calibration.fit(np.full(400, 2.5), "validation", min_scale=0.1)
    assert c.tail_scale == pytest.approx(0.1) and "floored" in c.note
    out = c.apply(np.array([2.0, 2.5, 2.6, 3.5, 1e12]))
    assert np.isfinite(out).all() and out.max() < CAP
    assert out[0] < out[1] == pytest.approx(np.log10(2), abs=0.01)  # the constant: p = 1/2
    assert out[2] == pytest.approx(np.log10(2) + 0.1 / 0.1 / np.log(10), abs=0.01)
    # ten floors above the constant: e^-10 as likely again, and an absurd value near the cap
    assert out[3] == pytest.approx(np.log10(2) + 10 / np.log(10), abs=0.01)
    assert KNEE < out[4] < CAP
    # without a floor of its own, the floor comes from the scores (1e-6·|median|), not from 0
    tiny = Calibration.fit(np.zeros(100), "validation")
    assert tiny.tail_scale > 0 and np.isfinite(tiny.apply(np.array([1e-9, 1.0]))).all()


def test_a_three_sample_validation_tail():
    c = Calibration.fit(np.array([1.0, 2.0, 4.0]), "train")
    assert "exponential tail" in c.note
    out = c.apply(np.array([0.0, 1.0, 2.0, 4.0, 8.0, 1e6]))
    assert np.all(np.diff(out) > 0) and out.max() < CAP
    assert out[3] == pytest.approx(-np.log10(1 / 4), abs=1e-9)  # max: mid-rank (0.5+0.5)/(3+1)


def test_round_trips():
    c = Calibration.fit(np.random.default_rng(3).normal(size=777), "validation", 0.01)
    x = np.linspace(-5, 20, 50)
    np.testing.assert_array_equal(Calibration.from_dict(c.to_dict()).apply(x), c.apply(x))
    np.testing.assert_allclose(Calibration.from_array(c.to_array()).apply(x), c.apply(x))


def test_pot_threshold_on_flat_validation_scores_never_flags_every_step():
    validation = Calibration.fit(np.zeros(300), "validation").apply(np.zeros(300))
    report = make_thresholder("pot").fit_report(validation, "validation")
    assert report.value >= 3.0 and "excesses" in report.note  # -log10(1e-3)
    assert not (validation > report.value).any()
    zero = make_thresholder("max_validation", beta=1.5).fit_report(np.zeros(50), "validation")
    assert zero.value > 0 and "raised" in zero.note


def constant_sensor_data(n_sensors: int = 4, seed: int = 0):
    """Sensor 0 is constant (3.0) in training and leaves that value in test steps 300–339."""
    rng = np.random.default_rng(seed)
    t = np.arange(1400)
    x = np.column_stack(
        [np.sin(2 * np.pi * t / p) for p in (37, 53, 71, 89)[: n_sensors - 1]]
    ) + 0.05 * rng.normal(size=(1400, n_sensors - 1))
    x = np.column_stack([np.full(1400, 3.0), x]).astype(np.float32)
    train, test = x[:1000], x[1000:].copy()
    test[300:340, 0] = 3.0 + np.linspace(0.5, 1.0, 40)
    labels = np.zeros(len(test), bool)
    labels[300:340] = True
    return train, test, labels


@pytest.mark.parametrize("name", [n for n in available_detectors() if n != "iforest"])
def test_every_detector_stays_bounded_and_a_departure_from_a_constant_alarms(name):
    train, test, labels = constant_sensor_data()
    detector = make_detector(name, **SMALL.get(name, {})).fit(train)
    scores = detector.score(test)
    assert np.isfinite(scores).all() and scores.min() >= 0 and scores.max() < CAP
    assert np.isfinite(detector.validation_scores_).all()
    assert detector.validation_scores_.max() < CAP
    # the deep models get one or two epochs of tiny networks here (a trained deep baseline on a
    # constant sensor: tests/models/test_deep_baselines.py)
    # `shape` leaves sensors constant in training out by design (z-normalised windows see no
    # shape in a flat line; the ensemble's discord sees the departure): it must only stay bounded
    if name not in ("mscred", "msflow", "lstm_ad", "usad", "tranad", "omnianomaly", "shape"):
        assert roc_auc_score(labels, scores) > 0.9, name
    for absurd in (1e15, 3e38):  # 3e38: float32 holds it, its scaled value would overflow
        huge = test.copy()
        huge[350, 1] = absurd  # an absurd value stays finite, on the same bounded scale
        scores = detector.score(huge)
        assert np.isfinite(scores).all() and scores.max() <= CAP, (name, absurd)


def test_iforest_stays_bounded():
    train, test, _ = constant_sensor_data()
    detector = make_detector("iforest").fit(train)
    assert detector.score(test).min() >= 0 and detector.score(test).max() < CAP


@pytest.mark.parametrize("name", ["discord", "best", "pca"])
def test_validation_scores_mean_what_the_unit_says(name):
    """Through a detector, too (discord's and the ensemble's scores are surprises of surprises
    with floors of their own): a tenth of validation steps above 1, the maximum at about
    log10(n + 1) — up to the blur of their resolution (a tenth of the floor) and ties."""
    rng = np.random.default_rng(5)
    t = np.arange(6000)
    x = np.column_stack([np.sin(2 * np.pi * t / p) for p in (41, 67, 97)])
    x = x + 0.2 * rng.normal(size=x.shape)
    detector = make_detector(name, **SMALL.get(name, {})).fit(x)
    v = detector.validation_scores_
    assert 0.05 <= (v > 1).mean() <= 0.15
    assert 2.0 < v.max() <= np.log10(len(v) + 1) + 0.1  # ties (discord's per-sensor maxima)
