"""Multi-scale features of a window of all sensors for the native 1-D route.

A seeded, frozen 1-D convolution pyramid: each level is a reflect-padded convolution, a leaky
ReLU and an average pool that halves the length, so a window of ``L`` steps gives features at
``L/2, L/4, L/8``. The input at each level's resolution (average-pooled) is concatenated, so the
flows always see the signal itself as well as the random filters' responses. Frozen because a
flow trained jointly with its feature extractor can shrink the features and buy likelihood
for free; it runs under ``no_grad``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class ConvPyramid1d(nn.Module):
    def __init__(
        self,
        n_sensors: int,
        widths: tuple[int, ...] = (32, 64, 64),
        kernel: int = 5,
        seed: int = 0,
        dilations: tuple[int, ...] | None = None,
    ):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.levels = nn.ModuleList()
        c_in = n_sensors
        for width, dilation in zip(widths, dilations or (1,) * len(widths), strict=True):
            conv = nn.Conv1d(
                c_in,
                width,
                kernel,
                padding=dilation * (kernel // 2),
                dilation=dilation,
                padding_mode="reflect",
            )
            with torch.no_grad():  # seeded He init, independent of the global torch seed
                fan_in = c_in * kernel
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                )
                conv.bias.zero_()
            self.levels.append(conv)
            c_in = width
        self.requires_grad_(False)
        self.channels = [n_sensors + w for w in widths]

    def fit(self, windows: np.ndarray) -> None:
        """Nothing to learn: the filters are random and frozen."""

    @torch.no_grad()
    def forward(self, windows: np.ndarray) -> list[torch.Tensor]:
        """Windows ``[N, L, D]`` → one ``[N, D + width_k, L / 2^k]`` tensor per level."""
        device = self.levels[0].weight.device
        x = torch.from_numpy(np.array(windows.transpose(0, 2, 1), np.float32, order="C")).to(device)
        return self.pyramid(x)

    def pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The levels of a tensor ``[N, D, L]`` (the traceable part, exported to ONNX)."""
        out, feature, raw = [], x, x
        for conv in self.levels:
            feature = F.avg_pool1d(F.leaky_relu(conv(feature), 0.2), 3, 2, 1)
            raw = F.avg_pool1d(raw, 3, 2, 1)
            out.append(torch.cat([raw, feature], dim=1))
        return out

    def shapes(self, n_sensors: int, length: int) -> list[tuple[int, ...]]:
        sizes, shapes = length, []
        for channels in self.channels:
            sizes = pooled(sizes)
            shapes.append((channels, sizes))
        return shapes


def pooled(length: int) -> int:
    """A level's length after its average pool (kernel 3, stride 2, padding 1): about half."""
    return (length - 1) // 2 + 1


def too_short(window: int, kernel: int, dilations: tuple[int, ...]) -> tuple[int, int] | None:
    """The first level (and its input length) whose reflect padding reaches past its input —
    a dilated filter that reaches past both ends of its input cannot be padded — if any."""
    length = window
    for level, dilation in enumerate(dilations):
        if dilation * (kernel // 2) >= length:
            return level, length
        length = pooled(length)
    return None
