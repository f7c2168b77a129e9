"""The deep baselines (lstm_ad, usad, tranad, omnianomaly): shapes for the sensor counts of the
benchmark data, training that learns, an AUROC floor on an injected shift, and each paper's
defining piece checked on its own. Save/load, seeds, input checks and calibration: the contract
(tests/models/test_contract.py) holds them to it with the FAST configs."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mstad.models import Detector, make_detector
from mstad.models.calibration import CAP
from mstad.models.lstm_ad import ERROR_BOUND
from mstad.models.omnianomaly import PlanarFlows, random_walk_log_prob
from mstad.models.window_net import padded_examples
from tests.models.test_contract import FAST

DEEP = ("lstm_ad", "usad", "tranad", "omnianomaly")
#: learns the toy signal within these epochs (tiny networks, 2 CPU cores)
LEARN = {
    "lstm_ad": {"window": 20, "horizon": 2, "units": 16, "epochs": 8, "smoothing": 10},
    "usad": {"window": 5, "hidden": 8, "epochs": 60, "batch_size": 32},
    "tranad": {"window": 5, "epochs": 8, "batch_size": 32},
    "omnianomaly": {"window": 10, "hidden": 16, "dense": 16, "flows": 2, "epochs": 6},
}


def sensors(n: int, steps: int = 900, seed: int = 0) -> np.ndarray:
    """``n`` sinusoids with their own phases and gains plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    return np.sin(2 * np.pi * t / 40 + rng.uniform(0, 6, n)) * rng.uniform(0.5, 2, n) + 0.1 * (
        rng.normal(size=(steps, n))
    )


@pytest.mark.parametrize("name", DEEP)
@pytest.mark.parametrize("n", [25, 38, 55])
def test_one_score_and_one_explanation_row_per_step_for_25_38_and_55_sensors(name, n):
    x = sensors(n, steps=300).astype(np.float32)
    detector = make_detector(name, **{**FAST[name], "epochs": 1}).fit(x[:200])
    assert detector.score(x[200:]).shape == (100,)
    explained = detector.explain(x[200:])
    assert explained.shape == (100, n) and np.isfinite(explained).all()
    np.testing.assert_allclose(explained.sum(axis=1), detector.raw_score(x[200:]), rtol=1e-9)


@pytest.fixture(scope="module", params=DEEP)
def learned(request):
    name = request.param
    x = sensors(4, seed=1)
    test = sensors(4, steps=600, seed=2)
    test[300:340, 1] += 3.0  # a level shift on one sensor
    return name, make_detector(name, **LEARN[name]).fit(x), test


def test_training_learns_the_normal_data(learned):
    name, detector, _ = learned
    validation = [h["val_loss"] for h in detector.history_]
    assert min(validation) < validation[0] - 0.05 * abs(validation[0]), (name, validation)
    if name != "usad":  # USAD's AE1 loss grows with the epoch by design (its adversarial term)
        losses = [h["train_loss"] for h in detector.history_]
        assert losses[-1] < losses[0], (name, losses)


def test_an_injected_shift_is_found_and_blamed_on_its_sensor(learned):
    name, detector, test = learned
    labels = np.zeros(len(test), bool)
    labels[300:340] = True
    assert roc_auc_score(labels, detector.score(test)) > 0.8, name
    blame = detector.explain(test)[300:340].sum(axis=0)
    assert int(np.argmax(blame)) == 1, (name, blame)


def test_a_reloaded_model_scores_on_the_cpu_as_it_was_saved(learned, tmp_path):
    name, detector, test = learned
    detector.save(tmp_path / name)
    assert (tmp_path / name / "net.pt").is_file()
    loaded = Detector.load(tmp_path / name)
    np.testing.assert_array_equal(loaded.score(test), detector.score(test))
    np.testing.assert_array_equal(loaded.explain(test), detector.explain(test))


