"""LSTM-AD: telemanom's LSTM forecaster with smoothed prediction errors (Hundman et al., KDD 2018,
"Detecting spacecraft anomalies using LSTMs and nonparametric dynamic thresholding",
doi:10.1145/3219819.3219845), after the authors' code: github.com/khundman/telemanom,
``telemanom/modeling.py``, ``telemanom/errors.py`` and ``config.yaml`` at commit
1ee04aabdd38877a56ebc032df43bad5dbb4de4e — the method that came with the SMAP/MSL data.

* Inputs: the ``window`` (``l_s`` = 250) steps before ``t`` of every sensor, command flags
  included, standardised with training statistics.
* Network: two LSTM layers of 80 units, dropout 0.3 after each, a linear layer to the next
  ``horizon`` (``n_predictions`` = 10) values of each target sensor; MSE, Adam, batch 64, up to
  35 epochs, early stopping with patience 10 on the validation tail (the code's 20 %
  ``validation_split``).
* Targets: telemanom forecasts one telemetry value per channel; for a multi-sensor entity the
  targets are its continuous sensors (``inputs="continuous"``, flags are inputs only; ``"all"``
  forecasts every sensor) — one model per entity, as telemanom has one per channel.
* Errors: ``|x̂_t − x_t|`` of the one-step-ahead forecast (the code's ``aggregate_predictions``
  with ``method="first"``), smoothed per sensor by an EWMA of span ``smoothing`` (105 =
  ``batch_size · window_size · smoothing_perc`` = 70 · 30 · 0.05); score = their sum over
  targets; ``explain`` = each target's smoothed error (0 for sensors that are inputs only).
  Before smoothing, an error is bounded at :data:`ERROR_BOUND` training standard deviations (an
  absurd input value, or the network overflowing on one): pandas' EWMA skips +inf as if it were
  missing, so the overflow would never alarm; bounded, it alarms, and the smoothed error falls
  back ``≈ ln(ERROR_BOUND)·span/2`` steps after the value ends (~730 steps at span 105). A
  departure that real anomalies do not meet: telemanom's inputs are scaled to [−1, 1], where
  such errors cannot occur.
* Threshold: telemanom's non-parametric dynamic threshold with its pruning is a thresholder,
  ``--threshold ndt`` (:class:`mstad.models.thresholds.NDT`), fitted on validation scores.

Departures, all deliberate: the targets above (the code's is dimension 0); the best validation
weights are restored (Keras keeps the last ones) and ``min_delta`` (3e-4) is not used (at worst
training stops later); the first ``window`` steps are forecast from first-row padding instead of
being left unscored, and their errors are not replaced by an average of later ones (the code's
``e_s[:l_s] = mean(e_s[:2·l_s])`` reads the future).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mstad.features.columns import INPUTS, input_columns
from mstad.models.device import TRAINING_SPECS
from mstad.models.registry import register
from mstad.models.smoothing import smoothed
from mstad.models.streaming import StreamContext
from mstad.models.window_net import WindowNet
from mstad.params import spec

#: the largest prediction error (in training standard deviations) the EWMA sees; see above
ERROR_BOUND = 1e6


class Forecaster(nn.Module):
    """Two stacked LSTMs, dropout after each, a linear head to ``horizon × targets`` values."""

    def __init__(self, n_inputs: int, n_targets: int, units: int, horizon: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, units, num_layers=2, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(units, horizon * n_targets)
        self.shape = (horizon, n_targets)

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        """``past [B, L, D]`` → forecasts ``[B, horizon, targets]``."""
        out, _ = self.lstm(past)
        return self.head(self.dropout(out[:, -1])).reshape(-1, *self.shape)


@register
class LSTMAD(WindowNet):
    name = "lstm_ad"
    extra_state_shapes = {"columns": ("C",)}
    param_specs = {
        **TRAINING_SPECS,
        "window": spec(ge=1),
        "horizon": spec(ge=1),
        "units": spec(ge=1),
        "dropout": spec(ge=0, lt=1),
        "smoothing": spec(ge=0),
        "inputs": spec(choices=INPUTS),
    }

    def __init__(
        self,
        window: int = 250,
        horizon: int = 10,
        units: int = 80,
        dropout: float = 0.3,
        smoothing: int = 105,
        inputs: str = "continuous",
        epochs: int = 35,
        batch_size: int = 64,
        lr: float = 1e-3,
        patience: int = 10,
        device: str = "auto",
        seed: int = 0,
    ):
        self.window = window
        self.horizon = horizon
        self.units = units
        self.dropout = dropout
        self.smoothing = smoothing
        self.inputs = inputs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.device = device
        self.seed = seed

    # a step's example: the window before it, then the step itself (and, in training, the
    # horizon's later steps as targets)
    @property
    def _pad(self) -> int:
        return self.window

    @property
    def _train_length(self) -> int:
        return self.window + self.horizon

    @property
    def _score_length(self) -> int:
        return self.window + 1

    def _fit_columns(self, train: np.ndarray) -> None:
        self.columns_ = input_columns(train, self.inputs, self.flags_)

    def _network(self) -> nn.Module:
        return Forecaster(
            self.n_sensors_, len(self.columns_), self.units, self.horizon, self.dropout
        )

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        columns = torch.as_tensor(self.columns_, device=x.device)
        return x[:, : self.window], x[:, self.window :, columns]

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        past, future = self._split(x)
        return ((self.net_(past) - future) ** 2).mean()

    def _validation_loss(self, x: torch.Tensor) -> torch.Tensor:
        return self._loss(x)  # Keras' val_loss: the training loss on the held-out tail

    def _errors(self, x: torch.Tensor) -> torch.Tensor:
        past, now = self._split(x)
        errors = torch.zeros(len(x), self.n_sensors_, dtype=x.dtype, device=x.device)
        errors[:, torch.as_tensor(self.columns_, device=x.device)] = (
            self.net_(past)[:, 0] - now[:, 0]
        ).abs()
        return errors

    def _smooth(self, errors: np.ndarray) -> np.ndarray:
        if self.smoothing <= 1:
            return errors
        return smoothed(np.minimum(errors, ERROR_BOUND), self.smoothing)  # +inf included

    def stream_context(self) -> StreamContext | None:
        return None if self.smoothing > 1 else super().stream_context()

    def stream_refusal(self) -> str:
        return (
            "telemanom's EWMA smoothing reads every earlier error of the series; fit with "
            "-p smoothing=0 to stream, or score batches with `mstad score`"
        )

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), "columns": self.columns_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.columns_ = state["columns"]
