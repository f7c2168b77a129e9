"""``mstad report RUN_DIR``: a self-contained folder (PNGs + ``index.html`` + ``entities.csv``).

What a detector cannot provide is left out with a note in the page, never an error: heatmaps need
a saved model with a map (``--save-models``, MSCRED), sensor panels need the stored test series,
root-cause sensor choice needs ``--explain``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mstad.atomic import atomic_path, write_text
from mstad.evaluation.layout import (
    AT_THRESHOLD_SHOWN,
    HEADLINE,
    PA_WARNING,
    PROTOCOL_TITLES,
    PROTOCOLS,
)
from mstad.report.figures import curves_figure, entity_figure, heatmap_figure, loss_figure
from mstad.runs.rundir import EXPLAIN_DIR, REPORT_DIR, SERIES_DIR, RunFolder
from mstad.runs.view import NO_HEATMAP, RunView, open_run, rank_sensors, strongest_events

#: the report's metric columns: the headline (threshold-free), then P / R / F1 at threshold
COLUMNS = {**HEADLINE, **AT_THRESHOLD_SHOWN}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save(fig, path: Path) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path.name


def heatmap_times(score: np.ndarray, threshold: float | None, k: int) -> list[int]:
    """Peak step of the ``k`` highest detected events (or of the k highest scores if none)."""
    events = strongest_events(score, threshold) if threshold is not None else []
    if events:
        return [e.peak_step for e in events[:k]]
    return [int(t) for t in np.argsort(-score)[:k]]


def _metrics_table(run: RunView) -> str:
    rows = []
    for protocol in PROTOCOLS:
        values = run.metrics.get(protocol)
        if values:
            cells = "".join(
                f"<td>{values[k]:.3f}</td>" if values.get(k) is not None else "<td>–</td>"
                for k in COLUMNS
            )
            rows.append(f"<tr><th>{PROTOCOL_TITLES[protocol]}</th>{cells}</tr>")
    if not rows:
        return "<p>The run has no labels, so no metrics.</p>"
    head = "".join(f"<th>{title}</th>" for title in COLUMNS.values())
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _entity_section(run, name, out, top_k, notes) -> str:
    parts = [f'<h3 id="entity-{_safe(name)}">{html.escape(name)}</h3>']
    parts.append(
        f'<img src="{_save(entity_figure(run, name), out / f"entity_{_safe(name)}.png")}">'
    )
    times = heatmap_times(run.score(name), run.threshold(name), top_k)
    maps = [(t, run.heatmap(name, t)) for t in times]
    if maps and all(m is not None for _, m in maps):
        kind, unit = maps[0][1].kind.split(",")[0], maps[0][1].unit
        fig = heatmap_figure([(t, m.matrix) for t, m in maps], run.sensors(name), kind, name, unit)
        parts.append(f'<img src="{_save(fig, out / f"heatmap_{_safe(name)}.png")}">')
    elif top_k:
        notes.add(NO_HEATMAP.replace("No heatmap", "no heatmaps"))
    parts.append(_root_cause_tables(run, name, out))
    history = run.history(name)
    if history:
        fig = loss_figure(history, name)
        parts.append(f'<img src="{_save(fig, out / f"loss_{_safe(name)}.png")}">')
    return "\n".join(parts)


def _warnings_list(lines: list[str]) -> str:
    """The run's data warnings (``warnings.json``), listed where the metrics are read."""
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<h2>Data warnings ({len(lines)})</h2><ul class="note">{items}</ul>'


def _ranked_table(table: pd.DataFrame, sections: list[str]) -> str:
    """The ranked entities as a sortable HTML table (click a column title); entities with a
    section below link to it."""

    def entity(name: str) -> str:
        text = html.escape(name)
        return f'<a href="#entity-{_safe(name)}">{text}</a>' if name in sections else text

    shown = table.copy()
    shown["entity"] = shown["entity"].map(entity)
    body = shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", escape=False)
    return body.replace('<table border="1" class="dataframe">', '<table class="sortable">', 1)


