"""A made-up MSL-shaped telemanom folder, to check the NASA path on a spacecraft we do not have.

27 channels of 55 columns — one telemetry value in [-1, 1] and 54 command flags, five of them
switching at random — in nine telemetry shapes (sine, steps, random walk, sawtooth, noise, and
values stuck at exactly 0, 1 or -1 all through training: the case that passes for a command flag
unless the loader declares the flags), with 1–2 labelled anomalies per channel (spikes, level
shifts, bursts of noise, 20–200 steps). Written for the declared-flags change (calibration_log
§25); it chooses nothing. ::

    python benchmarks/made_up_msl.py /tmp/fakemsl
    mstad benchmark --models best,discord --datasets msl --data-dir /tmp/fakemsl --n-jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHAPES = ("sine", "steps", "walk", "stuck0", "stuck1", "stuckm1", "saw", "noise", "stuck0")
STUCK = {"stuck0": 0.0, "stuck1": 1.0, "stuckm1": -1.0}


def telemetry(shape: str, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n)
    if shape == "sine":
        return 0.5 * np.sin(2 * np.pi * t / rng.integers(40, 200)) + 0.02 * rng.normal(size=n)
    if shape == "steps":
        levels = np.repeat(rng.choice([-0.5, 0.0, 0.5], size=n // 100 + 1), 100)[:n]
        return levels + 0.01 * rng.normal(size=n)
    if shape == "walk":
        return np.clip(np.cumsum(0.01 * rng.normal(size=n)), -1, 1)
    if shape == "saw":
        return (t % rng.integers(50, 150)) / 150 - 0.5
    if shape == "noise":
        return 0.1 * rng.normal(size=n)
    return np.full(n, STUCK[shape])


def write(root: Path, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "test").mkdir(exist_ok=True)
    rows = []
    for c in range(27):
        n_train, n_test = int(rng.integers(1500, 3000)), int(rng.integers(2000, 4000))
        x = telemetry(SHAPES[c % len(SHAPES)], n_train + n_test, rng).astype(float)
        flags = np.zeros((len(x), 54))
        for j in rng.choice(54, size=5, replace=False):
            flags[:, j] = rng.random(len(x)) < rng.uniform(0.01, 0.2)
        anomalies = []
        for _ in range(int(rng.integers(1, 3))):
            length = int(rng.integers(20, 200))
            start = n_train + int(rng.integers(0, n_test - length))
            part = slice(start, start + length)
            kind = rng.choice(["spike", "shift", "noise"])
            if kind == "spike":
                x[part] += rng.choice([-1, 1]) * 0.6
            elif kind == "shift":
                x[part] = x[part] * 0.2 + rng.uniform(-0.8, 0.8)
            else:
                x[part] += 0.3 * rng.normal(size=length)
            anomalies.append([start - n_train, start - n_train + length - 1])
        data = np.column_stack([np.clip(x, -1, 1), flags])
        name = f"M-{c + 1}"
        np.save(root / "train" / f"{name}.npy", data[:n_train])
        np.save(root / "test" / f"{name}.npy", data[n_train:])
        rows.append(f'{name},MSL,"{sorted(anomalies)}",[contextual],{n_test}')
    header = "chan_id,spacecraft,anomaly_sequences,class,num_values"
    (root / "labeled_anomalies.csv").write_text("\n".join([header, *rows]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write (labeled_anomalies.csv, ...)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(args.out, args.seed)
    print(f"written: {args.out} (27 channels × 55 columns)")


if __name__ == "__main__":
    main()
