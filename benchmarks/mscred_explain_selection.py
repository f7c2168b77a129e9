"""Choose MSCRED's ``explain_mode`` on labelled root causes of the label-free selection sets.

One MSCRED fit per entity at today's defaults; every explanation mode is computed from the same
fitted model's residuals (``explain`` does not depend on training), and scored by root-cause
recall@3 (share of each anomaly's labelled causes among the 3 sensors with the largest
explanation summed over it, averaged over anomalies, then over entities). Sets: those of
``best_selection.py`` with causes — the example plant, the paper synthetic data, the generated
families (and their ``-long`` versions), the plant's later batches with injected anomalies.
Rule (``benchmarks/results/mscred_log.md`` §15): round 5's — the smallest worst per-set shortfall
against the best mode, ties within 0.005 to the higher mean, then to today's default.

    python benchmarks/mscred_explain_selection.py [--sets plant,synthetic,factors] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from mstad.evaluation.rootcause import recall_at_k
from mstad.models import make_detector
from mstad.models.mscred.scores import EXPLAIN_MODES

sys.path.insert(0, str(Path(__file__).parent))
from best_selection import selection_sets, shortfall_lines  # noqa: E402

SETS = "plant,synthetic,factors,seasonal,regimes,plant-batches"


def recalls(entity) -> dict[str, float]:
    """recall@3 of every explanation mode, from one fit of today's defaults."""
    import torch

    torch.set_num_threads(1)  # one worker per core
    detector = make_detector("mscred").fit(entity.train)
    detector.score(entity.test)  # residuals cached for every explain call below
    out = {}
    for mode in EXPLAIN_MODES:
        detector.explain_mode = mode
        out[mode] = recall_at_k(detector.explain(entity.test), entity.intervals, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=SETS)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "mscred_explain_selection.txt")
    )
    args = parser.parse_args()
    data_dir = Path(
        os.environ.get("MSTAD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    sets = selection_sets(args.sets.split(","), data_dir)
    table, lines = {}, ["| mode | set | entities | recall@3 |", "|---|---|---|---|"]
    for name, entities in sets.items():
        results = Parallel(n_jobs=args.n_jobs)(delayed(recalls)(e) for e in entities)
        for mode in EXPLAIN_MODES:
            values = [r[mode] for r in results if np.isfinite(r[mode])]
            table[(mode, name)] = {"recall_at_3": float(np.mean(values))}
            lines.append(f"| {mode} | {name} | {len(values)} | {np.mean(values):.3f} |")
            print(lines[-1], flush=True)
    objective = {
        m: float(np.mean([table[(m, s)]["recall_at_3"] for s in sets])) for m in EXPLAIN_MODES
    }
    lines += [
        "",
        *shortfall_lines(table, list(EXPLAIN_MODES), list(sets), objective, "recall_at_3"),
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
