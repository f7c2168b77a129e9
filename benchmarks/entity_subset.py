"""Per-entity means of AUROC / AP / VUS-PR over a fixed subset of entities, from run folders'
``metrics.json`` — to compare a model that was run on a subset (for CPU time) with models run on
every entity, on the same entities.

    python benchmarks/entity_subset.py RUN_DIR [RUN_DIR ...] --entities A-1,B-1,D-6
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

METRICS = ("auroc", "ap", "vus_pr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--entities", required=True, help="comma-separated entity names")
    args = parser.parse_args()
    wanted = args.entities.split(",")
    print(f"| model | entities | {' | '.join(f'entity {m}' for m in METRICS)} |")
    print("|---|---|" + "---|" * len(METRICS))
    for run in args.runs:
        metrics = json.loads((run / "metrics.json").read_text())
        per_entity = metrics["entities"]
        missing = [e for e in wanted if e not in per_entity]
        if missing:
            raise SystemExit(f"{run}: no metrics for {', '.join(missing)}; run those entities")
        means = [np.nanmean([per_entity[e][m] for e in wanted]) for m in METRICS]
        cells = " | ".join(f"{v:.3f}" for v in means)
        print(f"| {metrics['model']} | {len(wanted)} | {cells} |")


if __name__ == "__main__":
    main()
