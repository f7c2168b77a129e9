"""Every baseline: detects an obvious shift, keeps shapes, explains, saves and loads."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.errors import ConfigError, DataError, MstadError
from mstad.models import Detector, available_detectors, make_detector
from tests.conftest import shifted_entity

BASELINES = {"zscore": {}, "pca": {}, "knn": {"window": 20}, "iforest": {"n_estimators": 50}}


def test_registry_lists_the_baselines():
    assert set(BASELINES) <= set(available_detectors())


@pytest.mark.parametrize("name", BASELINES)
def test_detects_an_obvious_shift(name, shift_entity):
    detector = make_detector(name, **BASELINES[name]).fit(shift_entity.train)
    scores = detector.score(shift_entity.test)
    assert scores.shape == (len(shift_entity.test),) and scores.dtype == np.float64
    assert roc_auc_score(shift_entity.labels, scores) > 0.9


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("n_sensors", [25, 30, 38, 55])
def test_shapes_for_real_sensor_counts(name, n_sensors):
    entity = shifted_entity(n_sensors=n_sensors, n_train=300, n_test=250)
    detector = make_detector(name, **BASELINES[name]).fit(entity.train)
    assert detector.score(entity.test).shape == (250,)
    if detector.supports_explain:
        assert detector.explain(entity.test).shape == (250, n_sensors)


@pytest.mark.parametrize("name", [n for n in BASELINES if n != "iforest"])
def test_explain_points_at_the_shifted_sensors(name, shift_entity):
    detector = make_detector(name, **BASELINES[name]).fit(shift_entity.train)
    contributions = detector.explain(shift_entity.test)[200:240].sum(axis=0)
    ranking = np.argsort(contributions)[::-1]
    assert ranking[0] in (0, 1)
    if name != "pca":  # a PCA residual spreads over correlated sensors
        assert set(ranking[:2]) == {0, 1}


@pytest.mark.parametrize("name", BASELINES)
def test_save_load_round_trip(name, shift_entity, tmp_path):
    detector = make_detector(name, **BASELINES[name]).fit(shift_entity.train)
    detector.save(tmp_path / name)
    loaded = Detector.load(tmp_path / name)
    assert type(loaded) is type(detector) and loaded.get_params() == detector.get_params()
    np.testing.assert_allclose(loaded.score(shift_entity.test), detector.score(shift_entity.test))


def test_calibration_maps_validation_scores_to_a_unit_scale(shift_entity):
    detector = make_detector("zscore").fit(shift_entity.train)
    assert detector.calibration_.fitted_on == "validation"
    assert detector.calibration_.n_scores == 120  # 20 % of 600 training steps
    head = detector.score(shift_entity.train[480:])  # the validation tail, re-scored by the model
    assert np.median(head) == pytest.approx(0.0, abs=0.5)


def test_too_short_train_calibrates_in_sample():
    entity = shifted_entity(n_train=30)
    detector = make_detector("knn", window=20).fit(entity.train)
    assert detector.calibration_.fitted_on == "train"


def test_bad_use_is_reported():
    with pytest.raises(ConfigError, match="unknown parameter 'size'; valid: window, k"):
        make_detector("knn", size=3)
    with pytest.raises(ConfigError, match="mode='huge' is not valid.*one of 'z', 'range'"):
        make_detector("zscore", mode="huge")
    entity = shifted_entity()
    with pytest.raises(MstadError, match="not fitted"):
        make_detector("pca").score(entity.test)
    detector = make_detector("pca").fit(entity.train)
    with pytest.raises(DataError, match="series has 3 sensors but the detector was fitted on 5"):
        detector.score(entity.test[:, :3])
    with pytest.raises(MstadError, match="cannot explain"):
        make_detector("iforest").fit(entity.train).explain(entity.test)


def test_range_mode_is_zero_inside_the_training_range(shift_entity):
    detector = make_detector("zscore", mode="range").fit(shift_entity.train)
    assert detector.raw_score(shift_entity.train).max() == 0.0
    assert detector.raw_score(shift_entity.test)[200:240].min() > 0.0