def test_every_step_gets_the_window_that_ends_at_it():
    series = np.arange(12, dtype=np.float32).reshape(6, 2)
    examples = padded_examples(series, 3, 2)
    assert examples.shape == (6, 3, 2)
    np.testing.assert_array_equal(examples[0, :, 0], [0, 0, 0])  # first row repeated
    np.testing.assert_array_equal(examples[4, :, 0], [4, 6, 8])  # steps 2, 3, 4
    forecaster = padded_examples(series, 4, 3)  # lstm_ad: 3 rows before, then the step
    assert forecaster.shape == (6, 4, 2) and forecaster[5, -1, 0] == 10


def test_a_sensor_constant_in_training_moves_only_when_it_leaves_its_value():
    x = sensors(3)
    x[:, 2] = 5.0
    detector = make_detector("tranad", **LEARN["tranad"]).fit(x)
    assert np.isfinite(detector.score(x)).all()
    assert detector.scaler_.span[2] == 1.0
    shifted = x.copy()
    shifted[400:420, 2] = 6.0
    assert detector.explain(shifted)[400:420, 2].mean() > 5 * detector.explain(x)[400:420, 2].mean()


def test_lstm_ad_forecasts_the_continuous_sensors_from_every_input():
    x = sensors(3)
    x[:, 2] = (np.arange(len(x)) // 50) % 2  # a command flag: an input, not a target
    detector = make_detector("lstm_ad", **FAST["lstm_ad"]).fit(x)
    assert detector.columns_.tolist() == [0, 1]
    assert detector.net_.lstm.input_size == 3
    assert (detector.explain(x)[:, 2] == 0).all()


def test_lstm_ad_alarms_at_an_absurd_value_and_comes_back_after_it():
    # pandas' EWMA skips +inf as if missing: unbounded, the overflow was never flagged
    x = sensors(2)
    detector = make_detector("lstm_ad", **FAST["lstm_ad"]).fit(x)
    test = x[:600].copy()
    test[100, 0] = 3e38  # near float32's largest: its scaled error overflows to +inf
    raw = detector.raw_score(test)
    assert raw[100] == pytest.approx(ERROR_BOUND * 2 / (detector.smoothing + 1), rel=1e-3)
    normal = detector.raw_score(x[:600])
    assert raw[-100:].max() < 2 * normal.max()  # smoothed errors back to their usual size
    score = detector.score(test)
    assert score[100] > 0.9 * CAP and score[-100:].max() < CAP


def test_the_state_space_prior_is_the_kalman_likelihood_of_a_random_walk_plus_noise():
    z = torch.tensor([[[0.3], [-0.2], [1.1]]], dtype=torch.float64)
    # z = s + e, s a random walk from N(0, 1) with unit steps, e ~ N(0, 1): cov(z_i, z_j) =
    # min(i, j) + 1 (state) + [i == j] (noise)
    cov = torch.tensor([[2.0, 1.0, 1.0], [1.0, 3.0, 2.0], [1.0, 2.0, 4.0]], dtype=torch.float64)
    exact = torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64), cov)
    assert random_walk_log_prob(z).item() == pytest.approx(exact.log_prob(z[0, :, 0]).item())


def test_planar_flows_report_their_log_determinant():
    torch.manual_seed(0)
    flows = PlanarFlows(3, 4).double()
    with torch.no_grad():
        flows.u.normal_()
        flows.w.normal_()
    z = torch.randn(3, dtype=torch.float64)
    _, log_det = flows(z[None])
    jacobian = torch.autograd.functional.jacobian(lambda v: flows(v[None])[0][0], z)
    assert log_det.item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), abs=1e-9)


def test_denormals_are_flushed_only_while_a_deep_model_works():
    tiny = np.nextafter(0.0, 1.0)  # a denormal: equal to 0 where denormals are flushed
    make_detector("tranad", **FAST["tranad"]).fit(sensors(3, steps=200))
    assert tiny > 0.0  # NumPy's arithmetic after fitting is the default again
