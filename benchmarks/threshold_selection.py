"""Which alarm threshold, judged on the label-free selection sets (calibration round 31).

Reads the per-entity scores that ``best_selection.py --dump FILE`` wrote (test scores, their
injected or generated labels, the calibrated validation scores), fits each candidate threshold
on the **validation scores only** — as ``mstad run`` and ``mstad fit`` do — and prints per
detector and set, averaged over the draws:

* ``F1``: each entity's time-step precision / recall / F1 at its threshold (the "P / R / F1 at
  threshold" of every run), averaged over the entities with both classes;
* ``false alarms``: the share of the normal (unlabelled) test steps above the threshold, pooled
  over the set's entities — what ``risk`` promises to hold near 10⁻³ on data like validation;
* ``> half``: how many entities alarm on more than half of their test steps (one event that
  covers the whole series tells an operator nothing).

Then round 31's rule (``benchmarks/results/calibration_log.md`` §32) within each detector.

    python benchmarks/best_selection.py --sets ... --variants best,discord-both,pca \\
        --draws 68000,69000 --dump /tmp/round31.pkl
    python benchmarks/threshold_selection.py /tmp/round31.pkl --methods pot,surprise
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np

from mstad.evaluation import threshold_metrics
from mstad.models.thresholds import make_thresholder

#: shortfalls in mean entity F1 within this much of each other tie (rounds 5-30's margin)
TIE = 0.005


def figures(entities: list, method: str) -> dict[str, float]:
    """One set's figures at ``method``'s threshold, fitted on each entity's validation scores."""
    f1s, false, normal, over_half = [], 0, 0, 0
    for _, scores, labels, validation, _ in entities:
        threshold = make_thresholder(method).fit_report(validation, "validation").value
        alarm = np.asarray(scores) > threshold
        labels = np.asarray(labels).astype(bool)
        false += int((alarm & ~labels).sum())
        normal += int((~labels).sum())
        over_half += int(alarm.mean() > 0.5)
        if 0 < labels.sum() < len(labels):
            f1s.append(threshold_metrics(labels, scores, threshold)["f1"])
    return {
        "f1": float(np.mean(f1s)) if f1s else float("nan"),
        "false_alarms": false / max(normal, 1),
        "over_half": float(over_half),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path, help="file written by best_selection.py --dump")
    parser.add_argument("--methods", default="pot,surprise", help="first: today's default")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    dumped = pickle.loads(args.dump.read_bytes())  # our own benchmark file, not user input
    methods = args.methods.split(",")
    variants = list(dict.fromkeys(v for v, _, _ in dumped))
    sets = list(dict.fromkeys(s for _, s, _ in dumped))
    table = {}  # (variant, set, method) -> figures averaged over draws
    for v in variants:
        for s in sets:
            draws = [entities for (vv, ss, _), entities in dumped.items() if (vv, ss) == (v, s)]
            for m in methods:
                per_draw = [figures(entities, m) for entities in draws]
                table[v, s, m] = {k: float(np.mean([d[k] for d in per_draw])) for k in per_draw[0]}
    lines = [
        "| detector | set | "
        + " | ".join(f"{m} F1 / false alarms / > half" for m in methods)
        + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for v in variants:
        for s in sets:
            cells = [
                f"{t['f1']:.3f} / {t['false_alarms']:.4f} / {t['over_half']:.1f}"
                for t in (table[v, s, m] for m in methods)
            ]
            lines.append(f"| {v} | {s} | " + " | ".join(cells) + " |")
    lines.append("")
    for v in variants:
        lines += rule_lines(table, v, sets, methods)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def rule_lines(table: dict, variant: str, sets: list[str], methods: list[str]) -> list[str]:
    """Round 31's rule for one detector: the smallest worst per-set shortfall in mean entity F1
    against the better method; shortfalls within ``TIE`` tie, and a tie goes to the lower
    false-alarm share on normal steps pooled over the sets (what ``risk`` promises), then to
    today's method (the first)."""
    best = {s: max(table[variant, s, m]["f1"] for m in methods) for s in sets}
    worst = {m: max(best[s] - table[variant, s, m]["f1"] for s in sets) for m in methods}
    false = {
        m: float(np.mean([table[variant, s, m]["false_alarms"] for s in sets])) for m in methods
    }
    least = min(worst.values())
    tied = [m for m in methods if worst[m] <= least + TIE]
    chosen = min(tied, key=lambda m: (false[m], methods.index(m)))
    worst_text = ", ".join(f"{m} {worst[m]:.3f}" for m in methods)
    false_text = ", ".join(f"{m} {false[m]:.4f}" for m in methods)
    return [
        f"{variant}: worst F1 shortfall {worst_text}; mean false-alarm share {false_text}; "
        f"chosen by the rule: {chosen}"
    ]


if __name__ == "__main__":
    main()
