"""The MSCRED detector end to end on tiny configurations."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mstad.data import make_synthetic
from mstad.errors import ConfigError
from mstad.evaluation.rootcause import recall_at_k
from mstad.models import Detector, make_detector
from mstad.models.mscred.detector import samples_to_steps

TINY = {
    "windows": (5, 10),
    "gap": 5,
    "steps": 3,
    "epochs": 4,
    "batch_size": 8,
    "lstm_kernels": (3, 3, 2, 2),
}


@pytest.fixture(scope="module")
def entity():
    return make_synthetic(
        n_sensors=6, n_steps=2400, train_end=1200, n_anomalies=3, amplitude=3.0, seed=2
    )


@pytest.fixture(scope="module")
def fitted(entity):
    return make_detector("mscred", **TINY).fit(entity.train)


def test_scores_explain_and_scale_scores(fitted, entity):
    scores = fitted.score(entity.test)
    assert scores.shape == (1200,) and np.isfinite(scores).all()
    assert fitted.explain(entity.test).shape == (1200, 6)
    assert fitted.scale_scores(entity.test).shape == (1200, 2)
    assert fitted.calibration_.fitted_on == "validation"
    assert len(fitted.history_) >= 1 and fitted.history_[0]["val_loss"] > 0


def test_auroc_floor_on_small_synthetic(fitted, entity):
    assert roc_auc_score(entity.labels, fitted.score(entity.test)) > 0.7


def test_heatmap_is_the_residual_matrix_of_the_covering_sample(fitted, entity):
    residual, ends = fitted._residual(fitted._check_input(entity.test))
    t = 700
    k = int(np.flatnonzero(ends > t)[0])  # sample covering [ends[k] - gap, ends[k]) ∋ t
    assert ends[k] - fitted.gap <= t < ends[k]
    np.testing.assert_allclose(fitted.heatmap(entity.test, t), residual[k, 0], rtol=1e-3, atol=1e-8)
    assert fitted.heatmap(entity.test, t).shape == (6, 6)
    assert make_detector("zscore").fit(entity.train).heatmap(entity.test, t) is None


def test_save_load_round_trip(fitted, entity, tmp_path):
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / "network.pt").is_file()
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(entity.test), fitted.score(entity.test), rtol=1e-5)
    np.testing.assert_allclose(loaded.validation_scale_scores_, fitted.validation_scale_scores_)


@pytest.mark.parametrize("mode", ["count", "count_upper"])
def test_count_scores_are_integers_in_range(fitted, entity, mode):
    detector = make_detector("mscred", **{**TINY, "score_mode": mode})
    detector.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    detector._cache = None
    raw = detector.raw_score(entity.test)
    assert np.all(raw == np.round(raw)) and raw.min() >= 0 and raw.max() <= 36


def test_relative_score_divides_each_entry_by_its_validation_median(fitted, entity):
    residual, _ = fitted._residual(fitted._check_input(entity.test))
    scale = fitted.residual_scale_
    assert scale.shape == residual.shape[1:] and (scale > 0).all()
    expected = (residual / scale).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(fitted._sample_scores(residual), expected)
    # root causes: 3 of 6 sensors, so a random ranking's recall@3 is 0.5 on average
    assert recall_at_k(fitted.explain(entity.test), entity.intervals, 3) > 0.65


def test_samples_map_to_the_steps_they_cover():
    ends = np.array([20, 25, 30])
    steps = samples_to_steps(np.array([1.0, 2.0, 3.0]), ends, 5, 30)
    assert steps[:20].tolist() == [1.0] * 20  # warm-up takes the first sample's value
    assert steps[20:25].tolist() == [2.0] * 5 and steps[25:].tolist() == [3.0] * 5


def test_forecast_target_cannot_see_the_matrix_it_scores(entity):
    detector = make_detector("mscred", **{**TINY, "epochs": 1, "target": "next"})
    detector.fit(entity.train)
    assert detector.min_steps == 10 + 3 * 5  # h = 3 inputs + 1 forecast matrix
    assert detector.score(entity.test).shape == (1200,)
    stacks, _ = detector._samples(entity.test)
    batch = torch.from_numpy(np.ascontiguousarray(stacks[:4]))
    changed = batch.clone()
    changed[:, -1] += 1.0  # only the matrix to forecast
    inputs, target = detector._split(batch)
    inputs_after, target_after = detector._split(changed)
    assert inputs.shape[1] == 3 and torch.equal(inputs, inputs_after)
    assert not torch.equal(target, target_after)
    with torch.no_grad():
        assert torch.equal(detector.network_(inputs), detector.network_(inputs_after))


def test_bad_parameters():
    with pytest.raises(ConfigError, match="score_mode='max' is not valid.*one of 'relative'"):
        make_detector("mscred", score_mode="max")
    with pytest.raises(ConfigError, match="target='previous' is not valid.*one of 'last', 'next'"):
        make_detector("mscred", target="previous")
    with pytest.raises(ConfigError, match="use it with target='last'"):
        make_detector("mscred", target="next", loss_steps="all")
    with pytest.raises(
        ConfigError, match="lstm_kernels=.* is not valid.*at least 4 long, at most 4 long"
    ):
        make_detector("mscred", lstm_kernels=(3, 3))