def _root_cause_tables(
    run: RunView, name: str, out: Path, events: int = 3, sensors: int = 5
) -> str:
    """Per detected event (strongest first): the top sensors by summed contribution, the
    labelled causes of an overlapping true event, and a zoom on the event's top sensors."""
    explain, threshold = run.explain(name), run.threshold(name)
    if explain is None or threshold is None:
        return ""
    score, names = run.score(name), run.sensors(name)
    detector = run.detector(name)  # loaded once for every event's duration class
    blocks = []
    for event in strongest_events(score, threshold)[:events]:
        start, end = event.start, event.end
        table = rank_sensors(explain, start, end, names).head(sensors)
        truth = run.true_causes(name, start, end)
        causes = [names[c] for c in truth or [] if c < len(names)]
        top = [int(i) for i in table["index"].head(3)]
        zoom = entity_figure(run, name, top, event.window(len(score)))
        image = _save(zoom, out / f"event_{_safe(name)}_{start}.png")
        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{html.escape(r.sensor)}</td><td>{r.share:.2f}</td>"
            f"<td>{'✓' if r.sensor in causes else ''}</td></tr>"
            for r in table.itertuples()
        )
        truth_text = (
            ", ".join(causes)
            if causes
            else ("none labelled" if truth is not None else "no true event")
        )
        duration = run.duration(name, start, end, detector)
        duration_text = f"; duration class: {html.escape(duration)}" if duration else ""
        blocks.append(
            f"<p>Detected event steps {start}–{end} (peak {event.peak:.3g}{duration_text}); "
            f"true causes: {html.escape(truth_text)}</p><table><tr><th>rank</th><th>sensor</th>"
            f'<th>share</th><th>true cause</th></tr>{rows}</table><img src="{image}">'
        )
    if not blocks:
        return "<p>No detected event at the validation threshold.</p>"
    return "<h4>Root cause — top sensors per detected event</h4>" + "".join(blocks)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px}}
img{{max-width:100%}}.note{{color:#a15c00}}table.sortable th{{cursor:pointer}}</style>
<script>document.addEventListener("click",e=>{{const th=e.target.closest("table.sortable th");
if(!th)return;const t=th.closest("table"),i=[...th.parentNode.children].indexOf(th),
rows=[...t.tBodies[0].rows],n=v=>{{const x=parseFloat(v);return isNaN(x)?v:x}},
up=th.dataset.up!=="1";th.dataset.up=up?"1":"0";rows.sort((a,b)=>{{const x=n(a.cells[i].innerText),
y=n(b.cells[i].innerText);return (x>y?1:x<y?-1:0)*(up?1:-1)}});
rows.forEach(r=>t.tBodies[0].append(r))}});
</script></head><body>
<h1>{title}</h1><p>{subtitle}</p>{metrics}<p class="note">{warning}</p>{notes}{data_warnings}
{curves}<h2>Entities ranked by highest calibrated score</h2><p>Scores are surprises: −log10 of
the probability of so high a score on the entity's own validation data, bounded below 10, so
they compare across entities.</p>{table}<h2>Selected entities</h2>{sections}
</body></html>"""


def build_report(
    run_dir: Path | str,
    out: Path | str | None = None,
    entities: list[str] | None = None,
    top_entities: int = 6,
    top_k: int = 3,
) -> Path:
    """Write the report folder (default ``RUN_DIR/report``) and return its ``index.html``."""
    run = open_run(run_dir)
    folder = RunFolder(run.path)
    out = Path(out) if out is not None else folder.folder(REPORT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    notes: set[str] = set()
    table = run.entity_table()
    write_text(out / "entities.csv", table.to_csv(index=False))
    fig = curves_figure(run)
    curves = f'<img src="{_save(fig, out / "curves.png")}">' if fig is not None else ""
    if fig is None:
        notes.add("no ROC/PR curves: no entity has both normal and anomalous labelled steps")
    chosen = list(entities) if entities else table["entity"].head(top_entities).tolist()
    unknown = [e for e in chosen if e not in run.entity_names]
    if unknown:
        from mstad.runs.view import RunError

        raise RunError(f"{run.path}: no entity {unknown[0]!r}; choose from the run's entities")
    if not folder.folder(SERIES_DIR).is_dir():
        notes.add("no sensor panels: the run did not store its test series (store_series)")
    if not folder.folder(EXPLAIN_DIR).is_dir():
        notes.add("sensors shown are the first three: run with --explain to show top contributors")
    sections = "\n".join(_entity_section(run, name, out, top_k, notes) for name in chosen)
    page = PAGE.format(
        title=html.escape(f"mstad report — {run.path.name}"),
        subtitle=html.escape(
            f"data set {run.config.get('dataset')}, detector {run.config.get('model')} "
            f"{run.config.get('params') or ''}, {len(run.entity_names)} entities"
        ),
        metrics=_metrics_table(run),
        warning=html.escape(
            "P/R/F1 use thresholds fitted on validation scores only. " + PA_WARNING
        ),
        notes="".join(f'<p class="note">Note: {html.escape(n)}.</p>' for n in sorted(notes)),
        data_warnings=_warnings_list(run.warnings),
        curves=curves,
        table=_ranked_table(table, chosen),
        sections=sections,
    )
    write_text(out / "index.html", page)
    return out / "index.html"
