"""OmniAnomaly: a stochastic recurrent network for multivariate time series anomaly detection
(Su et al., KDD 2019, doi:10.1145/3292500.3330672), after the authors' TensorFlow code:
github.com/NetManAIOps/OmniAnomaly, ``omni_anomaly/model.py``, ``wrapper.py``,
``recurrent_distribution.py`` and ``main.py`` at commit 3da9a2e9792adadef58e292ada348d8dc5ae506d.

On windows of ``window`` steps (min-max scaled on training data):

* q-net: a GRU over ``x`` then two linear layers (the code's ``rnn(..., hidden_dense=2)``: no
  activation) give ``e_t``; ``z_t ~ N(μ(e_t, z_{t−1}), σ(e_t, z_{t−1}))`` (the connected
  posterior, ``RecurrentDistribution``; μ linear, σ = softplus(linear) + 1e-4), then ``flows``
  planar normalising flows (20) on every ``z_t``;
* prior: a linear Gaussian state-space model over ``z_1..z_T`` with identity transition and
  observation matrices and unit noises (the code's ``LinearGaussianStateSpaceModel``; its
  log-density by a Kalman filter, per latent dimension);
* p-net: a GRU over ``z`` and two linear layers, then ``x_t ~ N(μ, softplus(·) + 1e-4)``;
* loss: the negative ELBO (SGVB, one sample), Adam at 1e-3, weight decay standing in for the
  code's L2 regulariser (1e-4), gradient norm clipped at 10, batch 50, up to 10 epochs with
  early stopping on the validation ELBO;
* score: ``−log p(x_t | z)`` of the last step of the window ending at ``t``, per sensor (the
  code's reconstruction probability, and its per-dimension interpretation for ``explain``).

What was simplified, and why:

* ``hidden`` (GRU units) and ``dense`` default to 100, not the code's 500: at 500 one epoch of
  one SMAP channel takes minutes on a 2-core CPU (``benchmarks/deep_throughput.py``); pass
  ``-p hidden=500 -p dense=500`` for the paper's size.
* The latent path of the score is the posterior mean (noise 0) instead of one random sample, so
  a series scores the same every time, streamed or batched; training samples as the paper.
* The code's two ``tf.scan`` loops run with ``back_prop=False``, so its q-net receives no
  gradient, and its ``log_prob_step`` conditions ``z_t`` on itself instead of on ``z_{t−1}``;
  here the posterior is trained by reparameterisation and conditioned on ``z_{t−1}`` in both,
  as the paper describes. Sampling noise is Gaussian, not truncated.
* The code rescales the test split with its own min and max (``MinMaxScaler().fit_transform``
  on test); here test data is scaled with the training statistics.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from mstad.models.device import TRAINING_SPECS
from mstad.models.registry import register
from mstad.models.window_net import WindowNet
from mstad.params import spec

STD_EPSILON = 1e-4
LOG_2PI = math.log(2 * math.pi)


def normal_log_prob(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return -0.5 * LOG_2PI - torch.log(std) - 0.5 * ((x - mean) / std) ** 2


def random_walk_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log p(z_1..z_T)`` ``[B]`` under the state-space prior: state ``s_1 ~ N(0, 1)``,
    ``s_t = s_{t−1} + N(0, 1)``, ``z_t = s_t + N(0, 1)``, per dimension (Kalman filter; the
    variances do not depend on the data)."""
    mean = torch.zeros_like(z[:, 0])
    state_var, total = 1.0, torch.zeros(len(z), dtype=z.dtype, device=z.device)
    for t in range(z.shape[1]):
        var = state_var + 1.0  # of z_t given z_<t
        total = total + normal_log_prob(z[:, t], mean, torch.tensor(math.sqrt(var))).sum(-1)
        gain = state_var / var
        mean = mean + gain * (z[:, t] - mean)
        state_var = (1 - gain) * state_var + 1.0  # posterior, then one transition
    return total


class PlanarFlows(nn.Module):
    """``f(z) = z + û·tanh(wᵀz + b)`` stacked, with ``û`` constrained so each is invertible
    (Rezende & Mohamed 2015, as tfsnippet's ``planar_normalizing_flows``)."""

    def __init__(self, dim: int, layers: int):
        super().__init__()
        self.u = nn.Parameter(torch.randn(layers, dim) * 0.01)
        self.w = nn.Parameter(torch.randn(layers, dim) * 0.01)
        self.b = nn.Parameter(torch.zeros(layers))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z [..., dim]`` → ``f(z)`` and ``Σ log|det ∂f/∂z|`` ``[...]``."""
        log_det = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
        for u, w, b in zip(self.u, self.w, self.b, strict=True):
            wu = w @ u
            u_hat = u + (F.softplus(wu) - 1 - wu) * w / (w @ w + 1e-12)
            activation = torch.tanh(z @ w + b)
            z = z + activation[..., None] * u_hat
            psi = (1 - activation**2)[..., None] * w
            log_det = log_det + torch.log((1 + psi @ u_hat).abs() + 1e-12)
        return z, log_det


class Recurrent(nn.Module):
    """The code's ``rnn``: a GRU, then two linear layers without activation."""

    def __init__(self, n_inputs: int, hidden: int, dense: int):
        super().__init__()
        self.gru = nn.GRU(n_inputs, hidden, batch_first=True)
        self.dense = nn.Sequential(nn.Linear(hidden, dense), nn.Linear(dense, dense))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.gru(x)[0])


