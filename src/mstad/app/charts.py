"""Plotly charts of one entity of a run: score with threshold and labels, sensors, a heatmap.

Pure functions of arrays, so the dashboard stays a thin layout script and tests can inspect
the figures without a browser.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mstad.runs.view import HeatMap, detected_events

TRUE = "rgba(214, 39, 40, 0.18)"
ALARM = "#ff7f0e"
SCORE = "#1f77b4"


def _shade(fig: go.Figure, intervals, color: str, name: str, row_ref: str = "y") -> None:
    for start, end in intervals:
        fig.add_vrect(x0=start, x1=end + 1, fillcolor=color, line_width=0, layer="below")
    if len(intervals):  # one legend entry for all shaded spans
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker={"size": 12, "color": color, "symbol": "square"},
            )
        )


def score_figure(
    score: np.ndarray,
    threshold: float | None,
    intervals: list[dict],
    validation: float | None,
    validation_label: str = "validation threshold",
) -> go.Figure:
    """Zoomable score curve, the chosen threshold, shaded true intervals and detected events;
    ``validation_label`` names the fitted threshold's method (e.g. ``pot, fitted on
    validation``)."""
    t = np.arange(len(score))
    fig = go.Figure()
    fig.add_trace(  # invisible markers: plotly selects (clicks) points, not lines
        go.Scattergl(
            x=t,
            y=score,
            mode="lines+markers",
            name="score",
            line={"color": SCORE, "width": 1},
            marker={"size": 4, "opacity": 0},
            selected={"marker": {"opacity": 1, "color": ALARM, "size": 7}},
        )
    )
    _shade(fig, [(iv["start"], iv["end"]) for iv in intervals], TRUE, "true anomaly")
    if threshold is not None:
        fig.add_hline(
            y=threshold,
            line={"color": ALARM, "dash": "dash"},
            annotation_text="threshold",
            annotation_position="top left",
        )
        events = detected_events(score, threshold)
        if len(events):
            xs = np.concatenate([[s, e + 1, None] for s, e in events])
            ys = np.concatenate([[threshold, threshold, None] for _ in events])
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name="detected event",
                    line={"color": ALARM, "width": 6},
                )
            )
    if validation is not None and validation != threshold:
        fig.add_hline(
            y=validation,
            line={"color": "grey", "dash": "dot", "width": 1},
            annotation_text=validation_label,
            annotation_position="bottom left",
        )
    fig.update_layout(
        height=330,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="time step",
        yaxis_title="surprise (decades)",
        legend={"orientation": "h", "y": 1.12},
        clickmode="event+select",
        hovermode="x",  # a click anywhere above a step picks that step
    )
    return fig


def sensors_figure(
    series: np.ndarray, columns: list[int], names: list[str], intervals: list[dict]
) -> go.Figure:
    """Chosen sensors over time, offset for readability, on the score's time axis."""
    fig = go.Figure()
    t = np.arange(len(series))
    for k, j in enumerate(columns):
        x = series[:, j]
        spread = np.nanstd(x) or 1.0
        fig.add_trace(
            go.Scattergl(
                x=t,
                y=(x - np.nanmean(x)) / spread - 4 * k,
                mode="lines",
                name=names[j],
                line={"width": 1},
            )
        )
    _shade(fig, [(iv["start"], iv["end"]) for iv in intervals], TRUE, "true anomaly")
    fig.update_layout(
        height=80 + 70 * max(len(columns), 1),
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        xaxis_title="time step",
        yaxis={"showticklabels": False, "title": "standardised, offset"},
    )
    return fig


def heatmap_figure(found: HeatMap, names: list[str], t: int) -> go.Figure:
    """The map behind the score at step ``t``: sensor × sensor (MSCRED) labelled with the
    sensor names; sensors × steps (contributions, columns from ``found.first_step``); any other
    map (MSFlow likelihood) with its row and column indices; the colour bar says what the
    values measure."""
    matrix, kind, first_step = found.matrix, found.kind, found.first_step
    square = matrix.shape == (len(names), len(names))
    rows_are_sensors = matrix.shape[0] == len(names)
    columns = (
        names
        if square
        else list(range(first_step, first_step + matrix.shape[1]))
        if first_step is not None
        else None
    )
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=columns,
            y=names if rows_are_sensors else None,
            colorscale="Viridis",
            colorbar={"title": {"text": found.unit, "side": "right"}},
        )
    )
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title=f"{kind} at step {t}",
        yaxis={"autorange": "reversed"},
    )
    return fig


def curves_figure(labels: np.ndarray, score: np.ndarray) -> go.Figure:
    """ROC and precision–recall curves of one entity (threshold-free: every threshold at once),
    with AUROC and AP in the legend; chance lines for reference."""
    from plotly.subplots import make_subplots
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(labels, score)
    precision, recall, _ = precision_recall_curve(labels, score)
    auroc = float(np.trapezoid(tpr, fpr))
    ap = float(average_precision_score(labels, score))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC", "precision–recall"))
    fig.add_trace(go.Scatter(x=fpr, y=tpr, name=f"ROC (AUROC {auroc:.3f})"), 1, 1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="chance", line={"dash": "dot"}), 1, 1)
    fig.add_trace(go.Scatter(x=recall, y=precision, name=f"PR (AP {ap:.3f})"), 1, 2)
    rate = float(np.mean(labels))
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[rate, rate], name=f"chance AP {rate:.3f}", line={"dash": "dot"}),
        1,
        2,
    )
    fig.update_xaxes(title_text="false positive rate", row=1, col=1)
    fig.update_yaxes(title_text="true positive rate", row=1, col=1)
    fig.update_xaxes(title_text="recall", row=1, col=2)
    fig.update_yaxes(title_text="precision", row=1, col=2)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
