"""The one training loop of the torch detectors: early stopping, best weights, history, NaN."""

import numpy as np
import pytest
import torch

import mstad.models.mscred.detector as mscred_module
import mstad.models.msflow.detector as msflow_module
import mstad.models.window_net as window_net_module
from mstad.errors import ConfigError
from mstad.models import make_detector
from mstad.models.training import train_with_early_stopping


def test_stops_after_patience_and_restores_the_best_weights():
    module = torch.nn.Linear(1, 1)
    initial = module.weight.item()
    losses = iter([3.0, 1.0, 2.0, 2.5, 0.5])  # best at epoch 2, then 2 worse epochs: stop

    def run_epoch():
        with torch.no_grad():
            module.weight += 1.0  # each epoch changes the weights
        return 1.0

    def validation():
        return next(losses)

    history = train_with_early_stopping(module, "toy", 10, 2, run_epoch, validation)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert [h["val_loss"] for h in history] == [3.0, 1.0, 2.0, 2.5]
    assert all(h["seconds"] >= 0 for h in history)
    assert module.weight.item() == pytest.approx(initial + 2.0)  # epoch 2's, not epoch 4's
    assert module.training is False
    history = train_with_early_stopping(module, "toy", 1, 1, run_epoch, None)  # no validation
    assert module.weight.item() == pytest.approx(initial + 3.0)  # the last epoch's weights
    assert np.isnan(history[0]["val_loss"])


def test_a_nan_loss_stops_with_one_line():
    module = torch.nn.Linear(1, 1)
    with pytest.raises(ConfigError, match="toy: training diverged .*epoch 1.*lower lr"):
        train_with_early_stopping(module, "toy", 3, 1, lambda: float("nan"), None)


@pytest.mark.parametrize(
    ("name", "module", "params"),
    [
        ("mscred", mscred_module, {"windows": (5, 10), "gap": 5, "steps": 3, "epochs": 2}),
        (
            "msflow",
            msflow_module,
            {"window": 16, "stride": 8, "dilations": (1, 1, 1), "epochs": 2, "widths": (8, 8, 8)},
        ),
        ("lstm_ad", window_net_module, {"window": 10, "units": 4, "epochs": 2}),
        ("usad", window_net_module, {"window": 5, "hidden": 4, "epochs": 2}),
        ("tranad", window_net_module, {"window": 5, "epochs": 2}),
        ("omnianomaly", window_net_module, {"window": 8, "hidden": 4, "dense": 4, "epochs": 2}),
    ],
)
def test_torch_detectors_train_through_the_shared_loop(monkeypatch, name, module, params):
    calls = []
    original = module.train_with_early_stopping

    def spy(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "train_with_early_stopping", spy)
    x = np.sin(np.arange(600) / 9)[:, None] + 0.1 * np.random.default_rng(0).normal(size=(600, 3))
    detector = make_detector(name, **params).fit(x)
    assert calls == [name]
    assert 1 <= len(detector.history_) <= 2
    assert set(detector.history_[0]) == {"epoch", "train_loss", "val_loss", "seconds"}
