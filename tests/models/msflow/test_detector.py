"""The MSFlow detector (native 1-D route) end to end on tiny configurations."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.data import make_synthetic
from mstad.errors import ConfigError
from mstad.models import Detector, make_detector

TINY = {"window": 32, "stride": 8, "epochs": 5, "widths": (16, 16, 16), "blocks": (1, 1, 1)}


@pytest.fixture(scope="module")
def entity():
    return make_synthetic(
        n_sensors=6, n_steps=2400, train_end=1200, n_anomalies=3, amplitude=3.0, seed=2
    )


@pytest.fixture(scope="module")
def fitted(entity):
    return make_detector("msflow", **TINY).fit(entity.train)


def test_auroc_floor_on_small_synthetic(fitted, entity):
    scores = fitted.score(entity.test)
    assert scores.shape == (1200,) and np.isfinite(scores).all()
    assert roc_auc_score(entity.labels, scores) > 0.8
    assert fitted.calibration_.fitted_on == "validation"


def test_early_stopping_is_on_validation_nll(fitted):
    history = fitted.history_
    assert 1 <= len(history) <= 5 and all(np.isfinite(h["val_nll"]) for h in history)


@pytest.mark.parametrize("n_sensors", [25, 30, 38, 55])
def test_any_sensor_count(n_sensors):
    rng = np.random.default_rng(n_sensors)
    train = rng.normal(size=(300, n_sensors)).astype(np.float32)
    detector = make_detector("msflow", **{**TINY, "epochs": 1}).fit(train)
    assert detector.score(train[:100]).shape == (100,)


def test_save_load_round_trip(fitted, entity, tmp_path):
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / "flow.pt").is_file()
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(entity.test), fitted.score(entity.test), rtol=1e-5)


def test_fitting_does_not_touch_numpys_global_random_state(entity):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    make_detector("msflow", **{**TINY, "epochs": 1}).fit(entity.train[:300])
    assert np.random.random() == expected


def test_image_route_detects_and_round_trips(entity, tmp_path):
    detector = make_detector(
        "msflow",
        route="image",
        encoder="strip",
        image_size=32,
        window=32,
        stride=8,
        epochs=3,
        blocks=(1, 1, 1),
    ).fit(entity.train)
    scores = detector.score(entity.test)
    assert scores.shape == (1200,) and roc_auc_score(entity.labels, scores) > 0.7
    assert detector.heatmap(entity.test, 600).shape == (32, 32)  # −log p per pixel
    detector.save(tmp_path / "m")
    np.testing.assert_allclose(Detector.load(tmp_path / "m").score(entity.test), scores, rtol=1e-5)


@pytest.mark.parametrize("encoder", ["resize", "gaf", "gadf", "mtf", "signature"])
def test_every_encoder_scores_every_step(entity, encoder):
    detector = make_detector(
        "msflow",
        route="image",
        encoder=encoder,
        image_size=32,
        window=32,
        stride=16,
        epochs=1,
        blocks=(1, 1, 1),
    ).fit(entity.train[:600])
    scores = detector.score(entity.test[:200])
    assert scores.shape == (200,) and np.isfinite(scores).all()


def test_whole_series_as_one_image_the_seed_protocol(entity):
    detector = make_detector(
        "msflow",
        route="image",
        encoder="resize",
        window=0,
        image_size=32,
        epochs=2,
        blocks=(1, 1, 1),
    ).fit(entity.train)
    scores = detector.score(entity.test)  # longer than train: still one image, exact columns
    assert scores.shape == (1200,) and np.isfinite(scores).all()


def test_bad_parameters():
    with pytest.raises(ConfigError, match="route must be one of"):
        make_detector("msflow", route="video")
    with pytest.raises(ConfigError, match="one block count and one width per scale"):
        make_detector("msflow", widths=(8, 8), blocks=(1, 1, 1))
    with pytest.raises(ConfigError, match="window 4 must be >= 8"):
        make_detector("msflow", window=4)
    with pytest.raises(ConfigError, match="encoder must be one of"):
        make_detector("msflow", route="image", encoder="jpeg")


def test_heatmap_is_the_likelihood_map_of_the_window_around_t(fitted, entity):
    native = fitted.heatmap(entity.test, 600)
    assert native.shape == (3, 32) and (native >= 0).all()  # scales × steps of the window
    assert "per scale" in fitted.heatmap_kind
