"""The MSCRED network: conv encoder → attention ConvLSTM per level → deconv decoder with skips.

Input ``(B, h, S, n, n)`` float32 (h steps of S-scale signature matrices); output the
reconstruction ``(B, S, n, n)`` of the last step, or of every step (``(B, h, S, n, n)``) with
``all_steps=True`` (the paper's loss). Sizes follow TF "SAME" padding for any ``n``:
``n → n → ⌈n/2⌉ → ⌈n/4⌉ → ⌈n/8⌉``; each transposed conv is cropped back to its level's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mstad.models.mscred.convlstm import AttentionConvLSTM, temporal_attention
from mstad.models.mscred.padding import same_padding, same_size

WIDTHS = (32, 64, 128, 256)  # the paper's channels per level (width = 32)
ENCODER = ((3, 1), (3, 2), (2, 2), (2, 2))  # (kernel, stride) per level, as in the paper


def run_samples(runs: torch.Tensor, steps: int) -> torch.Tensor:
    """The samples of ``steps`` consecutive matrices inside ``runs (R, L, S, n, n)``, in run
    order: ``(R·(L − steps + 1), steps, S, n, n)`` (``runs`` itself when ``L = steps``, which
    keeps the graph exportable: ``unfold`` has no ONNX export)."""
    if runs.shape[1] == steps:
        return runs
    return runs.unfold(1, steps, 1).movedim(-1, 2).flatten(0, 1)


class MSCREDNetwork(nn.Module):
    def __init__(
        self,
        n_sensors: int,
        n_scales: int = 3,
        lstm_kernels: Sequence[int] = (3, 3, 2, 2),
        temperature: float | str = 5.0,
        width: int = 32,
        forecast_steps: int = 0,
    ):
        super().__init__()
        widths = [w * width // WIDTHS[0] for w in WIDTHS]  # channels per level, 1:2:4:8
        self.sizes = [n_sensors]
        encoder = []
        in_channels = n_scales
        for channels, (kernel, stride) in zip(widths, ENCODER, strict=True):
            size = self.sizes[-1]
            encoder.append(
                nn.Sequential(
                    same_padding(kernel, stride, size),
                    nn.Conv2d(in_channels, channels, kernel, stride),
                    nn.SELU(),
                )
            )
            self.sizes.append(same_size(size, stride))
            in_channels = channels
        self.sizes = self.sizes[1:]  # output size of each level
        self.encoder = nn.ModuleList(encoder)
        self.lstms = nn.ModuleList(
            AttentionConvLSTM(w, k, temperature) for w, k in zip(widths, lstm_kernels, strict=True)
        )
        c1, c2, c3, c4 = widths
        self.deconv4 = nn.ConvTranspose2d(c4, c3, 2, 2)
        self.deconv3 = nn.ConvTranspose2d(2 * c3, c2, 2, 2)
        self.deconv2 = nn.ConvTranspose2d(2 * c2, c1, 3, 2)
        self.deconv1 = nn.Sequential(same_padding(3, 1), nn.Conv2d(2 * c1, n_scales, 3))
        self.act = nn.SELU()
        # a linear autoregression of every entry over the input steps (one 1 × 1 convolution,
        # shared by all entries, starting at zero), added to the forecast: the network learns
        # what a linear forecast misses (``MSCRED(linear_forecast=True)``)
        self.linear = None
        if forecast_steps:
            self.linear = nn.Conv2d(forecast_steps * n_scales, n_scales, 1)
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def _crop(self, x: torch.Tensor, size: int) -> torch.Tensor:
        return x[..., :size, :size]

    def decode(self, attended: Sequence[torch.Tensor]) -> torch.Tensor:
        a1, a2, a3, a4 = attended
        d = self.act(self._crop(self.deconv4(a4), self.sizes[2]))
        d = self.act(self._crop(self.deconv3(torch.cat([d, a3], 1)), self.sizes[1]))
        d = self.act(self._crop(self.deconv2(torch.cat([d, a2], 1)), self.sizes[0]))
        return self.act(self.deconv1(torch.cat([d, a1], 1)))

    def forward(self, x: torch.Tensor, all_steps: bool = False) -> torch.Tensor:
        return self.forward_runs(x, x.shape[1], all_steps)

    def forward_runs(self, runs: torch.Tensor, steps: int, all_steps: bool = False) -> torch.Tensor:
        """Every sample of ``steps`` consecutive matrices inside ``runs (R, L, S, n, n)``, in run
        order: the output of :meth:`forward` on the ``R·(L - steps + 1)`` stacks, computed with
        each matrix's convolutions (encoder, ConvLSTM input gates) done once and shared by the
        samples that overlap it — consecutive samples share ``steps - 1`` of their matrices, so a
        run of 16 samples costs 20 matrices' convolutions instead of 80."""
        n_runs, length = runs.shape[:2]
        feature = runs.flatten(0, 1)  # fold R·L through the convolutions
        attended, hidden = [], []
        for conv, lstm in zip(self.encoder, self.lstms, strict=True):
            feature = conv(feature)
            out, states = lstm(feature.unflatten(0, (n_runs, length)), steps)
            attended.append(out)
            hidden.append(states)
        if not all_steps:
            out = self.decode(attended)
            if self.linear is None:
                return out
            return out + self.linear(run_samples(runs, steps).flatten(1, 2))
        recon = []
        for t in range(steps):  # attention over steps 1..t reconstructs step t
            recon.append(
                self.decode(
                    [
                        temporal_attention(h[:, : t + 1], lstm.temperature)
                        for h, lstm in zip(hidden, self.lstms, strict=True)
                    ]
                )
            )
        return torch.stack(recon, dim=1)
