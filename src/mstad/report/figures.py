"""Matplotlib figures of a run: ROC/PR curves, one entity's score and sensors, heatmaps.

Every function returns a :class:`matplotlib.figure.Figure` (Agg backend, nothing shown) so the
report can save it and tests can inspect it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from mstad.runs.view import RunView, detected_events, pick_sensors  # noqa: E402

TRUE = "#d62728"
ALARM = "#ff7f0e"
SCORE = "#1f77b4"


def curves_figure(run: RunView) -> Figure | None:
    """ROC and PR curves: all entities concatenated (bold) and each entity (thin)."""
    labelled = [(n, run.labels(n), run.score(n)) for n in run.entity_names]
    labelled = [(n, y, s) for n, y, s in labelled if y is not None and 0 < y.sum() < len(y)]
    if not labelled:
        return None
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for _, y, s in labelled[:200]:
        fpr, tpr, _ = roc_curve(y, s)
        precision, recall, _ = precision_recall_curve(y, s)
        roc_ax.plot(fpr, tpr, color="grey", alpha=0.25, lw=0.8)
        pr_ax.plot(recall, precision, color="grey", alpha=0.25, lw=0.8)
    y = np.concatenate([y for _, y, _ in labelled])
    s = np.concatenate([s for _, _, s in labelled])
    fpr, tpr, _ = roc_curve(y, s)
    precision, recall, _ = precision_recall_curve(y, s)
    concat = run.metrics.get("concat", {})
    roc_ax.plot(fpr, tpr, color=SCORE, lw=2.2, label=f"concat AUROC {concat.get('auroc', 0):.3f}")
    pr_ax.plot(recall, precision, color=SCORE, lw=2.2, label=f"concat AP {concat.get('ap', 0):.3f}")
    roc_ax.plot([0, 1], [0, 1], ls=":", color="black", lw=0.8)
    pr_ax.axhline(y.mean(), ls=":", color="black", lw=0.8, label=f"base rate {y.mean():.3f}")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision–recall", ylim=(0, 1.02))
    for ax in (roc_ax, pr_ax):
        ax.legend(loc="lower right" if ax is roc_ax else "upper right", fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{run.label}: concat (blue) and {len(labelled)} entities (grey)", fontsize=11)
    return fig


def _shade(ax, intervals, color, alpha, label=None) -> None:
    for k, (start, end) in enumerate(intervals):
        ax.axvspan(start, end + 1, color=color, alpha=alpha, lw=0, label=label if k == 0 else None)


#: share of an entity panel's height kept free above the data for its one-row legend
HEADROOM = 0.25


def _headroom(ax) -> None:
    """Raise the panel's top so its legend (upper left, one row) sits above the curves
    rather than on them."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + HEADROOM / (1 - HEADROOM) * (high - low))


