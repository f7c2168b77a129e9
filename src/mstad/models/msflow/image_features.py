"""Image-route features: windows → pseudo-images (:mod:`mstad.features.images`) → frozen ResNet
layers 1–3 → MSFlow's average pool (kernel 3, stride 2), one map per scale.

The backbone never trains: it runs in eval mode under ``no_grad`` with ``requires_grad_(False)``
(MSFlow ran it with gradients on and kept the activations, ALGORITHMS.md F6). Weights come from a
local torchvision state dict when given, else random initialisation (seeded).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mstad.features.images import encode, mtf_bins
from mstad.models.msflow.backbone import ResNetFeatures, load_backbone_weights


class ImageFeatures(nn.Module):
    def __init__(
        self,
        encoder: str,
        image_size: int,
        backbone: str = "resnet18",
        dims: tuple[int, ...] = (0, 1, 2),
        weights: str | None = None,
        seed: int = 0,
    ):
        super().__init__()
        self.encoder, self.image_size, self.dims = encoder, image_size, tuple(dims)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.backbone = ResNetFeatures(backbone)
        self.dropped_keys = load_backbone_weights(self.backbone, weights) if weights else 0
        self.backbone.eval().requires_grad_(False)
        self.bins: np.ndarray | None = None

    def train(self, mode: bool = True) -> ImageFeatures:  # the backbone stays in eval mode
        return self

    def fit(self, windows: np.ndarray) -> None:
        """What the encoder learns from training windows (MTF's quantile bins)."""
        if self.encoder == "mtf":
            self.bins = mtf_bins(windows, self.dims)

    @torch.no_grad()
    def forward(self, windows: np.ndarray) -> list[torch.Tensor]:
        device = next(self.backbone.parameters()).device
        images = encode(windows, self.encoder, self.image_size, self.dims, self.bins)
        return [F.avg_pool2d(f, 3, 2, 1) for f in self.backbone(images.to(device))]

    def shapes(self, n_sensors: int, length: int) -> list[tuple[int, ...]]:
        probe = np.zeros((1, max(length, 2), n_sensors), dtype=np.float32)
        if self.encoder == "mtf" and self.bins is None:
            self.bins = np.zeros((3, 7))
        return [tuple(f.shape[1:]) for f in self(probe)]
