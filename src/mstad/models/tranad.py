"""TranAD: deep transformer networks for anomaly detection in multivariate time series (Tuli,
Casale & Jennings, VLDB 2022, doi:10.14778/3514061.3514067), after the authors' code:
github.com/imperial-qore/TranAD, ``src/models.py`` (class ``TranAD``), ``src/dlutils.py`` and
``main.py`` at commit 4e458436607ac432336dd5174faf5234dd9434b5 (``dlutils`` 4a0b1c98).

A window ``W`` of ``window`` steps (min-max scaled on training data) and its last step ``w``:

* encoder: ``[W, F]`` (the window and a focus score ``F``, concatenated to ``2·D`` channels,
  times ``√D``, plus the code's positional encoding — sine *and* cosine added on every channel)
  through one transformer encoder layer with ``D`` heads;
* phase 1: ``F = 0``; decoder 1 (one transformer decoder layer, query ``w`` repeated to ``2·D``)
  and a sigmoid head give ``O1``;
* phase 2 (self-conditioning): ``F = (O1 − W)²``; decoder 2 gives ``Ô2``.

Training (the code): in epoch ``n`` the loss is ``1/n·‖O1 − w‖² + (1 − 1/n)·‖Ô2 − w‖²``, AdamW
(weight decay 1e-5) with the learning rate decayed by 0.9 every 5 epochs, batch 128, 5 epochs.
Score (the paper, eq. 13): ``½‖O1 − w‖² + ½‖Ô2 − w‖²`` per sensor — the adversarial focus score's
two phases — on the last step of the window that ends at each step.

The layers are the code's own (``dlutils``): no layer norm, and ``nn.LeakyReLU(True)`` as the
feed-forward activation, which sets a negative slope of 1 (a linear activation); kept as they
are, since the published figures come from them.

Departures, all deliberate: the paper's adversarial two-decoder min-max training is replaced by
the code's weighted sum (as the published figures were made); the score uses both phases (the
paper) where the code uses phase 2 only; early stopping on the validation loss with best weights
restored (the code trains 5 epochs and keeps the last); the window ending at step ``t`` includes
``t`` (the code's ``convert_to_windows`` ends it at ``t − 1`` for ``t ≥ window``); learning rate
1e-3, the authors' value for SMAP (theirs range 1e-4 – 9e-3 by data set).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mstad.models.device import TRAINING_SPECS
from mstad.models.registry import register
from mstad.models.window_net import WindowNet
from mstad.params import spec


class PositionalEncoding(nn.Module):
    """The code's encoding: ``sin + cos`` of every channel's frequency (not interleaved)."""

    def __init__(self, d_model: int, dropout: float, max_len: int):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(d_model).float() * (-math.log(10000.0) / d_model))
        pe = torch.sin(position * div) + torch.cos(position * div)
        self.register_buffer("pe", pe[:, None, :])  # [L, 1, d]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[: x.size(0)])


class EncoderLayer(nn.Module):
    """``dlutils.TransformerEncoderLayer``: attention and feed-forward residuals, no norm."""

    def __init__(self, d_model: int, heads: int, feedforward: int, dropout: float):
        super().__init__()
        self.attention = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, feedforward),
            nn.LeakyReLU(True),  # negative_slope=True == 1.0, as in the code
            nn.Dropout(dropout),
            nn.Linear(feedforward, d_model),
        )
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        src = src + self.drop1(self.attention(src, src, src, need_weights=False)[0])
        return src + self.drop2(self.feedforward(src))


class DecoderLayer(nn.Module):
    """``dlutils.TransformerDecoderLayer``: self-attention, cross-attention, feed-forward."""

    def __init__(self, d_model: int, heads: int, feedforward: int, dropout: float):
        super().__init__()
        self.self_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.cross_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, feedforward),
            nn.LeakyReLU(True),
            nn.Dropout(dropout),
            nn.Linear(feedforward, d_model),
        )
        self.drops = nn.ModuleList(nn.Dropout(dropout) for _ in range(3))

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        tgt = tgt + self.drops[0](self.self_attention(tgt, tgt, tgt, need_weights=False)[0])
        attended = self.cross_attention(tgt, memory, memory, need_weights=False)[0]
        tgt = tgt + self.drops[1](attended)
        return tgt + self.drops[2](self.feedforward(tgt))


class TranADNetwork(nn.Module):
    def __init__(self, n_sensors: int, window: int, feedforward: int, dropout: float):
        super().__init__()
        d_model = 2 * n_sensors
        self.n_sensors = n_sensors
        self.position = PositionalEncoding(d_model, dropout, window)
        self.encoder = EncoderLayer(d_model, n_sensors, feedforward, dropout)
        self.decoder1 = DecoderLayer(d_model, n_sensors, feedforward, dropout)
        self.decoder2 = DecoderLayer(d_model, n_sensors, feedforward, dropout)
        self.head = nn.Sequential(nn.Linear(d_model, n_sensors), nn.Sigmoid())

    def _decode(self, decoder: DecoderLayer, src, focus, tgt) -> torch.Tensor:
        memory = self.encoder(self.position(torch.cat([src, focus], 2) * math.sqrt(self.n_sensors)))
        return self.head(decoder(tgt.repeat(1, 1, 2), memory))

    def forward(self, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``window [B, L, D]`` → ``O1, Ô2`` for its last step, each ``[B, D]``."""
        src = window.transpose(0, 1)  # [L, B, D], the code's layout
        tgt = src[-1:]
        x1 = self._decode(self.decoder1, src, torch.zeros_like(src), tgt)
        x2 = self._decode(self.decoder2, src, (x1 - src) ** 2, tgt)
        return x1[0], x2[0]


@register
class TranAD(WindowNet):
    name = "tranad"
    scaling = "minmax"
    param_specs = {
        **TRAINING_SPECS,
        "window": spec(ge=1),
        "feedforward": spec(ge=1),
        "dropout": spec(ge=0, lt=1),
        "weight_decay": spec(ge=0),
        "lr_step": spec(ge=1),
        "lr_gamma": spec(gt=0, le=1),
    }

    def __init__(
        self,
        window: int = 10,
        feedforward: int = 16,
        dropout: float = 0.1,
        epochs: int = 5,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        lr_step: int = 5,
        lr_gamma: float = 0.9,
        patience: int = 3,
        device: str = "auto",
        seed: int = 0,
    ):
        self.window = window
        self.feedforward = feedforward
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_step = lr_step
        self.lr_gamma = lr_gamma
        self.patience = patience
        self.device = device
        self.seed = seed

    def _network(self) -> nn.Module:
        return TranADNetwork(self.n_sensors_, self.window, self.feedforward, self.dropout)

    def _optimisers(self) -> list[torch.optim.Optimizer]:
        optimiser = torch.optim.AdamW(
            self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        self.schedule_ = torch.optim.lr_scheduler.StepLR(optimiser, self.lr_step, self.lr_gamma)
        return [optimiser]

    def _end_epoch(self) -> None:
        self.schedule_.step()

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.net_(x)
        last, n = x[:, -1], self.epoch_ + 1
        return ((x1 - last) ** 2).mean() / n + (1 - 1 / n) * ((x2 - last) ** 2).mean()

    def _errors(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.net_(x)
        last = x[:, -1]
        return 0.5 * (x1 - last) ** 2 + 0.5 * (x2 - last) ** 2
