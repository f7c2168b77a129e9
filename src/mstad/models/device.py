"""Where torch models run (``"auto"`` picks CUDA when there is one, else the CPU), and the
training parameters every torch detector shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

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
    """The torch device for a detector's ``device`` parameter (``auto``: CUDA when there is
    one), after :func:`check_device`."""
    check_device(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


_flush_depth = 0  # nesting of denormals_flushed (validation scoring runs inside fitting)


@contextmanager
def denormals_flushed() -> Iterator[None]:
    """Denormal floats flushed to zero while the block runs, then torch's default again.

    Gradients of recurrent networks decay into the denormal range (< 1.2e-38), where x86
    arithmetic is ~100× slower: one training batch of ``lstm_ad`` (2 LSTM layers of 80 units,
    batch 64 × 250 steps) took 2.2 s with them and 0.13 s without
    (``benchmarks/deep_throughput.py``); a value that small changes no score. Scoped, because
    the switch is process-wide and also changes NumPy's arithmetic (a denormal compares equal
    to 0), which the thresholds rely on elsewhere.
    """
    global _flush_depth
    if _flush_depth == 0:
        torch.set_flush_denormal(True)
    _flush_depth += 1
    try:
        yield
    finally:
        _flush_depth -= 1
        if _flush_depth == 0:
            torch.set_flush_denormal(False)


def check_device(device: str) -> None:
    """A one-line error for a device this machine does not have (before any data is read)."""
    from mstad.errors import ConfigError

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {device!r}: no CUDA GPU here (torch {torch.__version__}); "
                "use --device auto or cpu"
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s); "
                "use cuda:0 or --device auto"
            )
    if device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps': not available here; use --device auto or cpu")


#: what a ``precision`` parameter accepts: float32, or bfloat16 autocast (matrix products and
#: convolutions in bfloat16, sums and the loss in float32)
PRECISIONS = ("float32", "bfloat16")


def autocast(device: torch.device, precision: str):
    """The context a torch detector runs its network in: nothing for float32, else
    ``torch.autocast`` to bfloat16 on the detector's device (CPUs with AVX-512 BF16 or AMX, and
    GPUs, run it natively; elsewhere it is emulated and slower)."""
    if precision == "float32":
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
