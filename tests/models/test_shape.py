"""The ``shape`` detector and the ensemble's shape view: what they see, streams, saving."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.models.base import Detector
from mstad.models.calibration import CAP
from mstad.models.registry import make_detector
from mstad.models.streaming import Monitor, stream_scores


def periodic(n_sensors=3, train=2000, test=1200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(train + test)
    x = np.column_stack(
        [np.sin(2 * np.pi * t / p) for p in (41, 59, 73, 97, 31)[:n_sensors]]
    ) + 0.05 * rng.normal(size=(len(t), n_sensors))
    return x[:train], x[train:].copy()


def test_a_changed_shape_at_the_same_level_is_found_and_a_level_shift_is_not():
    train, test = periodic()
    labels = np.zeros(len(test), bool)
    labels[600:680] = True
    test[600:680, 1] = np.sign(test[600:680, 1]) * 0.8  # a square wave: same level and range
    shifted = test + np.array([0.0, 0.0, 5.0])  # sensor 2 moved to a level never seen
    detector = make_detector("shape").fit(train)
    scores = detector.score(test)
    assert roc_auc_score(labels, scores) > 0.97
    # blind to level by design (discord's half of `best` sees the move)
    np.testing.assert_allclose(detector.score(shifted), scores, atol=1e-4)  # rounding only
    explained = detector.explain(test)
    assert explained.shape == test.shape and explained[640].argmax() == 1


@pytest.mark.parametrize("rule", ["max", "mean", "mid"])
@pytest.mark.parametrize("chunk", [1, 7, 500])
def test_stream_equals_batch(chunk, rule):
    train, test = periodic(seed=1)
    test[300:330, 0] += np.linspace(0, 1, 30)
    detector = make_detector("shape", windows=(10, 40), steps=rule).fit(train)
    np.testing.assert_allclose(
        stream_scores(detector, test, chunk), detector.score(test), atol=1e-5
    )


def test_a_stream_updates_each_window_from_the_one_before():
    """O(training) per row: every length's next window follows from the previous one (kept
    rows include the row before it), never a direct recomputation after the first."""
    train, test = periodic(seed=7)
    monitor = Monitor(make_detector("shape").fit(train))
    for row in test[:400]:
        monitor.update(row)
    states = [state for rows in monitor.streamer.rows for state in rows.state]
    assert all(state[0] >= 0 and state[1] > 100 for state in states)


def test_saved_and_loaded_scores_the_same(tmp_path):
    train, test = periodic(seed=2)
    detector = make_detector("shape", windows=(16, 32)).fit(train)
    detector.save(tmp_path / "shape")
    loaded = Detector.load(tmp_path / "shape")
    np.testing.assert_array_equal(loaded.score(test), detector.score(test))


def test_a_folder_saved_before_the_step_rule_existed_keeps_the_largest(tmp_path):
    """Rounds 32–38 saved no ``steps``: such a folder scores as it was fitted (the largest
    covering window), not by today's mean; the rules differ where a window is unusual."""
    train, test = periodic(seed=2)
    test[200:230, 1] += np.linspace(0, 2, 30)
    largest = make_detector("shape", windows=(16, 32), steps="max").fit(train)
    largest.save(tmp_path / "old")
    meta_file = tmp_path / "old" / "detector.json"
    meta = json.loads(meta_file.read_text())
    del meta["params"]["steps"]
    meta_file.write_text(json.dumps(meta))
    loaded = Detector.load(tmp_path / "old")
    assert loaded.steps == "max"
    np.testing.assert_array_equal(loaded.score(test), largest.score(test))
    today = make_detector("shape", windows=(16, 32)).fit(train)
    assert today.steps == "mean" and np.abs(today.score(test) - largest.score(test)).max() > 0.1


def test_sensors_constant_in_training_are_left_out_and_none_left_scores_zero():
    train, test = periodic(n_sensors=2, seed=3)
    train[:, 1], test[:, 1] = 4.0, 4.0 + np.linspace(0, 3, len(test))
    detector = make_detector("shape").fit(train)
    assert detector.sensors_.tolist() == [0]
    flat = make_detector("shape").fit(np.full((500, 2), 4.0))
    scores = flat.score(np.random.default_rng(0).normal(size=(300, 2)))
    assert flat.sensors_.size == 0 and np.all(scores == scores[0]) and scores.max() < CAP
    np.testing.assert_array_equal(flat.explain(np.ones((300, 2))), 0.0)


