"""Training and scoring throughput of the full-size MSCRED network on this machine.

Attention ConvLSTM at all 4 levels (kernels 3, 3, 2, 2 as in the paper), h = 5 steps, 3 scales.
Prints samples/s for a training step (forward, backward, Adam) and for scoring, and the equivalent
time steps/s (one sample per gap = 10 steps), for

* the reference: the network as it was when issue 17 was filed — the paper's width (encoder
  32/64/128/256), float32, and the recurrence reading step t as ``gates[:, t]`` (its backward
  zero-fills a full-size gradient per step; :class:`SlicedRecurrence` keeps that path here);
* the detector's default ``width`` (``MSCRED().width``), float32;
* the default width with ``precision="bfloat16"`` (autocast, as the detector runs it) — fast only
  on CPUs with native bf16 (AVX-512 BF16 / AMX); emulated elsewhere, and then much slower;
* the default width, float32, with a batch drawn as one run of ``batch`` consecutive samples
  (``-p run_length=16``): each of the run's ``batch + h - 1`` matrices goes through the encoder
  and the ConvLSTM input convolutions once, shared by the samples that overlap it
  (``MSCREDNetwork.forward_runs``), instead of ``h`` times — how the detector *scores* at its
  defaults (its training draws random samples unless ``run_length`` says otherwise);

and each one's ratio to the reference, measured in the same run.

    python benchmarks/mscred_throughput.py [--sensors 25 30] [--batch 16]
"""

from __future__ import annotations

import argparse
import time

import torch

from mstad.models.device import autocast
from mstad.models.mscred.convlstm import AttentionConvLSTM, temporal_attention
from mstad.models.mscred.detector import MSCRED
from mstad.models.mscred.network import MSCREDNetwork

GAP = 10


class SlicedRecurrence(AttentionConvLSTM):
    """The recurrence as landed before the unbind change (same values, slower backward)."""

    def forward(self, x: torch.Tensor, steps: int | None = None):  # runs of one sample only
        gates_x = self.cell.input_gates(x)
        state, outputs = (None, None), []
        for t in range(x.shape[1]):
            state = self.cell.step(gates_x[:, t], state)
            outputs.append(state[0])
        hidden = torch.stack(outputs, dim=1)
        return temporal_attention(hidden, self.temperature), hidden


def rate(fn, batch: int, repeats: int) -> float:
    for _ in range(3):  # warm-up
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, nargs="+", default=[25, 30])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--kernels", type=int, nargs=4, default=[3, 3, 2, 2])
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(
        f"device {device}, torch threads {torch.get_num_threads()}, batch {args.batch}, "
        f"ConvLSTM kernels {args.kernels}"
    )
    default = MSCRED().width
    settings = {  # width, precision, sliced recurrence (the reference), one run per batch
        "reference (width 32, float32)": (32, "float32", True, False),
        "width 32, float32": (32, "float32", False, False),
        f"default (width {default}, float32)": (default, "float32", False, False),
        f"width {default}, bfloat16": (default, "bfloat16", False, False),
        f"width {default}, float32, in runs": (default, "float32", False, True),
    }
    for n in args.sensors:
        rates = {}
        for label, (width, precision, sliced, runs) in settings.items():
            train, score, params = measure(n, args, device, precision, width, sliced, runs)
            rates[label] = train, score
            t_ref, s_ref = next(iter(rates.values()))
            print(
                f"n = {n:>2} {label:>30}: {params / 1e6:.2f} M parameters | train "
                f"{train:6.1f} samples/s ({train * GAP:6.0f} steps/s) | score {score:6.1f} "
                f"samples/s | vs reference: train {train / t_ref:.2f}x, score {score / s_ref:.2f}x",
                flush=True,
            )


def measure(
    n: int,
    args: argparse.Namespace,
    device: torch.device,
    precision: str,
    width: int,
    sliced: bool,
    runs: bool,
) -> tuple[float, float, int]:
    torch.manual_seed(0)
    net = MSCREDNetwork(n, lstm_kernels=args.kernels, width=width)
    if sliced:
        for lstm in net.lstms:
            lstm.__class__ = SlicedRecurrence
    net = net.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps = 5
    # min-max scaled inputs are in [0, 1]; one run of `batch` samples has batch + steps - 1
    run = torch.rand(1, args.batch + steps - 1, 3, n, n, device=device)
    x = run[0].unfold(0, steps, 1).movedim(-1, 1).contiguous()  # its samples, (batch, h, S, n, n)

    def forward():
        return net.forward_runs(run, steps) if runs else net(x)

    def train_step():
        optimiser.zero_grad()
        with autocast(device, precision):
            output = forward().float()
        loss = ((output - x[:, -1]) ** 2).mean()
        loss.backward()
        optimiser.step()

    @torch.no_grad()
    def score_step():
        with autocast(device, precision):
            forward()

    params = sum(p.numel() for p in net.parameters())
    return (
        rate(train_step, args.batch, args.repeats),
        rate(score_step, args.batch, args.repeats),
        params,
    )


if __name__ == "__main__":
    main()
