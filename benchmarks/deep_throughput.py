"""Training and scoring throughput of the deep baselines (lstm_ad, usad, tranad, omnianomaly) at
their defaults, in time steps per second (every step is one example), on this machine.

Training: mini-batches of the model's own update (forward, backward, optimiser) on a synthetic
series of ``--sensors`` sensors; scoring: ``score`` of a series of ``--steps`` steps. The
reference measured in the same run: the same training batches with denormal floats kept
(torch's default), which the deep baselines flush while they train and score — the ratio is
what that switch buys.

    python benchmarks/deep_throughput.py [--sensors 25] [--steps 4000] [--batches 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mstad.models import make_detector
from mstad.models.window_net import padded_examples

MODELS = ("lstm_ad", "usad", "tranad", "omnianomaly")


def series(steps: int, sensors: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    phase, gain = rng.uniform(0, 6, sensors), rng.uniform(0.5, 2, sensors)
    return np.sin(2 * np.pi * t / 60 + phase) * gain + 0.1 * rng.normal(size=(steps, sensors))


def training_rate(detector, examples: np.ndarray, batches: int, flush: bool) -> float:
    """Training examples (= time steps) per second over ``batches`` batches after one warm-up."""
    torch.set_flush_denormal(flush)
    size = detector.batch_size
    detector.net_.train()
    index = [np.arange(k * size, (k + 1) * size) % len(examples) for k in range(batches + 1)]
    detector._train_batch(detector._tensor(examples, index[0]))
    start = time.perf_counter()
    for part in index[1:]:
        detector._train_batch(detector._tensor(examples, part))
    return batches * size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=25)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    x = series(args.steps, args.sensors).astype(np.float32)
    print(
        f"torch threads {torch.get_num_threads()}, {args.sensors} sensors, "
        f"{args.steps:,} steps scored, {args.batches} training batches per figure"
    )
    for name in args.models.split(","):
        detector = make_detector(name, epochs=1, device="cpu").fit(x[:1000])
        detector.optimisers_ = detector._optimisers()
        detector.epoch_ = 1
        examples = padded_examples(detector._scaled(x), detector._train_length, detector._pad)
        kept = training_rate(detector, examples, args.batches, flush=False)
        flushed = training_rate(detector, examples, args.batches, flush=True)
        detector.net_.eval()
        start = time.perf_counter()
        detector.score(x)
        scoring = args.steps / (time.perf_counter() - start)
        print(
            f"{name:>12}: train {flushed:8.0f} steps/s (denormals kept: {kept:7.0f}, "
            f"{flushed / kept:5.1f}x) | score {scoring:8.0f} steps/s | "
            f"batch {detector.batch_size}, window {detector.window}"
        )


if __name__ == "__main__":
    main()
