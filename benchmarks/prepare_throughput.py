"""Throughput and peak memory of `mstad prepare` on a plant of ≥ 5 million rows × 30 sensors.

The plant: 10 batches (8 train, 2 test) × 3 stages of 100,000 / 300,010 / 100,000 s at 1 s, 30
sensors split over 3 CSV files per batch (one sampled every 2 s, one with UTC offsets), so the
merged grid has just over 5,000,000 rows. Generation is not timed. `prepare` runs in a child
process so that its peak resident memory (ru_maxrss) is its own.

    python benchmarks/prepare_throughput.py [--root /tmp/mstad-plant-5m] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

STAGES = (100_000, 300_010, 100_000)  # 5,000,030 grid rows; a few are dropped


def child(config_path: str) -> None:
    from mstad.data.plant import load_prepare_config, prepare

    start = time.perf_counter()
    result = prepare(load_prepare_config(config_path))
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = result.manifest["rows"]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak_mib,
                "rows": rows,
                "sensors": len(result.manifest["sensors"]),
                "loss": result.manifest["loss"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/mstad-plant-5m"))
    parser.add_argument("--keep", action="store_true", help="keep the generated plant")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from mstad.data.plant import make_example_plant

    config = args.root / "prepare.yaml"
    if not config.is_file():
        start = time.perf_counter()
        make_example_plant(
            args.root, n_train_batches=8, n_test_batches=2, stage_seconds=STAGES, lead_seconds=60
        )
        print(f"generated {args.root} in {time.perf_counter() - start:.0f} s")
    raw_rows = sum(sum(1 for _ in p.open("rb")) - 1 for p in args.root.glob("raw/*/*.csv"))
    raw_bytes = sum(p.stat().st_size for p in args.root.glob("raw/*/*.csv"))
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    merged = result["rows"]["train"] + result["rows"]["test"]
    print(f"raw input: {raw_rows:,} CSV rows in 30 files, {raw_bytes / 2**30:.2f} GiB")
    print(
        f"prepared: {merged:,} rows × {result['sensors']} sensors "
        f"(train {result['rows']['train']:,}, test {result['rows']['test']:,})"
    )
    print(
        f"prepare: {result['seconds']:.1f} s → {merged / result['seconds']:,.0f} prepared rows/s"
        f" ({raw_rows / result['seconds']:,.0f} raw CSV rows/s); peak memory "
        f"{result['peak_mib']:,.0f} MiB"
    )
    print(f"loss report totals: {result['loss']}")
    if not args.keep:
        shutil.rmtree(args.root)


if __name__ == "__main__":
    main()
