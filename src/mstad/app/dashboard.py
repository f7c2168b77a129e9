"""mstad dashboard: look at a run — when (score, threshold, labels), where (heatmap), which sensors.

Started by ``mstad dashboard RUN_DIR …``, which passes the run folders in ``MSTAD_RUNS``
(``os.pathsep``-separated; each a run folder or a folder of runs). Reads run folders only; a
missing or half-written run shows its one-line :class:`RunError` instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from mstad.app.charts import curves_figure, heatmap_figure, score_figure, sensors_figure
from mstad.errors import MstadError
from mstad.evaluation import threshold_metrics
from mstad.evaluation.layout import HEADLINE, PA_WARNING, PROTOCOL_TITLES, PROTOCOLS
from mstad.models.calibration import CAP
from mstad.models.thresholds import alarm_share_warning
from mstad.runs.rundir import RunFolder
from mstad.runs.view import (
    NO_HEATMAP,
    RunError,
    contributing,
    find_runs,
    open_run,
    pick_sensors,
    rank_sensors,
    strongest_events,
)


@st.cache_resource(show_spinner=False, max_entries=16)
def _cached_run(run_path: str, stamp: float):
    """The opened run, kept across reruns and sessions until its metrics file changes."""
    return open_run(run_path)


def get_run(run_path: str):
    """The run at ``run_path`` from the cache (read and checked once)."""
    metrics = Path(run_path) / "metrics.json"
    return _cached_run(run_path, metrics.stat().st_mtime if metrics.is_file() else 0.0)


@st.cache_resource(show_spinner=False)
def load_detector(run_path: str, entity: str):
    """The saved detector of one entity (``--save-models``), kept across reruns."""
    return get_run(run_path).detector(entity)


@st.cache_data(show_spinner=False, max_entries=64)
def heatmap_at(run_path: str, entity: str, t: int):
    """The map at step ``t`` (saved detector's own, or stored contributions), cached."""
    return get_run(run_path).heatmap(entity, t, detector=load_detector(run_path, entity))


def run_paths() -> list[str]:
    roots = [p for p in os.environ.get("MSTAD_RUNS", "").split(os.pathsep) if p]
    return [str(p) for p in find_runs(roots)] or roots


def headline(run) -> pd.DataFrame:
    """The threshold-free headline metrics (:mod:`mstad.evaluation.layout`), one row per
    protocol, columns under their display titles."""
    rows = {
        PROTOCOL_TITLES[p]: {title: run.metrics.get(p, {}).get(k) for k, title in HEADLINE.items()}
        for p in PROTOCOLS
    }
    return pd.DataFrame(rows).T


def threshold_label(fitted: dict) -> str:
    """``pot, fitted on validation (note)``: what the run's threshold is and where it came from."""
    if not fitted:
        return "validation threshold"
    text = f"{fitted.get('method', '?')}, fitted on {fitted.get('fitted_on', '?')}"
    return text + (f" ({fitted['note']})" if fitted.get("note") else "")


def threshold_panel(run, entity: str, score: np.ndarray, labels) -> float:
    """Slider and typed value (+ validation button) and the live precision / recall / F1.

    Calibrated scores are surprises in decades of validation tail probability, so the slider's
    0–10 already spans ten orders of magnitude of p; the typed value takes any number (runs of
    older versions had unbounded scores)."""
    validation = run.threshold(entity)
    lo = min(0.0, float(score.min()))
    hi = CAP if float(score.max()) <= CAP else float(score.max())
    if validation is not None:
        lo, hi = min(lo, validation), max(hi, validation)
    key, typed = f"threshold::{run.path}::{entity}", f"threshold_typed::{run.path}::{entity}"
    start = validation if validation is not None else float(np.quantile(score, 0.99))
    if typed not in st.session_state:
        st.session_state[typed] = start
    if key not in st.session_state:
        st.session_state[key] = min(max(start, lo), hi)

    def use_validation() -> None:
        st.session_state[key] = st.session_state[typed] = start

    def slid() -> None:
        st.session_state[typed] = st.session_state[key]

    def typed_in() -> None:
        st.session_state[key] = min(max(float(st.session_state[typed]), lo), hi)

    left, middle, right = st.columns([4, 1, 1])
    left.slider(
        "threshold (surprise: decades of validation tail probability)",
        min_value=lo,
        max_value=hi,
        step=0.01 if hi - lo <= 2 * CAP else (hi - lo) / 1000,
        key=key,
        format="%.4g",
        on_change=slid,
    )
    threshold = float(
        middle.number_input("typed value", key=typed, format="%.6g", on_change=typed_in)
    )
    right.button(
        "use validation threshold",
        on_click=use_validation,
        disabled=validation is None,
        help="the threshold fitted on training/validation scores when the run was made",
    )
    fitted = run.thresholds.get(entity, {})
    if validation is not None:
        st.caption(f"validation threshold {validation:.4g}: {threshold_label(fitted)}")
    alarms = int((score > threshold).sum())
    if labels is None:
        st.caption(f"{alarms} alarm steps; this entity has no labels, so no precision/recall.")
        return threshold
    m = threshold_metrics(labels, score, threshold)
    cols = st.columns(4)
    cols[0].metric("precision", f"{m['precision']:.3f}")
    cols[1].metric("recall", f"{m['recall']:.3f}")
    cols[2].metric("F1", f"{m['f1']:.3f}")
    cols[3].metric("alarm steps", f"{alarms}")
    return threshold


def clicked_step(event) -> int | None:
    points = getattr(getattr(event, "selection", None), "points", None) or []
    return int(round(points[0]["x"])) if points and points[0].get("x") is not None else None


def heatmap_panel(run, entity: str, score: np.ndarray, clicked: int | None) -> None:
    detector = load_detector(str(run.path), entity)
    if run.explain(entity) is None and not getattr(detector, "heatmap_kind", None):
        st.info(NO_HEATMAP + ".")
        return
    key = f"heat_t::{run.path}::{entity}"
    if key not in st.session_state:
        st.session_state[key] = int(np.argmax(score))
    if clicked is not None and clicked != st.session_state.get(key + "::click"):
        st.session_state[key + "::click"] = clicked
        st.session_state[key] = min(max(clicked, 0), len(score) - 1)
    t = st.number_input("time step (or click the score curve)", 0, len(score) - 1, key=key)
    found = heatmap_at(str(run.path), entity, int(t))
    st.plotly_chart(heatmap_figure(found, run.sensors(entity), int(t)))


def root_cause_panel(run, entity: str, score: np.ndarray, threshold: float) -> None:
    events = strongest_events(score, threshold)
    if not events:
        st.info("No detected event at this threshold.")
        return
    explain = run.explain(entity)
    if explain is None:
        st.info("No root-cause ranking: run with --explain (detectors that explain per sensor).")
        return
    event = st.selectbox(
        "detected event (strongest first)",
        events,
        format_func=lambda e: (
            f"steps {e.start}–{e.end} ({e.end - e.start + 1} steps, peak {e.peak:.4g})"
        ),
        key=f"event::{run.path}::{entity}",
    )
    start, end = event.start, event.end
    names = run.sensors(entity)
    table = rank_sensors(explain, start, end, names).head(10)
    duration = run.duration(entity, start, end, load_detector(str(run.path), entity))
    if duration:
        st.caption(f"duration class (MSCRED's per-scale counts): {duration}")
    causes = run.true_causes(entity, start, end)
    if causes:
        st.caption(
            "true root causes of the overlapping labelled event: "
            + ", ".join(names[c] if c < len(names) else str(c) for c in causes)
        )
    st.dataframe(table, hide_index=True)
    series = run.series(entity)
    if series is not None:  # zoom to the event: its top sensors around it
        fig = sensors_figure(series, table["index"].head(3).tolist(), names, run.intervals(entity))
        fig.update_xaxes(range=list(event.window(len(series))))
        fig.update_layout(title=f"event steps {start}–{end}: its top sensors")
        st.plotly_chart(fig, key=f"zoom::{run.path}::{entity}")


def compare_panel(paths: list[str], current: str) -> None:
    others = st.multiselect("compare with runs", [p for p in paths if p != current])
    rows = []
    for path in [current, *others]:
        try:
            run = get_run(path)
        except RunError as error:
            st.warning(str(error))
            continue
        for view in PROTOCOLS:
            m = run.metrics.get(view, {})
            shown = {title: m.get(k) for k, title in HEADLINE.items()}
            rows.append({"run": run.label, "view": PROTOCOL_TITLES[view], **shown})
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def main() -> None:
    st.set_page_config(page_title="mstad dashboard", layout="wide")
    st.title("mstad dashboard")
    paths = run_paths()
    if not paths:
        st.error("No run folders given: start with `mstad dashboard RUN_DIR` after `mstad run`.")
        st.stop()
    states = {p: run_state(p) for p in paths}
    finished = [i for i, p in enumerate(paths) if not states[p]]
    path = st.sidebar.selectbox(
        "run",
        paths,
        index=finished[0] if finished else 0,
        format_func=lambda p: (os.path.basename(p) or p) + states[p],
    )
    try:
        page(get_run(path), path, paths)
    except MstadError as error:  # a broken or tampered run file: its one line, no traceback
        st.error(str(error))


def run_state(path: str) -> str:
    """`` · running 3/54`` for a run a live process is filling, else empty."""
    folder = RunFolder(path)
    if not folder.is_running():
        return ""
    beat = folder.running() or {}
    return f" · running {beat.get('done', '?')}/{beat.get('total', '?')}"


def page(run, path: str, paths: list[str]) -> None:
    """Everything below the run picker, for one opened run."""
    table = run.entity_table()
    names = table["entity"].tolist()
    key = f"entity::{path}"
    picked = st.session_state.get(f"overview::{path}")
    rows = getattr(getattr(picked, "selection", None), "rows", None) or []
    if rows and st.session_state.get(key + "::picked") != names[rows[0]]:
        st.session_state[key] = st.session_state[key + "::picked"] = names[rows[0]]
    entity = st.sidebar.selectbox("entity (highest score first)", names, key=key)
    st.sidebar.caption(
        f"{run.config.get('dataset')} · {run.config.get('model')} · {len(table)} entities"
    )

    st.subheader(run.label)
    st.dataframe(headline(run), width="content")
    st.caption("Headline metrics are threshold-free. " + PA_WARNING)
    if run.warnings:
        with st.expander(f"⚠ Data warnings ({len(run.warnings)})"):
            st.text("\n".join(run.warnings))
    with st.expander(f"Entities ({len(table)}): click a row to open it", expanded=len(table) > 1):
        st.dataframe(
            table.assign(alarm_share=100 * table["alarm_share"]),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key=f"overview::{path}",
            # printf formats work on every streamlit >= 1.40 (the named presets came later)
            column_config={"alarm_share": st.column_config.NumberColumn("alarm %", format="%.1f")},
        )
    entity_view(run, path, entity)
    st.markdown("### Runs side by side")
    compare_panel(paths, path)


@st.fragment
def entity_view(run, path: str, entity: str) -> None:
    """One entity: threshold, score, curves, sensors, heatmap, root cause. A fragment: moving
    the threshold or clicking the curve reruns only this part of the page (a fragment's own
    errors are shown here, as the page's are in :func:`main`)."""
    try:
        _entity_view(run, path, entity)
    except MstadError as error:
        st.error(str(error))


def _entity_view(run, path: str, entity: str) -> None:
    score, labels = run.score(entity), run.labels(entity)
    intervals = run.intervals(entity)
    st.markdown(f"### When — {entity}")
    threshold = threshold_panel(run, entity, score, labels)
    most = alarm_share_warning(entity, score, threshold)  # at the threshold shown, not the run's
    if most is not None:
        st.warning(most)
    chart = score_figure(
        score,
        threshold,
        intervals,
        run.threshold(entity),
        threshold_label(run.thresholds.get(entity, {})),
    )
    event = st.plotly_chart(chart, on_select="rerun", selection_mode="points", key="score_chart")
    downloads(run, entity, score, threshold)
    if labels is not None and 0 < labels.sum() < len(labels):
        with st.expander("ROC and precision–recall of this entity"):
            st.plotly_chart(curves_figure(labels, score))

    series = run.series(entity)
    if series is not None:
        names = run.sensors(entity)
        chosen = st.multiselect(
            "sensors",
            list(range(len(names))),
            pick_sensors(run, entity),
            format_func=lambda j: names[j],
            key=f"sensors::{path}::{entity}",
        )
        st.plotly_chart(sensors_figure(series, chosen, names, intervals))
    else:
        st.info("No sensor series: the run did not store its test series (store_series).")

    st.markdown("### Where — heatmap")
    heatmap_panel(run, entity, score, clicked_step(event))
    st.markdown("### Which sensors — root cause of a detected event")
    root_cause_panel(run, entity, score, threshold)


def downloads(run, entity: str, score: np.ndarray, threshold: float) -> None:
    """The detected events and the alarm steps at the current threshold, as CSV."""
    explain = run.explain(entity)
    names = run.sensors(entity)
    rows = []
    for event in sorted(strongest_events(score, threshold), key=lambda e: e.start):
        top = []
        if explain is not None:
            ranked = rank_sensors(explain, event.start, event.end, names)
            top = contributing(ranked, 3)["sensor"].tolist()
        rows.append(
            {
                "start": event.start,
                "end": event.end,
                "steps": event.end - event.start + 1,
                "peak": event.peak,
                "top_sensors": ";".join(top),
            }
        )
    frame = pd.DataFrame(rows, columns=["start", "end", "steps", "peak", "top_sensors"])
    alarms = np.flatnonzero(score > threshold)
    left, right = st.columns(2)
    left.download_button(
        f"events at this threshold ({len(frame)}) · CSV",
        frame.to_csv(index=False),
        file_name=f"{entity}_events.csv",
        mime="text/csv",
    )
    right.download_button(
        f"alarm steps ({len(alarms)}) · CSV",
        pd.DataFrame({"t": alarms, "score": score[alarms]}).to_csv(index=False),
        file_name=f"{entity}_alarms.csv",
        mime="text/csv",
    )


main()
