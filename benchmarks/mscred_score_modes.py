"""MSCRED's score modes on the label-free selection sets, from one fit per entity.

``score_mode`` changes only how a fitted network's residual matrices become a step's score, so
the candidates share every fit: each entity is fitted once at the defaults, then for each mode its
validation residuals give the mode's calibration (as ``MSCRED.fit`` does) and its test residuals
the mode's scores. Prints, per mode and set, entity AUROC / AP, pooled AUROC / AP and F1 at the
POT threshold fitted on validation scores, then the selection rule of
``best_selection.py`` (worst per-set shortfall in entity AUROC, ties by the objective, then the
first mode named — today's default). The first mode's scores are checked against
``detector.score`` (they must be the detector's own).

    python benchmarks/mscred_score_modes.py --sets synthetic,plant,factors --draws 90000 \\
        --modes relative,sensor,sensor_median --max-entities factors=3
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from best_selection import evaluate, selection_sets, shortfall_lines
from joblib import Parallel, delayed

from mstad.evaluation import threshold_metrics
from mstad.models import make_detector
from mstad.models.base import validation_split
from mstad.models.calibration import Calibration
from mstad.models.thresholds import make_thresholder


def score_modes(entity, modes: list[str], params: dict) -> tuple:
    """(name, labels, {mode: (test scores, validation scores)}, seconds) from one fit."""
    import numba
    import torch

    torch.set_num_threads(1)
    numba.set_num_threads(1)  # one worker per core
    start = time.perf_counter()
    detector = make_detector("mscred", **params, score_mode=modes[0]).fit(
        entity.train, entity.flags
    )
    reference = detector.score(entity.test)
    stacks, ends = detector._samples(entity.train)
    held = detector._validation_index(ends, validation_split(len(entity.train), detector.min_steps))
    held = held if len(held) else np.arange(len(stacks))  # as the fit: no tail, the training data
    residual = detector._residual_of(stacks[held])
    out = {}
    for mode in modes:
        detector.score_mode = mode
        raw = detector._held_out_scores(residual, ends[held])
        calibration = Calibration.fit(raw, detector.calibration_.fitted_on, detector.score_floor)
        test = calibration.apply(detector._raw_score(entity.test))
        out[mode] = (test, calibration.apply(raw))
    gap = float(np.max(np.abs(out[modes[0]][0] - reference)))
    if gap > 1e-9:
        raise SystemExit(f"{entity.name}: {modes[0]} differs from detector.score by {gap:.1e}")
    return entity.name, entity.labels, out, time.perf_counter() - start


def pot_f1(results, mode: str) -> float:
    """Mean entity F1 at the POT threshold fitted on each entity's validation scores."""
    f1s = []
    for _, labels, out, _ in results:
        test, validation = out[mode]
        if 0 < labels.sum() < len(labels):
            value = make_thresholder("pot").fit_report(validation, "validation").value
            f1s.append(threshold_metrics(labels, test, value)["f1"])
    return float(np.mean(f1s)) if f1s else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", required=True)
    parser.add_argument("--modes", default="relative,sensor,sensor_median")
    parser.add_argument("--draws", default="90000")
    parser.add_argument("--max-entities", default="")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("-p", "--param", action="append", default=[], help="k=v (yaml value)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import yaml

    params = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in args.param)}
    modes = args.modes.split(",")
    data_dir = Path(
        os.environ.get("MSTAD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    caps = {k: int(v) for k, v in (i.split("=") for i in args.max_entities.split(",") if i)}
    names = args.sets.split(",")
    draws = [int(d) for d in args.draws.split(",")]
    lines = [
        "| mode | set | draw | entities | entity AUROC | entity AP | concat AUROC | concat AP "
        "| F1 at POT | s (one fit, all modes) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    table, objective = {}, {m: [] for m in modes}
    for draw in draws:
        sets = selection_sets(names, data_dir, draw)
        for name in names:
            entities = sets[name][: caps.get(name)]
            results = Parallel(n_jobs=args.n_jobs)(
                delayed(score_modes)(e, modes, params) for e in entities
            )
            seconds = sum(r[3] for r in results)
            for mode in modes:
                m = evaluate([(n, out[mode][0], y) for n, y, out, _ in results])
                table.setdefault((mode, name), []).append(m)
                lines.append(
                    f"| {mode} | {name} | {draw} | {len(entities)} | {m['entity_auroc']:.3f} | "
                    f"{m['entity_ap']:.3f} | {m['concat_auroc']:.3f} | {m['concat_ap']:.3f} | "
                    f"{pot_f1(results, mode):.3f} | {seconds:.0f} |"
                )
                print(lines[-1], flush=True)
    means = {}
    for (mode, name), drawn in table.items():
        means[(mode, name)] = {k: float(np.mean([d[k] for d in drawn])) for k in drawn[0]}
        m = means[(mode, name)]
        objective[mode].append((m["entity_auroc"] + m["entity_ap"]) / 2)
    ranking = {mode: float(np.mean(v)) for mode, v in objective.items()}
    lines += ["", "objective (mean over sets of (entity AUROC + entity AP) / 2):"]
    lines += [f"  {v:.4f}  {mode}" for mode, v in sorted(ranking.items(), key=lambda kv: -kv[1])]
    lines += ["", *shortfall_lines(means, modes, names, ranking)]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
