"""The ensemble behind ``--model best``: members on calibrated scores, each catching what the
other misses; persistence; bad parameters."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.models import make_detector
from mstad.models.base import Detector
from mstad.models.ensemble import EnsembleDetector


def factor_data(n: int, seed: int) -> np.ndarray:
    """5 sensors driven by one shared slow factor plus small independent noise."""
    rng = np.random.default_rng(seed)
    factor = np.sin(2 * np.pi * np.arange(n) / 97) + 0.3 * np.sin(2 * np.pi * np.arange(n) / 31)
    gains = np.array([1.0, -0.8, 0.6, 1.2, -0.5])
    return factor[:, None] * gains + 0.05 * rng.normal(size=(n, 5))


def test_best_is_the_discord_pca_mean_ensemble():
    best = make_detector("best")
    assert isinstance(best, EnsembleDetector)
    assert best.members == ("discord", "pca") and best.combine == "mean"


def test_catches_a_correlation_break_and_a_shape_change():
    train, test = factor_data(3000, 0), factor_data(2000, 1)
    labels = np.zeros(len(test), bool)
    # a correlation break: sensor 1 follows the factor with the wrong sign, within its range
    test[600:700, 1] = -test[600:700, 1]
    labels[600:700] = True
    # a shape change on every sensor: the factor frozen (all sensors stuck together)
    test[1400:1500] = test[1400]
    labels[1400:1500] = True
    ensemble = make_detector("best", members=("discord", "pca")).fit(train)
    scores = ensemble.score(test)
    assert roc_auc_score(labels, scores) > 0.9
    assert roc_auc_score(labels[:1000], scores[:1000]) > 0.9  # the break alone
    contributions = ensemble.explain(test)
    assert contributions.shape == (2000, 5)
    assert (contributions[610:690].argmax(axis=1) == 1).mean() > 0.8


def test_save_load_round_trip(tmp_path):
    train, test = factor_data(1200, 2), factor_data(500, 3)
    detector = make_detector("best").fit(train)
    detector.save(tmp_path / "best")
    loaded = Detector.load(tmp_path / "best")
    np.testing.assert_allclose(loaded.score(test), detector.score(test))


def test_bad_parameters():
    for bad in (dict(members=()), dict(members=("ensemble",)), dict(combine="sum")):
        with pytest.raises(Exception, match="must be"):
            make_detector("ensemble", **bad)
