"""Training and scoring throughput of MSFlow, both routes at their default sizes, on this machine.

A series of 10,000 steps × 25 sensors (SMAP's width, all continuous); training runs ``--epochs``
epochs over the windows of the first 80 % (the rest is the validation tail), scoring covers the
whole series.
Prints time steps/s — training counts every step of every epoch, scoring every step once.
Then the online scoring (``reference="train+past"``, the default) on 10,000 and 100,000 steps
(``--online``): its steps/s must not fall with the length (a bounded replay set per block),
against the same detector fine-tuning on every earlier window (``replay=None``, 10,000 steps
only: it is quadratic).

    python benchmarks/msflow_throughput.py [--steps 10000] [--sensors 25] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mstad.models import make_detector


def make_series(steps: int, sensors: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    series = np.sin(t / rng.uniform(20, 80, sensors)) + 0.3 * rng.normal(size=(steps, sensors))
    return series.astype(np.float32)


def online(lengths: list[int], sensors: int, epochs: int) -> None:
    """Online scoring steps/s at each length, the default replay against replay=None."""
    train = make_series(10_000, sensors)
    rates = {}
    for replay, label in (("default", "default replay"), (None, "replay=None (every window)")):
        params = {} if replay == "default" else {"replay": None}
        detector = make_detector("msflow", epochs=epochs, patience=epochs + 1, **params)
        detector.fit(train)
        for n in lengths if replay == "default" else lengths[:1]:
            series = make_series(n, sensors, seed=1)
            start = time.perf_counter()
            detector.score(series)
            rates[label, n] = n / (time.perf_counter() - start)
            print(f"online, {label}: {n:,} steps → {rates[label, n]:,.0f} steps/s", flush=True)
    first, last = lengths[0], lengths[-1]
    bounded = rates["default replay", first]
    every = rates["replay=None (every window)", first]
    print(
        f"default replay: steps/s at {last:,} / at {first:,} = "
        f"{rates['default replay', last] / bounded:.2f} (1 = linear); "
        f"at {first:,} it is {bounded / every:.1f}x replay=None's rate"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--sensors", type=int, default=25)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--online", default="10000,100000", help="online lengths ('' = skip)")
    args = parser.parse_args()
    series = make_series(args.steps, args.sensors)
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
        params = sum(p.numel() for f in detector.flows_ for p in f.parameters() if p.requires_grad)
        score_rate[route, reference] = args.steps / score_s
        print(
            f"{route:>6}, reference {reference:>10} ({params / 1e3:.0f} k flow parameters, "
            f"device {detector.device_}): "
            f"train {trained_steps:,} steps in {fit_s:.1f} s → {trained_steps / fit_s:,.0f} "
            f"steps/s; score {args.steps:,} steps in {score_s:.2f} s → "
            f"{args.steps / score_s:,.0f} steps/s"
        )
    slower = score_rate["native", "train"] / score_rate["native", "train+past"]
    print(
        f"online fine-tuning makes native scoring {slower:.1f}x slower than the fitted flow alone"
    )
    if args.online:
        online([int(n) for n in args.online.split(",")], args.sensors, args.epochs)


if __name__ == "__main__":
    main()