@pytest.mark.parametrize("n_sensors", [25, 30, 38, 55])
def test_shapes_for_many_sensors(n_sensors):
    rng = np.random.default_rng(n_sensors)
    train, test = rng.normal(size=(400, n_sensors)), rng.normal(size=(150, n_sensors))
    detector = make_detector("shape", windows=(8, 16)).fit(train)
    assert detector.score(test).shape == (150,) and detector.explain(test).shape == test.shape


def test_a_series_shorter_than_the_longest_window_still_scores():
    train, test = periodic(seed=4)
    detector = make_detector("shape").fit(train)
    scores = detector.score(test[:120])  # the 200-step length is cut to 120 steps
    assert scores.shape == (120,) and np.isfinite(scores).all()


def test_the_ensemble_averages_its_calibrated_members_with_the_view():
    train, test = periodic(seed=5)
    test[500:560, 2] = np.sign(test[500:560, 2]) * 0.9
    plain = make_detector("best", shape_view=False).fit(train)
    both = make_detector("best", shape_view=True).fit(train)
    members = both._combine([m.score(test) for m in both.members_])
    expected = (both.inner_calibration_.apply(members) + both.shape_.raw_score(test)) / 2
    np.testing.assert_allclose(both.raw_score(test), expected)
    labels = np.zeros(len(test), bool)
    labels[500:560] = True
    assert roc_auc_score(labels, both.score(test)) > roc_auc_score(labels, plain.score(test))
    assert both.explain(test)[530].argmax() == 2


@pytest.mark.parametrize("chunk", [1, 500])
def test_the_ensemble_with_the_view_streams_as_it_scores(chunk, tmp_path):
    train, test = periodic(seed=6)
    test[200:240, 0] += 0.7
    ensemble = make_detector("best", shape_view=True).fit(train)
    ensemble.save(tmp_path / "best")
    loaded = Detector.load(tmp_path / "best")
    np.testing.assert_allclose(stream_scores(loaded, test, chunk), ensemble.score(test), atol=1e-5)


def test_the_validation_score_is_cross_fitted_on_halves_of_a_long_tail():
    """Each half of the tail is scored by per-sensor calibrations fitted on the other half (out
    of sample); new data use the calibrations of the whole tail."""
    rng = np.random.default_rng(8)
    train = rng.normal(size=(5000, 4)).cumsum(axis=0) * 0.1 + rng.normal(size=(5000, 4))
    detector = make_detector("shape", windows=(20, 50)).fit(train)  # tail 1,000: halves of 500
    holdout = make_detector("shape", windows=(20, 50))
    holdout.flags_ = None
    holdout._lengths, holdout._columns, holdout._sensors = (
        detector._lengths,
        detector._columns,
        detector._sensors,
    )
    holdout._fit(train[:4000])
    tail = holdout._per_length(train[4000:])
    first, second = tail[..., :500], tail[..., 500:]
    holdout.calibrations_ = detector._fit_calibrations(second, "validation")
    expected_first = holdout._combine(first)
    holdout.calibrations_ = detector._fit_calibrations(first, "validation")
    expected_second = holdout._combine(second)
    np.testing.assert_allclose(
        detector.raw_validation_, np.concatenate([expected_first, expected_second]), rtol=1e-4
    )
    whole = detector._fit_calibrations(tail, "validation")  # what new data are scored with
    for kept, fitted in zip(detector.calibrations_, whole, strict=True):
        for a, b in zip(kept, fitted, strict=True):
            np.testing.assert_allclose(a.to_array(), b.to_array(), rtol=1e-4)


def test_score_then_explain_searches_the_training_windows_once(monkeypatch):
    train, test = periodic(seed=9)
    detector = make_detector("shape", windows=(16, 32)).fit(train)
    calls = []
    search = detector._search
    monkeypatch.setattr(detector, "_search", lambda s: calls.append(1) or search(s))
    scores = detector.score(test)
    detector.explain(test)
    np.testing.assert_array_equal(detector.score(test), scores)
    assert len(calls) == 1
    detector.score(test[:-1])  # another series: searched again
    assert len(calls) == 2
