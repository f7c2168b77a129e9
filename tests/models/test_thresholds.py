import inspect
import math

import numpy as np
import pytest

from mstad.errors import ConfigError
from mstad.models.calibration import Calibration
from mstad.models.thresholds import (
    POT,
    THRESHOLDERS,
    alarm_share_warning,
    make_thresholder,
    spot,
)


def test_no_thresholder_can_be_given_labels():
    for cls in THRESHOLDERS.values():
        params = list(inspect.signature(cls.fit).parameters)
        assert params == ["self", "normal_scores"], cls


def test_simple_rules():
    scores = np.arange(101.0)
    assert make_thresholder("max_validation", beta=1.5).fit(scores) == 150.0
    assert make_thresholder("quantile", q=0.9).fit(scores) == pytest.approx(90.0)


def test_pot_recovers_an_exponential_tail():
    scores = np.random.default_rng(0).exponential(size=50_000)
    # P(X > z) = exp(-z): the 1e-3 tail starts at ln(1000) = 6.91
    assert POT(risk=1e-3, level=0.98).fit(scores) == pytest.approx(math.log(1000), abs=0.4)


def test_pot_falls_back_when_the_tail_is_too_short():
    thresholder = POT(level=0.98, min_excesses=10)
    report = thresholder.fit_report(np.arange(100.0), "validation")
    assert report.value == 99.0 and "2 excesses < 10" in report.note


@pytest.mark.parametrize("risk", [1e-2, 1e-3])
def test_surprise_holds_its_risk_on_new_data_like_validation(risk):
    """On the calibrated scale the threshold at risk r is -log10(r) with no fit: new normal data
    from the validation distribution exceed it with probability r."""
    rng = np.random.default_rng(4)
    calibration = Calibration.fit(rng.gamma(2.0, size=5_000), "validation")
    validation = calibration.apply(rng.gamma(2.0, size=5_000))
    report = make_thresholder("surprise", risk=risk).fit_report(validation, "validation")
    assert report.value == pytest.approx(-math.log10(risk)) and "validation tail" in report.note
    new = calibration.apply(rng.gamma(2.0, size=400_000))
    # within a factor of 2: the tail of 5,000 validation scores is an estimate (this seed: 1.6 x
    # 10^-3 at risk 10^-3; seeds 0-3 gave 0.3-1.0 x 10^-3, and 0.85-1.03 x 10^-2 at 10^-2)
    assert risk / 2 < (new > report.value).mean() < 2 * risk
    with pytest.raises(ConfigError, match=r"threshold surprise: parameter risk=1 is not valid"):
        make_thresholder("surprise", risk=1)


def test_spot_streams_without_labels_and_ignores_alarms():
    rng = np.random.default_rng(1)
    normal = rng.exponential(size=5000)
    stream = rng.exponential(size=2000)
    stream[1000] = 50.0  # an alarm must not move the threshold
    thresholds = spot(normal, stream)
    assert thresholds.shape == (2000,)
    assert thresholds[1001] == thresholds[1000]
    assert thresholds.mean() == pytest.approx(POT().fit(normal), rel=0.15)


def test_unknown_method_and_bad_parameters():
    with pytest.raises(ConfigError, match="threshold method 'magic' is unknown; choose one of"):
        make_thresholder("magic")
    with pytest.raises(ConfigError, match=r"threshold quantile: parameter q=2 is not valid"):
        make_thresholder("quantile", q=2)
    with pytest.raises(ConfigError, match=r"threshold pot: parameter risk='abc' is not valid"):
        make_thresholder("pot", risk="abc")
    with pytest.raises(ConfigError, match=r"unknown parameter 'rsk' \(did you mean 'risk'\?\)"):
        make_thresholder("pot", rsk=0.1)


def test_ndt_puts_epsilon_between_normal_scores_and_one_clear_sequence():
    rng = np.random.default_rng(0)
    scores = np.abs(rng.normal(size=3000))
    scores[1000:1010] += 8.0
    fitted = make_thresholder("ndt").fit_report(scores, "validation")
    normal = np.delete(scores, np.arange(1000, 1010))
    assert normal.max() < fitted.value < scores[1000:1010].min() + 1e-9
    assert "1 validation sequences, 0 pruned" in fitted.note


def test_ndt_prunes_peaks_within_p_of_the_next_and_keeps_those_above_a_gap():
    scores = np.full(2000, 1.0)
    scores[::2] = 0.0  # mean ~0.5, std ~0.5
    scores[300], scores[900], scores[1500] = 20.0, 10.0, 9.5
    ndt = make_thresholder("ndt", error_buffer=2)
    eps = ndt.epsilon(scores)
    assert 1.0 < eps < 9.5
    # peaks 20, 10, 9.5, then the highest unflagged score 1: 10 is within 13 % of 9.5, but the
    # gap 9.5 -> 1 that follows keeps every sequence (telemanom's prune_anoms)
    assert ndt.fit(scores) == eps and "3 validation sequences, 0 pruned" in ndt.note_
    scores[900] = 1.0
    scores[1000] = 8.6  # unflagged, and within 13 % of the 9.5 peak: that sequence is pruned
    ndt = make_thresholder("ndt", error_buffer=2)
    assert ndt.epsilon(scores) < 8.8
    assert ndt.fit(scores) == 9.5 and "2 validation sequences, 1 pruned" in ndt.note_


def test_ndt_on_flat_validation_scores_is_defined():
    fitted = make_thresholder("ndt").fit_report(np.zeros(500), "validation")
    assert np.isfinite(fitted.value) and fitted.value > 0
    assert "constant" in fitted.note


def test_an_alarm_on_most_steps_is_a_warning_naming_the_share():
    scores = np.r_[np.zeros(40), np.full(60, 5.0)]  # 60 % above 3
    line = alarm_share_warning("T-3", scores, 3.0)
    assert line.startswith("T-3: 60% of its scored steps are above the alarm threshold (3.00)")
    assert "refit on data that include it" in line
    assert alarm_share_warning("T-3", scores, 5.0) is None  # none above
    assert alarm_share_warning("T-3", np.r_[np.zeros(50), np.full(50, 5.0)], 3.0) is None  # half
    assert alarm_share_warning("empty", np.array([]), 3.0) is None
