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
    """Gates = conv_x(x_t) + conv_h(h_{t-1}), the same as one convolution over [x_t, h_{t-1}].

    Split in two so that the input part runs once for all steps (larger, faster matrix products)
    and the hidden part is skipped at t = 0, where h = 0. Both halves are initialised with the
    fan-in of the joint convolution, so the model is the one a single conv would give.
    """

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.channels = channels
        self.pad = same_padding(kernel, 1)
        self.input_conv = nn.Conv2d(channels, 4 * channels, kernel)
        self.hidden_conv = nn.Conv2d(channels, 4 * channels, kernel, bias=False)
        bound = 1 / math.sqrt(2 * channels * kernel * kernel)
        with torch.no_grad():
            for weight in (self.input_conv.weight, self.hidden_conv.weight):
                weight.uniform_(-bound, bound)
            self.input_conv.bias.zero_()
            self.input_conv.bias[channels : 2 * channels].fill_(1.0)  # forget gate

    def input_gates(self, x: torch.Tensor) -> torch.Tensor:
        """Input contribution for all steps at once: ``(B, h, C, H, W) -> (B, h, 4C, H, W)``."""
        return self.input_conv(self.pad(x.flatten(0, 1))).unflatten(0, x.shape[:2])

    def step(self, gates_x: torch.Tensor, state):
        h, c = state
        gates = gates_x if h is None else gates_x + self.hidden_conv(self.pad(h))
        i, f, g, o = gates.chunk(4, dim=1)
        c_new = torch.sigmoid(i) * torch.tanh(g)
        if c is not None:
            c_new = c_new + torch.sigmoid(f) * c
        return torch.sigmoid(o) * torch.tanh(c_new), c_new


def temporal_attention(hidden: torch.Tensor, temperature: float | str = 5.0) -> torch.Tensor:
    """``hidden (B, h, C, H, W)`` -> ``(B, C, H, W)``: steps weighted by similarity to the last."""
    flat = hidden.flatten(2)  # (B, h, C·H·W)
    chi = math.sqrt(flat.shape[-1]) if temperature == "sqrt" else float(temperature)
    scores = torch.einsum("bsd,bd->bs", flat, flat[:, -1]) / chi  # per sample, over steps
    alpha = torch.softmax(scores, dim=1)
    return torch.einsum("bs,bschw->bchw", alpha, hidden)


class AttentionConvLSTM(nn.Module):
    """Runs the cell over each sample's steps; returns (attended output, all hidden states)."""

    def __init__(self, channels: int, kernel: int, temperature: float | str = 5.0):
        super().__init__()
        self.cell = ConvLSTMCell(channels, kernel)
        self.temperature = temperature

    def forward(
        self, x: torch.Tensor, steps: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (R, L, C, H, W)``: runs of ``L`` consecutive inputs, each window of ``steps`` of
        them a sample (default ``L``: one sample per run) -> (attended ``(R·W, C, H, W)``,
        hidden states ``(R·W, steps, C, H, W)``), ``W = L - steps + 1`` samples per run in run
        order. The input gates are computed once per input and shared by the samples that
        overlap it (:meth:`MSCREDNetwork.forward_runs`)."""
        gates = self.cell.input_gates(x)
        steps = x.shape[1] if steps is None else steps
        samples = x.shape[1] - steps + 1
        if samples == 1:
            # unbind, not gates[:, t]: the backward of h slices zero-fills h full-size
            # gradients and adds them up; unbind's backward stacks the step gradients once
            # (1.02-1.10x per training step, benchmarks/results/mscred_log.md section 17)
            per_step = gates.unbind(1)
        else:  # step t of sample j is input j + t
            per_step = [gates[:, t : t + samples].flatten(0, 1) for t in range(steps)]
        state, outputs = (None, None), []
        for gates_t in per_step:  # the recurrence: state carries over the steps
            state = self.cell.step(gates_t, state)
            outputs.append(state[0])
        hidden = torch.stack(outputs, dim=1)
        return temporal_attention(hidden, self.temperature), hidden
