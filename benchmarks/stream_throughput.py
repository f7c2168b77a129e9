"""Streaming throughput and latency (``mstad.models.streaming.Monitor``) against batch scoring
of the same series in the same run.

Prints, per detector and data: steps/s streamed with chunks of 1 and 10 rows, the latency of one
``update`` (p50 / p99, chunk 1), batch steps/s, and the largest |stream − batch| difference.

    python benchmarks/stream_throughput.py            # ≈ 3 min on 2 cores
"""

from __future__ import annotations

import time

import numba
import numpy as np
import torch

from mstad.data import load_synthetic
from mstad.models import make_detector
from mstad.models.streaming import Monitor


def series(n_sensors: int, n_train: int, n_test: int, seed: int = 0):
    data = load_synthetic(
        n_sensors=max(3, n_sensors), n_steps=n_train + n_test, train_end=n_train, seed=seed
    )
    entity = next(iter(data))
    return entity.train[:, :n_sensors], entity.test[:, :n_sensors]


def measure(name: str, params: dict, train, test, steps_chunk1: int) -> dict:
    detector = make_detector(name, **params).fit(train)
    start = time.perf_counter()
    batch = detector.score(test)
    batch_s = time.perf_counter() - start
    monitor, latency, out = Monitor(detector), [], []
    warm = 2 * monitor.delay + 2  # past the first emitted step: every update does full work
    out.append(monitor.update(test[:warm]))
    for row in test[warm : warm + steps_chunk1]:
        t = time.perf_counter()
        out.append(monitor.update(row))
        latency.append(time.perf_counter() - t)
    chunk1_rate = len(latency) / sum(latency)
    monitor = Monitor(detector)
    start = time.perf_counter()
    parts = [monitor.update(test[lo : lo + 10]) for lo in range(0, len(test), 10)]
    parts.append(monitor.flush())
    chunk10_rate = len(test) / (time.perf_counter() - start)
    diff = float(np.max(np.abs(np.concatenate(parts) - batch)))
    return {
        "model": name,
        "sensors": train.shape[1],
        "chunk1_steps_s": chunk1_rate,
        "chunk10_steps_s": chunk10_rate,
        "p50_ms": 1000 * float(np.median(latency)),
        "p99_ms": 1000 * float(np.quantile(latency, 0.99)),
        "batch_steps_s": len(test) / batch_s,
        "delay": monitor.delay,
        "max_diff": diff,
    }


def main() -> None:
    torch.set_num_threads(1)  # per core
    numba.set_num_threads(1)  # discord's profiles too
    cases = [
        ("best", {}, *series(1, 5000, 3000), 1000),
        ("best", {}, *series(10, 5000, 3000), 300),
        ("msflow", {"reference": "train", "epochs": 3}, *series(25, 5000, 3000), 300),
    ]
    print(
        "one core (torch and numba threads 1); synthetic (MSCRED generator) "
        "train 5,000 / test 3,000 steps"
    )
    header = (
        f"{'model':8} {'sensors':>7} {'chunk 1 steps/s':>15} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'chunk 10 steps/s':>16} {'batch steps/s':>13} {'stream/batch':>12} {'delay':>5} "
        f"{'max |diff|':>10}"
    )
    print(header)
    for name, params, train, test, n1 in cases:
        r = measure(name, params, train, test, n1)
        print(
            f"{r['model']:8} {r['sensors']:>7} {r['chunk1_steps_s']:>15,.0f} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f} {r['chunk10_steps_s']:>16,.0f} {r['batch_steps_s']:>13,.0f} "
            f"{r['chunk10_steps_s'] / r['batch_steps_s']:>12.2f} {r['delay']:>5} "
            f"{r['max_diff']:>10.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
