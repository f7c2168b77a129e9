"""Where torch models run: ``"auto"`` picks CUDA when there is one, else the CPU."""

from __future__ import annotations

import torch

#: what a ``device`` parameter accepts
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:\d+)?)$"


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
