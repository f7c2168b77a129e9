"""USAD: UnSupervised Anomaly Detection on multivariate time series (Audibert et al., KDD 2020,
doi:10.1145/3394486.3403392), after the authors' code: github.com/manigalati/usad, ``usad.py``
and ``USAD.ipynb`` at commit 0b94354bc16f375ff6b19b270799a8bc7d2dffa1.

One encoder E and two decoders D1, D2 on flattened windows of ``window`` steps (min-max scaled
on training data; decoders end in a sigmoid). AE1 = D1∘E, AE2 = D2∘E. In epoch ``n``:

* AE1 minimises ``1/n·‖W − AE1(W)‖² + (1 − 1/n)·‖W − AE2(AE1(W))‖²``,
* AE2 minimises ``1/n·‖W − AE2(W)‖² − (1 − 1/n)·‖W − AE2(AE1(W))‖²``,

each with its own Adam optimiser, one after the other on every batch (the adversarial game:
AE2 learns to tell real windows from AE1's reconstructions, AE1 to fool it). Score of a window
``α·‖W − AE1(W)‖² + β·‖W − AE2(AE1(W))‖²`` (α = β = 0.5), here per sensor (the terms of the
window's sensors), assigned to the window's last step. Layer sizes as the code: ``in → in/2 →
in/4 → latent`` with ReLU, and back with a final sigmoid; ``latent = window · hidden``
(the notebook's ``z_size``).

Departures, all deliberate: early stopping on AE1's validation reconstruction error (the
notebook trains a fixed 100 epochs and keeps the last weights; here ``patience`` epochs
without a better one stop it and the best weights are restored); mini-batches of 512 instead
of the notebook's 7,919 (one full batch per epoch on most entities here, which leaves AE2
nearly untrained after 100 steps); every step gets a window (first-row padding) instead of
dropping the first ``window - 1`` steps.
"""

from __future__ import annotations

import torch
from torch import nn

from mstad.models.device import TRAINING_SPECS
from mstad.models.registry import register
from mstad.models.window_net import WindowNet
from mstad.params import spec


def _mlp(sizes: list[int], last: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers += [nn.Linear(a, b), last if k == len(sizes) - 2 else nn.ReLU()]
    return nn.Sequential(*layers)


class USADNetwork(nn.Module):
    def __init__(self, n_inputs: int, latent: int):
        super().__init__()
        half, quarter = max(1, n_inputs // 2), max(1, n_inputs // 4)
        self.encoder = _mlp([n_inputs, half, quarter, latent], nn.ReLU())
        self.decoder1 = _mlp([latent, quarter, half, n_inputs], nn.Sigmoid())
        self.decoder2 = _mlp([latent, quarter, half, n_inputs], nn.Sigmoid())

    def forward(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """AE1(W), AE2(W), AE2(AE1(W))."""
        z = self.encoder(w)
        w1, w2 = self.decoder1(z), self.decoder2(z)
        return w1, w2, self.decoder2(self.encoder(w1))


@register
class USAD(WindowNet):
    name = "usad"
    scaling = "minmax"
    param_specs = {
        **TRAINING_SPECS,
        "window": spec(ge=1),
        "hidden": spec(ge=1),
        "alpha": spec(ge=0),
        "beta": spec(ge=0),
    }

    def __init__(
        self,
        window: int = 12,
        hidden: int = 100,
        alpha: float = 0.5,
        beta: float = 0.5,
        epochs: int = 100,
        batch_size: int = 512,
        lr: float = 1e-3,
        patience: int = 10,
        device: str = "auto",
        seed: int = 0,
    ):
        if alpha + beta <= 0:
            raise ValueError("alpha + beta must be > 0")
        self.window = window
        self.hidden = hidden
        self.alpha = alpha
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.device = device
        self.seed = seed

    def _network(self) -> nn.Module:
        return USADNetwork(self.window * self.n_sensors_, self.window * self.hidden)

    def _optimisers(self) -> list[torch.optim.Optimizer]:
        net = self.net_
        return [
            torch.optim.Adam([*net.encoder.parameters(), *net.decoder1.parameters()], lr=self.lr),
            torch.optim.Adam([*net.encoder.parameters(), *net.decoder2.parameters()], lr=self.lr),
        ]

    def _train_batch(self, x: torch.Tensor) -> float:
        w, n = x.flatten(1), self.epoch_ + 1
        first, second = self.optimisers_
        w1, _, w3 = self.net_(w)
        loss1 = ((w - w1) ** 2).mean() / n + (1 - 1 / n) * ((w - w3) ** 2).mean()
        first.zero_grad()
        loss1.backward()
        first.step()
        _, w2, w3 = self.net_(w)
        loss2 = ((w - w2) ** 2).mean() / n - (1 - 1 / n) * ((w - w3) ** 2).mean()
        second.zero_grad()
        loss2.backward()
        second.step()
        return loss1.item()

    def _validation_loss(self, x: torch.Tensor) -> torch.Tensor:
        """AE1's reconstruction error: what both losses start from and what keeps falling while
        the two autoencoders play their game (the score's AE2∘AE1 term grows by design)."""
        w = x.flatten(1)
        return ((w - self.net_(w)[0]) ** 2).mean()

    def _errors(self, x: torch.Tensor) -> torch.Tensor:
        w = x.flatten(1)
        w1, _, w3 = self.net_(w)
        per_entry = self.alpha * (w - w1) ** 2 + self.beta * (w - w3) ** 2
        return per_entry.reshape(x.shape).mean(dim=1)  # [B, D]: each sensor's share