def entity_figure(
    run: RunView,
    name: str,
    sensors: list[int] | None = None,
    window: tuple[int, int] | None = None,
) -> Figure:
    """Chosen sensors, then the score with threshold, true intervals and detected events;
    ``window`` (first, last step) zooms to one event."""
    score, threshold = run.score(name), run.threshold(name)
    series, names = run.series(name), run.sensors(name)
    truth = [(iv["start"], iv["end"]) for iv in run.intervals(name)]
    events = detected_events(score, threshold) if threshold is not None else np.empty((0, 2))
    sensors = pick_sensors(run, name) if sensors is None else sensors
    rows = 2 if series is not None and sensors else 1
    fig, axes = plt.subplots(
        rows, 1, figsize=(12, 2.6 * rows + 0.6), sharex=True, layout="constrained", squeeze=False
    )
    t = np.arange(len(score))
    if rows == 2:
        ax = axes[0, 0]
        for i in sensors:
            ax.plot(t, series[:, i], lw=0.8, label=names[i] if i < len(names) else f"s{i}")
        _shade(ax, truth, TRUE, 0.15)
        ax.set_ylabel("sensor value")
        _headroom(ax)
        ax.legend(loc="upper left", fontsize=8, ncol=min(len(sensors), 6))
        ax.grid(alpha=0.3)
    ax = axes[-1, 0]
    ax.plot(t, score, color=SCORE, lw=0.8, label="score")
    if threshold is not None:
        fitted = run.thresholds.get(name, {})
        how = f" ({fitted['method']}, {fitted.get('fitted_on', '?')})" if "method" in fitted else ""
        label = f"threshold {threshold:.3g}{how}"
        ax.axhline(threshold, color="black", ls="--", lw=1, label=label)
    _shade(ax, truth, TRUE, 0.18, "true anomaly")
    low, high = ax.get_ylim()
    for k, (start, end) in enumerate(events):
        ax.hlines(
            low + 0.03 * (high - low),
            start,
            end + 1,
            color=ALARM,
            lw=5,
            label="detected" if k == 0 else None,
        )
    ax.set(xlabel="test time step", ylabel="surprise (decades)")
    _headroom(ax)
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    ax.grid(alpha=0.3)
    if window is not None:
        ax.set_xlim(*window)
        fig.suptitle(f"{name}: steps {window[0]}–{window[1]}", fontsize=10)
    m = run.entity_metrics(name)
    summary = ", ".join(f"{k.upper()} {m[k]:.3f}" for k in ("auroc", "ap") if m.get(k) is not None)
    fig.suptitle(f"{name} — {summary or 'no labels'}; {len(events)} detected event(s)", fontsize=11)
    return fig


def heatmap_figure(
    matrices: list[tuple[int, np.ndarray]], names: list[str], kind: str, entity: str, unit: str
) -> Figure:
    """Side-by-side heatmaps (e.g. MSCRED residual matrices) at the given time steps; the colour
    bar says what the values measure (``unit``)."""
    fig, axes = plt.subplots(
        1,
        len(matrices),
        figsize=(4.2 * len(matrices) + 0.8, 4.4),
        layout="constrained",
        squeeze=False,
    )
    vmax = max(float(m.max()) for _, m in matrices) or 1.0
    for ax, (t, matrix) in zip(axes[0], matrices, strict=True):
        image = ax.imshow(matrix, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"t = {t}", fontsize=10)
        if matrix.shape == (len(names), len(names)) and len(names) <= 40:  # sensor × sensor
            ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
            ax.set_yticks(range(len(names)), names, fontsize=6)
        else:
            ax.set_aspect("auto")
            if matrix.shape[0] == len(names) and len(names) <= 40:  # sensors × steps
                ax.set_yticks(range(len(names)), names, fontsize=6)
                ax.set_xlabel("steps of the window around t", fontsize=8)
    bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    bar.set_label(unit, fontsize=8)
    fig.suptitle(f"{entity}: {kind} at the highest detected events", fontsize=11)
    return fig


def loss_figure(history: list[dict], entity: str) -> Figure:
    """Training and validation loss per epoch of a deep detector (its ``history_``); a star
    marks each validation curve's lowest epoch — the weights early stopping restored. Positive
    losses that span more than a decade get a log axis, so that the late epochs, where early
    stopping decides, are not drawn flat (an NLL, which can be negative, stays linear)."""
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    star_label = "lowest validation loss (weights kept)"  # in the legend once
    drawn = []
    for key in [k for k in history[0] if "loss" in k]:  # not the seconds per epoch
        values = [h.get(key) for h in history]
        values = np.array([np.nan if v is None else float(v) for v in values])
        drawn.append(values[np.isfinite(values)])
        (line,) = ax.plot(epochs, values, marker="o", label=key.replace("_", " "))
        if key.startswith("val_loss") and np.isfinite(values).any():  # the weights kept
            best = int(np.nanargmin(values))
            ax.plot(
                epochs[best], values[best], "*", ms=14, color=line.get_color(), label=star_label
            )
            star_label = "_nolegend_"
    ax.set(xlabel="epoch", ylabel="loss", title=f"{entity}: training history")
    finite = np.concatenate(drawn) if drawn else np.zeros(0)
    if len(finite) and finite.min() > 0 and finite.max() > 10 * finite.min():
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the curves
    return fig
