"""Training and scoring throughput of MSFlow, both routes at their default sizes, on this machine.

A series of 10,000 steps × 25 sensors (SMAP's width, all continuous); training runs ``--epochs``
epochs over the windows of the first 80 % (the rest is the validation tail), scoring covers the
whole series.
Prints time steps/s — training counts every step of every epoch, scoring every step once.

    python benchmarks/msflow_throughput.py [--steps 10000] [--sensors 25] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mstad.models import make_detector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--sensors", type=int, default=25)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    t = np.arange(args.steps)[:, None]
    series = np.sin(t / rng.uniform(20, 80, args.sensors)) + 0.3 * rng.normal(
        size=(args.steps, args.sensors)
    )
    series = series.astype(np.float32)
    print(f"torch threads {torch.get_num_threads()}, series {args.steps:,} × {args.sensors}")
    # the native route with its default online fine-tuning (reference="train+past") and with
    # the fitted flow alone; the image route as configs/msflow_image.yaml runs it (flow alone)
    score_rate = {}
    for route, reference in (("native", "train+past"), ("native", "train"), ("image", "train")):
        detector = make_detector(
            "msflow", route=route, reference=reference, epochs=args.epochs, patience=args.epochs + 1
        )
        start = time.perf_counter()
        detector.fit(series)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        detector.score(series)
        score_s = time.perf_counter() - start
        trained_steps = int(0.8 * args.steps) * len(detector.history_)
        params = sum(p.numel() for p in detector.flow_.parameters() if p.requires_grad)
        score_rate[route, reference] = args.steps / score_s
        print(
            f"{route:>6}, reference {reference:>10} ({params / 1e3:.0f} k flow parameters, "
            f"device {detector.device_}): "
            f"train {trained_steps:,} steps in {fit_s:.1f} s → {trained_steps / fit_s:,.0f} "
            f"steps/s; score {args.steps:,} steps in {score_s:.2f} s → "
            f"{args.steps / score_s:,.0f} steps/s"
        )
    online = score_rate["native", "train"] / score_rate["native", "train+past"]
    print(
        f"online fine-tuning makes native scoring {online:.1f}x slower than the fitted flow alone"
    )


if __name__ == "__main__":
    main()
