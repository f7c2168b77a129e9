"""Attention ConvLSTM (MSCRED, Zhang et al. AAAI 2019, Eq. 3–4), done as the paper describes.

* Real recurrence over the ``h`` steps of each sample, with a true batch dimension: state is
  ``(B, C, H, W)`` and the cell is applied step after step (the public ports fed the same input
  at every step and used time as the batch).
* No peepholes (the authors' TF code has none; the ports created unregistered, untrained ones).
  Forget-gate bias starts at 1.0 as in TF.
* Attention is per sample: ``α_i = softmax_i(<vec H_h, vec H_i> / χ)`` over the steps only,
  never across the batch; ``χ`` is the paper's 5.0 by default, or ``"sqrt"`` for ``√(C·H·W)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mstad.models.mscred.padding import same_padding


class ConvLSTMCell(nn.Module):
    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.channels = channels
        self.pad = same_padding(kernel, 1)
        self.gates = nn.Conv2d(2 * channels, 4 * channels, kernel)
        with torch.no_grad():
            self.gates.bias.zero_()
            self.gates.bias[channels : 2 * channels].fill_(1.0)  # forget gate

    def forward(self, x, state):
        h, c = state
        i, f, g, o = self.gates(self.pad(torch.cat([x, h], dim=1))).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


def temporal_attention(hidden: torch.Tensor, temperature: float | str = 5.0) -> torch.Tensor:
    """``hidden (B, h, C, H, W)`` -> ``(B, C, H, W)``: steps weighted by similarity to the last."""
    flat = hidden.flatten(2)  # (B, h, C·H·W)
    chi = math.sqrt(flat.shape[-1]) if temperature == "sqrt" else float(temperature)
    scores = torch.einsum("bsd,bd->bs", flat, flat[:, -1]) / chi  # per sample, over steps
    alpha = torch.softmax(scores, dim=1)
    return torch.einsum("bs,bschw->bchw", alpha, hidden)


class AttentionConvLSTM(nn.Module):
    """Runs the cell over ``x (B, h, C, H, W)``; returns (attended output, all hidden states)."""

    def __init__(self, channels: int, kernel: int, temperature: float | str = 5.0):
        super().__init__()
        self.cell = ConvLSTMCell(channels, kernel)
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, steps, channels, height, width = x.shape
        h = x.new_zeros(batch, channels, height, width)
        c = torch.zeros_like(h)
        outputs = []
        for t in range(steps):
            h, c = self.cell(x[:, t], (h, c))
            outputs.append(h)
        hidden = torch.stack(outputs, dim=1)
        return temporal_attention(hidden, self.temperature), hidden
