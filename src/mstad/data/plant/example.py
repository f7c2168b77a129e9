"""An example plant written as raw CSV folders, for the walk-through, the tests and benchmarks.

Several batches run three stages (``heat``, ``react``, ``cool``) at different operating levels.
Sensors follow three shared latent processes (so their correlations carry the normal pattern)
and are split over three files per batch the way plant historians export them: temperatures
(naive local time, 1 s), pressures (UTC with ``Z``, every 2 s) and flows (``+01:00`` offsets,
columns in another order). A few empty cells and repeated rows are there on purpose, and data
starts a minute before the first stage, so the loss report has something to say. Test batches
carry faults on 3 root-cause sensors each, listed in ``labels.csv``: the sensors *decouple* —
they follow an independent latent process with the same variance, as a fouled sensor or a stuck
controller would. Their values stay in the normal range, so only the broken correlations give
them away (a per-sensor z-score barely sees them; that is the point of correlation models).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

STAGES = ("heat", "react", "cool")
GROUPS = (
    ("temp", "degC", "temperatures.csv"),
    ("press", "bar", "pressures.csv"),
    ("flow", "m3/h", "flows.csv"),
)
#: Batches run in January, so local time (Europe/Berlin) is UTC+1 throughout.
FIRST_START = np.datetime64("2024-01-08T05:00:00")  # UTC; 06:00 local
LOCAL_OFFSET = np.timedelta64(1, "h")


def _sensor_names(n_sensors: int) -> list[tuple[str, int]]:
    """(header, group) for each sensor: three near-equal groups."""
    groups = np.array_split(np.arange(n_sensors), 3)
    out = []
    for g, members in enumerate(groups):
        prefix, unit, _ = GROUPS[g]
        out += [(f"{prefix}_{i:02d} [{unit}]", g) for i in members]
    return out


def _latent(rng, n_steps: int, k: int) -> np.ndarray:
    """``[n_steps, k]`` slow sinusoids with random periods (60–240 s) and phases."""
    t = np.arange(n_steps, dtype=np.float64)[:, None]
    periods = rng.uniform(60, 240, size=k)
    return np.sin(2 * np.pi * t / periods + rng.uniform(0, 2 * np.pi, size=k))


def _batch_signals(rng, n_steps, stage_bounds, levels, gains, loadings, noise):
    """``([n_steps, n_sensors], latent)``: stage level + gain·(loadings @ latent) + noise."""
    latent = _latent(rng, n_steps, loadings.shape[1])
    x = gains * (latent @ loadings.T) + noise * gains * rng.standard_normal((n_steps, gains.size))
    stage_of = np.searchsorted(stage_bounds[1:], np.arange(n_steps), side="right")
    return x + levels[np.minimum(stage_of, len(STAGES) - 1)], latent


def _timestamps(utc: np.ndarray, style: str) -> pa.Array:
    if style == "local":
        return pa.array(np.datetime_as_string(utc + LOCAL_OFFSET, unit="s"))
    if style == "utc":
        return pa.array(np.char.add(np.datetime_as_string(utc, unit="s"), "Z"))
    return pa.array(np.char.add(np.datetime_as_string(utc + LOCAL_OFFSET, unit="s"), "+01:00"))


def _write(path: Path, stamps: pa.Array, headers: list[str], values: np.ndarray) -> None:
    columns = [stamps] + [pa.array(np.round(v, 4), mask=np.isnan(v)) for v in values.T]
    path.write_text(",".join(["timestamp", *headers]) + "\n", encoding="utf-8")
    with path.open("ab") as handle:
        pacsv.write_csv(
            pa.table(columns, names=["timestamp", *headers]),
            handle,
            pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )


def make_example_plant(
    root: Path | str,
    n_train_batches: int = 4,
    n_test_batches: int = 2,
    stage_seconds: tuple[int, int, int] = (300, 600, 300),
    n_sensors: int = 30,
    faults_per_batch: int = 2,
    lead_seconds: int = 60,
    seed: int = 0,
) -> Path:
    """Write ``raw/``, ``schedule.csv``, ``labels.csv`` and ``prepare.yaml`` under ``root``.

    Returns the path of ``prepare.yaml``; ``mstad prepare`` on it writes ``root/prepared``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    names = _sensor_names(n_sensors)
    headers = [h for h, _ in names]
    plain = [h.split(" [")[0] for h in headers]
    base = rng.uniform(10, 100, size=n_sensors)
    levels = np.stack([base * f for f in (0.6, 1.5, 0.9)])  # operating level per stage
    gains = rng.uniform(0.5, 2.0, size=n_sensors)
    loadings = rng.normal(size=(n_sensors, 3))
    bounds = np.cumsum((lead_seconds, *stage_seconds))
    n_steps = int(bounds[-1])
    batches = [f"batch_{k:02d}" for k in range(n_train_batches + n_test_batches)]
    schedule, labels = [], []
    for k, batch in enumerate(batches):
        start = FIRST_START + np.timedelta64(k, "D")
        utc = start + np.arange(n_steps).astype("timedelta64[s]")
        x, latent = _batch_signals(rng, n_steps, bounds, levels, gains, loadings, noise=0.1)
        for s, stage in enumerate(STAGES):
            lo, hi = (start + np.timedelta64(int(b), "s") + LOCAL_OFFSET for b in bounds[s : s + 2])
            schedule.append({"batch": batch, "stage": stage, "start": str(lo), "end": str(hi)})
        if k >= n_train_batches:
            for _ in range(faults_per_batch):
                span = int(rng.choice((30, 60, 120)))
                first = int(rng.integers(bounds[1] + 20, bounds[-1] - span - 20))
                causes = np.sort(rng.choice(n_sensors, size=3, replace=False))
                own = _latent(rng, n_steps, loadings.shape[1])[first : first + span]
                shift = (own - latent[first : first + span]) @ loadings[causes].T
                x[first : first + span, causes] += gains[causes] * shift  # decoupled
                lo = utc[first] + LOCAL_OFFSET
                labels.append(
                    {
                        "batch": batch,
                        "start": str(lo),
                        "end": str(lo + np.timedelta64(span, "s")),
                        "causes": ";".join(plain[c] for c in causes),
                    }
                )
        x[rng.random(x.shape) < 2e-4] = np.nan  # sporadic empty cells
        folder = root / "raw" / batch
        folder.mkdir(parents=True, exist_ok=True)
        for g, (_, _, filename) in enumerate(GROUPS):
            cols = [i for i, (_, grp) in enumerate(names) if grp == g]
            rows = np.arange(n_steps) if g != 1 else np.arange(0, n_steps, 2)
            rows = np.sort(np.concatenate([rows, rows[[5, 50]]]))  # two repeated rows
            if g == 2:
                cols = cols[::-1]
            style = ("local", "utc", "offset")[g]
            _write(
                folder / filename,
                _timestamps(utc[rows], style),
                [headers[i] for i in cols],
                x[np.ix_(rows, cols)],
            )
    _write_table(root / "schedule.csv", schedule, ("batch", "stage", "start", "end"))
    _write_table(root / "labels.csv", labels, ("batch", "start", "end", "causes"))
    config = {
        "name": "example-plant",
        "raw_dir": "raw",
        "schedule": "schedule.csv",
        "labels": "labels.csv",
        "train_batches": batches[:n_train_batches],
        "test_batches": batches[n_train_batches:],
        "output_dir": "prepared",
        "timezone": "Europe/Berlin",
        "period": "1s",
        "fill_limit": 3,
        "normalization": "zscore",
    }
    path = root / "prepare.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _write_table(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
