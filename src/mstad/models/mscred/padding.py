"""TensorFlow-style "SAME" padding, so every sensor count works (the ports' fixed paddings only
fit n ≡ 6 mod 8)."""

from __future__ import annotations

import math

from torch import nn


def same_size(size: int, stride: int) -> int:
    return math.ceil(size / stride)


def same_padding(kernel: int, stride: int, size: int | None = None) -> nn.ZeroPad2d:
    """Zero padding (left/top gets the smaller half) giving ``ceil(size / stride)`` outputs."""
    if stride == 1:
        total = kernel - 1
    else:
        if size is None:
            raise ValueError("strided SAME padding needs the input size")
        total = max((same_size(size, stride) - 1) * stride + kernel - size, 0)
    return nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2))
