"""ResNet-18 and Wide-ResNet-50-2, stem + layers 1–3 only, with torchvision's parameter names.

torchvision does not import beside torch here, so mstad carries the few classes it needs. The
names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0`` …) equal torchvision's,
so :func:`load_backbone_weights` reads a torchvision state dict saved to a local file
(``torch.save(torchvision.models.wide_resnet50_2(weights=...).state_dict(), FILE)`` elsewhere).
Loading is strict: keys of the layers mstad does not build (``layer4``, ``fc``) are dropped and
counted; any other missing or unexpected key is an error (MSFlow's non-strict loading hid
mismatches, ALGORITHMS.md F8). Random initialisation works without any file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mstad.errors import ConfigError


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


def conv1x1(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1, downsample=None, width: int = 64):
        super().__init__()
        self.conv1 = conv3x3(c_in, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1, downsample=None, width: int = 64):
        super().__init__()
        hidden = int(planes * (width / 64.0))
        self.conv1 = conv1x1(c_in, hidden)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = conv3x3(hidden, hidden, stride)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = conv1x1(hidden, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


ARCHITECTURES = {
    "resnet18": (BasicBlock, (2, 2, 2), 64),
    "wide_resnet50_2": (Bottleneck, (3, 4, 6), 128),
}


class ResNetFeatures(nn.Module):
    """Stem and layers 1–3; ``forward`` returns the three layer outputs (strides 4, 8, 16)."""

    def __init__(self, name: str = "resnet18"):
        super().__init__()
        if name not in ARCHITECTURES:
            raise ConfigError(f"backbone must be one of {sorted(ARCHITECTURES)}, got {name!r}")
        block, layers, width = ARCHITECTURES[name]
        self.name = name
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.c_in = 64
        self.layer1 = self._layer(block, 64, layers[0], 1, width)
        self.layer2 = self._layer(block, 128, layers[1], 2, width)
        self.layer3 = self._layer(block, 256, layers[2], 2, width)
        self.channels = [64 * block.expansion, 128 * block.expansion, 256 * block.expansion]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _layer(self, block, planes: int, blocks: int, stride: int, width: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.c_in != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.c_in, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.c_in, planes, stride, downsample, width)]
        self.c_in = planes * block.expansion
        layers += [block(self.c_in, planes, width=width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        return [f1, f2, self.layer3(f2)]


def load_backbone_weights(backbone: ResNetFeatures, path: Path | str) -> int:
    """Load a torchvision state dict from a local file; returns how many keys of layers mstad
    does not build (``layer4``, ``fc``) were dropped. Anything else that does not match is an
    error naming the first offending key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: backbone weights not found; pass a torchvision state dict file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 — any unreadable file gets the same one-line error
        raise ConfigError(f"{path}: not a torch state dict ({exc.__class__.__name__})") from None
    unused = [k for k in state if k.startswith(("layer4.", "fc."))]
    kept = {k: v for k, v in state.items() if k not in unused}
    own = backbone.state_dict()
    missing = [k for k in own if k not in kept]
    unexpected = [k for k in kept if k not in own]
    if missing or unexpected:
        key = (missing or unexpected)[0]
        what = "missing" if missing else "unexpected"
        raise ConfigError(
            f"{path}: {len(missing)} missing and {len(unexpected)} unexpected keys for "
            f"{backbone.name} (first {what}: {key!r}); is it a {backbone.name} state dict?"
        )
    shapes = [k for k, v in kept.items() if v.shape != own[k].shape]
    if shapes:
        raise ConfigError(
            f"{path}: {shapes[0]!r} has shape {tuple(kept[shapes[0]].shape)}, "
            f"{backbone.name} needs {tuple(own[shapes[0]].shape)}"
        )
    backbone.load_state_dict(kept, strict=True)
    return len(unused)
