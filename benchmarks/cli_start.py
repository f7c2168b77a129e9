"""How fast the first commands answer: ``mstad --help``, an argument error, and ``mstad demo``.

    python benchmarks/cli_start.py [--no-demo]

Each figure is the median of 5 runs (the demo: 1), printed with its ratio to references
measured in the same run: a bare ``python -c pass`` (the interpreter's own start) and importing
the whole pipeline eagerly (what every command paid before heavy imports moved into the
commands). Targets of issue 20: ``--help`` < 0.5 s, demo ≤ 60 s on 2 idle cores.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

EAGER = (
    "import mstad.cli, mstad.runs, mstad.models, mstad.evaluation.metrics, mstad.report, "
    "mstad.models.mscred, mstad.models.msflow"
)


def seconds(command: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(demo: bool) -> None:
    mstad = [sys.executable, "-m", "mstad"]
    bare = seconds([sys.executable, "-c", "pass"])
    eager = seconds([sys.executable, "-c", EAGER])
    rows = [
        ("python -c pass (reference)", bare),
        ("eager import of the pipeline (old start)", eager),
        ("mstad --help", seconds([*mstad, "--help"])),
        ("mstad run --bogus (argument error)", seconds([*mstad, "run", "--bogus"])),
    ]
    if demo:
        with tempfile.TemporaryDirectory() as out:
            rows.append(("mstad demo", seconds([*mstad, "-q", "demo", "--out", out], repeat=1)))
    print(f"{'command':42s} {'seconds':>8s} {'÷ python':>9s} {'÷ eager':>8s}")
    for name, value in rows:
        print(f"{name:42s} {value:8.2f} {value / bare:9.1f} {value / eager:8.2f}")


if __name__ == "__main__":
    main(demo="--no-demo" not in sys.argv)