class OmniAnomalyNetwork(nn.Module):
    def __init__(self, n_sensors: int, latent: int, hidden: int, dense: int, flows: int):
        super().__init__()
        self.q_rnn = Recurrent(n_sensors, hidden, dense)
        self.q_mean = nn.Linear(dense + latent, latent)
        self.q_std = nn.Linear(dense + latent, latent)
        self.flows = PlanarFlows(latent, flows)
        self.p_rnn = Recurrent(latent, hidden, dense)
        self.x_mean = nn.Linear(dense, n_sensors)
        self.x_std = nn.Linear(dense, n_sensors)
        self.latent = latent

    def posterior(self, x: torch.Tensor, sample: bool):
        """``z_0`` path of the connected posterior ``[B, T, latent]`` and its log-density."""
        e = self.q_rnn(x)
        z = torch.zeros(len(x), self.latent, dtype=x.dtype, device=x.device)
        path, log_q = [], torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for t in range(x.shape[1]):
            h = torch.cat([e[:, t], z], dim=-1)
            mean, std = self.q_mean(h), F.softplus(self.q_std(h)) + STD_EPSILON
            z = mean + std * torch.randn_like(std) if sample else mean
            log_q = log_q + normal_log_prob(z, mean, std).sum(-1)
            path.append(z)
        return torch.stack(path, dim=1), log_q

    def reconstruction(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log p(x | z)`` per step and sensor ``[B, T, D]``."""
        h = self.p_rnn(z)
        return normal_log_prob(x, self.x_mean(h), F.softplus(self.x_std(h)) + STD_EPSILON)

    def negative_elbo(self, x: torch.Tensor) -> torch.Tensor:
        z0, log_q0 = self.posterior(x, sample=True)
        z, log_det = self.flows(z0)
        log_q = log_q0 - log_det.sum(-1)
        log_joint = self.reconstruction(z, x).sum((1, 2)) + random_walk_log_prob(z)
        return -(log_joint - log_q)  # [B]

    def last_step_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z, _ = self.flows(self.posterior(x, sample=False)[0])
        return self.reconstruction(z, x)[:, -1]


@register
class OmniAnomaly(WindowNet):
    name = "omnianomaly"
    scaling = "minmax"
    param_specs = {
        **TRAINING_SPECS,
        "window": spec(ge=2),
        "latent": spec(ge=1),
        "hidden": spec(ge=1),
        "dense": spec(ge=1),
        "flows": spec(ge=0),
        "l2": spec(ge=0),
        "clip": spec(gt=0),
    }

    def __init__(
        self,
        window: int = 100,
        latent: int = 3,
        hidden: int = 100,
        dense: int = 100,
        flows: int = 20,
        epochs: int = 10,
        batch_size: int = 50,
        lr: float = 1e-3,
        l2: float = 1e-4,
        clip: float = 10.0,
        patience: int = 3,
        device: str = "auto",
        seed: int = 0,
    ):
        self.window = window
        self.latent = latent
        self.hidden = hidden
        self.dense = dense
        self.flows = flows
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.l2 = l2
        self.clip = clip
        self.patience = patience
        self.device = device
        self.seed = seed

    def _network(self) -> nn.Module:
        return OmniAnomalyNetwork(self.n_sensors_, self.latent, self.hidden, self.dense, self.flows)

    def _optimisers(self) -> list[torch.optim.Optimizer]:
        # the gradient of l2·‖θ‖² is 2·l2·θ
        return [torch.optim.Adam(self.net_.parameters(), lr=self.lr, weight_decay=2 * self.l2)]

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        return self.net_.negative_elbo(x).mean()

    @property
    def clip_norm(self) -> float:  # type: ignore[override]
        return self.clip

    def _validation_loss(self, x: torch.Tensor) -> torch.Tensor:
        return self._loss(x)  # the code's validation loss: the same negative ELBO

    def _errors(self, x: torch.Tensor) -> torch.Tensor:
        return -self.net_.last_step_log_prob(x)
