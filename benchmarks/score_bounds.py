"""Highest calibrated score of every run folder given, against the documented cap (issue 16).

    python benchmarks/score_bounds.py RUN_OR_BENCHMARK_DIR [...]

Finds every run folder below the arguments (``scores.parquet``), prints data set, model,
entities, the highest test score, the share of steps above the exact range (surprise > 6,
p < 1e-6) and whether any score reaches the cap. Reads scores only; no labels are used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

from mstad.models.calibration import CAP, KNEE


def main(roots: list[str]) -> int:
    print(f"| dataset | model | entities | max score | share > {KNEE:g} | below cap {CAP:g} |")
    print("|---|---|---|---|---|---|")
    ok = True
    for scores_file in sorted(p for r in roots for p in Path(r).rglob("scores.parquet")):
        run = scores_file.parent
        config = yaml.safe_load((run / "config.yaml").read_text())
        scores = pd.read_parquet(scores_file, columns=["entity", "score"])
        top = float(scores["score"].max())
        ok &= top < CAP
        print(
            f"| {config['dataset']} | {config['model']} | {scores['entity'].nunique()} | "
            f"{top:.4f} | {(scores['score'] > KNEE).mean():.4f} | {'yes' if top < CAP else 'NO'} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
