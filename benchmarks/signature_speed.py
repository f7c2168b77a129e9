"""Speed of mstad's signature matrices against the plain reference loop of the public ports.

Prints the time of each method on a 10,000 × 25 series (windows 10/30/60, gap 10), the largest
difference from the loop and the speed-up. Goal (issue 4): ≥ 150×.

    python benchmarks/signature_speed.py [--steps 10000] [--sensors 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reference lives in tests/

from mstad.features.signature import signature_matrices  # noqa: E402
from tests.features.signature_reference import reference_signature  # noqa: E402


def best_of(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--sensors", type=int, default=25)
    args = parser.parse_args()
    x = np.random.default_rng(0).normal(size=(args.steps, args.sensors))
    windows, gap = (10, 30, 60), 10
    loop_s, (reference, _) = best_of(lambda: reference_signature(x, windows, gap), 1)
    print(f"{args.steps} × {args.sensors}, windows {windows}, gap {gap}")
    print(f"reference loop      {loop_s:8.3f} s")
    for method in ("blocks", "windows"):
        t, (matrices, _) = best_of(lambda m=method: signature_matrices(x, windows, gap, m), 5)
        diff = np.abs(matrices - reference).max()
        print(
            f"mstad {method:<13} {t:8.4f} s   max |diff| {diff:.1e}   speed-up {loop_s / t:7.0f}×"
        )


if __name__ == "__main__":
    main()
