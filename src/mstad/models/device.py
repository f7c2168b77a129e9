"""Where torch models run (``"auto"`` picks CUDA when there is one, else the CPU), and the
training parameters every torch detector shares."""

from __future__ import annotations

import torch

from mstad.params import SEED_SPEC, spec

#: what a ``device`` parameter accepts
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:\d+)?)$"


#: parameters every torch detector shares, with their ranges (:func:`mstad.params.spec`)
TRAINING_SPECS = {
    "epochs": spec(ge=1),
    "batch_size": spec(ge=1),
    "lr": spec(gt=0),
    "patience": spec(ge=0),
    "device": spec(pattern=DEVICE_PATTERN),
    "seed": SEED_SPEC,
}


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
