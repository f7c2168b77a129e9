"""Series from GutenTAG — TimeEval's generator of labelled anomalies (Wenig, Schmidl & Papenbrock,
VLDB 2022; https://github.com/TimeEval/GutenTAG) — written as TSB-AD files (``--dataset tsbad``).

An out-of-pool family for the label-free selection (``best_selection.py --sets gutentag``,
calibration rounds 23–24): a generator mstad's authors did not write, whose design — oscillations,
anomaly kinds and lengths — is fixed below, before any run on it. Per series: 1–20 channels of
sine, random walk, cylinder-bell-funnel, random mode jumps, sawtooth or square waves with white
noise; 2–4 anomalies of GutenTAG's kinds (amplitude, extremum, mean, platform, variance, trend,
pattern, frequency, pattern shift, mode correlation), 1 step (extrema) or 50–400 steps long, each
in one channel; 10,000 normal training steps (GutenTAG's ``train_no_anomaly``, a separate
realisation) and 10,000 test steps. ECG is left out: its generator needs a SciPy API removed in
SciPy 1.14. A design GutenTAG rejects (a kind that does not fit an oscillation) is drawn again.
This is version 2 (round 24); :func:`oscillation` says what version 1 (round 23) got wrong.

GutenTAG is not a dependency of mstad (it pins its own SciPy and pandas); run this script where it
is installed, e.g.::

    python -m venv /tmp/gtenv && /tmp/gtenv/bin/pip install timeeval-gutentag
    /tmp/gtenv/bin/python benchmarks/gutentag_sets.py OUT --draws 44000,45000,46000

and point ``MSTAD_GUTENTAG`` at ``OUT`` (its ``draw-<k>/`` folders) for ``best_selection.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SERIES = 16
LENGTH = 10_000
BASES = ("sine", "random-walk", "cylinder-bell-funnel", "random-mode-jump", "sawtooth", "square")


def oscillation(kind: str, rnd: random.Random) -> dict:
    """One channel's base oscillation (GutenTAG's configuration keys).

    Units, as GutenTAG 1.5's code reads them: a periodic wave's ``frequency`` is cycles per 100
    points (0.2–2: periods of 50–500 steps); a random mode jump's is the number of equal
    segments the whole series is cut into, each at a random mode (10–50: a jump every 200–1,000
    steps; its schema's "per 100 points" is not what the code does). Round 23 ran version 1 of
    this design (commit 6b674bf): periods of 1,250–5,000 steps and ``frequency=0.01`` for mode
    jumps — one mode per realisation, so training and test sat in opposite modes half the time
    by construction (calibration_log §22–§23)."""
    noise = {"variance": 0.05}
    return {
        "sine": {"kind": "sine", "frequency": rnd.choice([0.2, 0.5, 1.0, 2.0]), "amplitude": 1},
        "random-walk": {"kind": "random-walk", "amplitude": 2, "smoothing": 0.01},
        "cylinder-bell-funnel": {
            "kind": "cylinder-bell-funnel",
            "avg-pattern-length": 100,
            "variance-pattern-length": 20,
            "variance-amplitude": 2,
        },
        "random-mode-jump": {
            "kind": "random-mode-jump",
            "frequency": rnd.choice([10, 20, 50]),
            "channel-diff": 1,
            "channel-offset": 1,
        },
        "sawtooth": {"kind": "sawtooth", "frequency": 0.5, "amplitude": 1, "width": 0.5},
        "square": {"kind": "square", "frequency": 0.5, "amplitude": 1, "duty": 0.5},
    }[kind] | noise


def anomaly_kind(base: str, rnd: random.Random) -> dict:
    """An anomaly kind that GutenTAG can put on a channel of oscillation ``base``."""
    if base == "random-mode-jump":
        return {"kind": "mode-correlation"}
    options = [
        {"kind": "amplitude", "amplitude_factor": rnd.choice([0.3, 2.0])},
        {"kind": "extremum", "min": rnd.random() < 0.5, "local": rnd.random() < 0.5},
        {"kind": "mean", "offset": rnd.choice([-1.0, 1.0])},
        {"kind": "platform", "value": 0.0},
        {"kind": "variance", "variance": 0.3},
        {"kind": "trend", "oscillation": {"kind": "polynomial", "polynomial": [0, 0.005]}},
    ]
    if base in ("sine", "sawtooth", "square", "cylinder-bell-funnel"):
        options.append(
            {
                "kind": "pattern",
                "sinusoid_k": 10.0,
                "cbf_pattern_factor": 2.0,
                "square_duty": 0.2,
                "sawtooth_width": 0.9,
            }
        )
    if base in ("sine", "sawtooth", "square"):
        options.append({"kind": "frequency", "frequency_factor": rnd.choice([0.5, 2.0])})
        options.append({"kind": "pattern-shift", "shift_by": 5, "transition_window": 10})
    return rnd.choice(options)


def design(name: str, rnd: random.Random) -> dict:
    channels = rnd.choice([1, 3, 5, 10, 20])
    bases = [
        rnd.choice(
            [
                "sine",
                "random-walk",
                "cylinder-bell-funnel",
                "random-mode-jump",
                "sawtooth",
                "square",
            ]
        )
        for _ in range(channels)
    ]
    anomalies = []
    for _ in range(rnd.choice([2, 3, 4])):
        channel = rnd.randrange(channels)
        kind = anomaly_kind(bases[channel], rnd)
        length = 1 if kind["kind"] == "extremum" else rnd.choice([50, 100, 200, 400])
        position = rnd.choice(["beginning", "middle", "end"])
        anomalies.append(
            {"position": position, "length": length, "channel": channel, "kinds": [kind]}
        )
    return {
        "name": name,
        "length": LENGTH,
        "semi-supervised": True,
        "base-oscillations": [oscillation(b, rnd) for b in bases],
        "anomalies": anomalies,
    }


def write_draw(out: Path, draw: int) -> list[dict]:
    """``SERIES`` series of draw ``draw`` as TSB-AD files in ``out``; returns their designs."""
    from gutenTAG import GutenTAG

    out.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(draw)
    written, attempt = [], -1
    while len(written) < SERIES:
        attempt += 1
        config = design(f"gt{attempt:03d}", rnd)
        with tempfile.TemporaryDirectory(prefix="gutentag-") as folder:  # GutenTAG's own files
            raw = Path(folder)
            try:
                gt = GutenTAG(seed=draw * 1000 + attempt)
                gt.load_config_dict({"timeseries": [config]}).generate(output_folder=raw)
            except Exception as exc:  # an anomaly kind that does not fit its oscillation: redraw
                print(f"draw {draw} design {attempt}: redrawn ({type(exc).__name__})")
                continue
            train = pd.read_csv(raw / config["name"] / "train_no_anomaly.csv")
            test = pd.read_csv(raw / config["name"] / "test.csv")
        values = [c for c in test.columns if c.startswith("value")]
        frame = pd.concat([train[values], test[values]], ignore_index=True)
        labels = np.r_[np.zeros(len(train), int), test["is_anomaly"].astype(int).to_numpy()]
        frame["Label"] = labels
        index = len(written)
        first = int(np.argmax(labels))
        name = f"{index:03d}_GutenTAG_id_{draw}-{index}_Synthetic_tr_{len(train)}_1st_{first}.csv"
        frame.to_csv(out / name, index=False)
        written.append({"file": name, **config})
    (out / "design.json").write_text(json.dumps(written, indent=1))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--draws", default="0", help="comma-separated draws (generator seeds)")
    args = parser.parse_args()
    for draw in (int(d) for d in args.draws.split(",")):
        written = write_draw(args.out / f"draw-{draw}", draw)
        print(f"draw {draw}: {len(written)} series in {args.out / f'draw-{draw}'}")


if __name__ == "__main__":
    main()
