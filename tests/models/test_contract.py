"""One contract for every detector `mstad models` lists (in the spirit of scikit-learn's
``parametrize_with_checks``): a new detector is held to it without writing a test.

Parameter validation, save/load round trip with identical scores, same seed -> same scores,
input checks, one bounded calibrated score per step, explanations of the right shape, and model
folders that were cut short or edited are refused with a line naming the folder.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mstad.errors import ConfigError, DataError, MstadError
from mstad.models import Detector, available_detectors, detector_class, make_detector
from mstad.models.calibration import CAP
from mstad.models.registry import seeded

#: small enough for the default test run; names not listed use their defaults
FAST = {
    "mscred": {"windows": (5, 10), "gap": 5, "steps": 3, "epochs": 1, "batch_size": 8},
    "msflow": {
        "window": 16,
        "stride": 8,
        "dilations": (1, 1, 1),
        "epochs": 1,
        "widths": (8, 8, 8),
        "blocks": (1, 1, 1),
        "adapt_every": 10_000,
    },
    "knn": {"window": 20},
    "discord": {"windows": (10, 20)},
    "iforest": {"n_estimators": 20},
    "lstm_ad": {"window": 20, "horizon": 2, "units": 8, "epochs": 2, "smoothing": 5},
    "usad": {"window": 5, "hidden": 4, "epochs": 2, "batch_size": 64},
    "tranad": {"window": 5, "epochs": 2},
    "omnianomaly": {"window": 10, "hidden": 8, "dense": 8, "flows": 2, "epochs": 1},
}
NAMES = available_detectors()


class _Bad:
    """A value no parameter accepts."""

    def __repr__(self) -> str:
        return "<bad>"


def params(name: str) -> dict:
    return FAST.get(name, {})


def data(n_sensors: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated sensors (one a 0/1 flag) with a burst in the test split."""
    rng = np.random.default_rng(seed)
    t = np.arange(700)
    base = np.sin(2 * np.pi * t / 50)[:, None] * rng.uniform(0.5, 2, n_sensors)
    x = base + 0.1 * rng.normal(size=(700, n_sensors))
    x[:, -1] = (t // 35) % 2
    x[600:620, 0] += 3.0
    return x[:450].astype(np.float32), x[450:].astype(np.float32)


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    name = request.param
    train, test = data()
    return name, make_detector(name, **params(name)).fit(train), test


def test_mstad_models_lists_the_registered_detectors():
    assert {"zscore", "pca", "knn", "iforest", "discord", "mscred", "msflow", "best"} <= set(NAMES)
    assert {"lstm_ad", "usad", "tranad", "omnianomaly"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_is_validated_and_named(name):
    cls = detector_class(name)
    for field in cls.param_names():
        with pytest.raises(ConfigError, match=rf"model \w+: parameter {field}=<bad> is not valid"):
            make_detector(name, **{field: _Bad()})
    first = cls.param_names()[0]
    with pytest.raises(ConfigError, match=rf"unknown parameter '{first}x' \(did you mean"):
        make_detector(name, **{first + "x": 1})
    assert make_detector(name).get_params() == make_detector(name, **{}).get_params()


def test_one_bounded_calibrated_score_per_step(fitted):
    name, detector, test = fitted
    scores = detector.score(test)
    assert scores.shape == (len(test),) and scores.dtype == np.float64
    assert np.isfinite(scores).all() and scores.min() >= 0 and scores.max() < CAP
    assert np.isfinite(detector.validation_scores_).all()
    assert detector.validation_scores_.max() < CAP
    if detector.supports_explain:
        assert detector.explain(test).shape == (len(test), test.shape[1])


def test_the_burst_scores_above_normal_steps(fitted):
    name, detector, test = fitted
    scores = detector.score(test)
    burst = np.zeros(len(test), bool)
    burst[150:170] = True
    assert scores[burst].max() > np.median(scores[~burst]), name


def test_save_load_round_trip_gives_identical_scores(fitted, tmp_path):
    name, detector, test = fitted
    detector.save(tmp_path / "model")
    loaded = Detector.load(tmp_path / "model")
    assert type(loaded) is type(detector) and loaded.get_params() == detector.get_params()
    np.testing.assert_array_equal(loaded.score(test), detector.score(test))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_scores(name):
    train, test = data(seed=3)
    given = seeded(name, params(name), 5)
    first = make_detector(name, **given).fit(train).score(test)
    second = make_detector(name, **given).fit(train).score(test)
    np.testing.assert_array_equal(first, second)


def test_input_checks(fitted):
    name, detector, test = fitted
    with pytest.raises(DataError, match="sensors but the detector was fitted on 4"):
        detector.score(test[:, :3])
    broken = test.copy()
    broken[7, 1] = np.nan
    with pytest.raises(DataError, match="non-finite values"):
        detector.score(broken)
    with pytest.raises(DataError, match="time steps, need at least"):
        detector.score(test[: detector.min_steps - 1])
    with pytest.raises(DataError, match="expected real numbers"):
        detector.score(test.astype(complex))


def _tamper(folder, how, detector):
    meta = json.loads((folder / "detector.json").read_text())
    if how == "truncated detector.json":
        (folder / "detector.json").write_text((folder / "detector.json").read_text()[:40])
    elif how == "truncated state.npz":
        raw = (folder / "state.npz").read_bytes()
        (folder / "state.npz").write_bytes(raw[: len(raw) // 2])
    elif how == "calibration scale 0":
        meta["calibration"]["tail_scale"] = 0.0
    elif how == "unknown parameter":
        meta["params"]["colour"] = "red"
    elif how == "bad parameter value":
        meta["params"][next(iter(meta["params"]))] = "<bad>"
    elif how == "wrong sensor count":
        meta["n_sensors"] = 7
    elif how == "missing key":
        meta.pop("calibration")
    elif how == "wrong-shape state":
        with np.load(folder / "state.npz") as state:
            arrays = dict(state)
        key = next(k.rstrip("?") for k in type(detector).state_shapes if k.rstrip("?") in arrays)
        arrays[key] = np.concatenate([arrays[key], arrays[key][..., :1]], axis=-1)
        np.savez(folder / "state.npz", **arrays)
    if how in EDITS_META:
        (folder / "detector.json").write_text(json.dumps(meta))


EDITS_META = (
    "calibration scale 0",
    "unknown parameter",
    "bad parameter value",
    "wrong sensor count",
    "missing key",
)
TAMPERING = [
    "truncated detector.json",
    "truncated state.npz",
    "calibration scale 0",
    "unknown parameter",
    "bad parameter value",
    "wrong sensor count",
    "missing key",
    "wrong-shape state",
]


def test_a_tampered_model_folder_is_refused_naming_it(fitted, tmp_path):
    name, detector, test = fitted
    detector.save(tmp_path / "good")
    for how in TAMPERING:
        folder = tmp_path / how.replace(" ", "_")
        shutil.copytree(tmp_path / "good", folder)
        _tamper(folder, how, detector)
        with pytest.raises(MstadError) as info:
            Detector.load(folder)
        message = str(info.value)
        assert str(folder) in message and "\n" not in message, (name, how, message)
