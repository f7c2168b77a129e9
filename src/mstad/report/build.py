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
from mstad.evaluation.metrics import PA_WARNING
from mstad.report.figures import curves_figure, entity_figure, heatmap_figure
from mstad.runs.rundir import EXPLAIN_DIR, REPORT_DIR, SERIES_DIR, RunFolder
from mstad.runs.view import RunView, detected_events, open_run

HEADLINE = ("auroc", "ap", "vus_pr", "vus_roc", "precision", "recall", "f1")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save(fig, path: Path) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path.name


def heatmap_times(score: np.ndarray, threshold: float | None, k: int) -> list[int]:
    """Peak step of the ``k`` highest detected events (or of the k highest scores if none)."""
    events = detected_events(score, threshold) if threshold is not None else np.empty((0, 2))
    if len(events):
        peaks = [int(s + np.argmax(score[s : e + 1])) for s, e in events]
        return sorted(peaks, key=lambda t: -score[t])[:k]
    return [int(t) for t in np.argsort(-score)[:k]]


def _metrics_table(run: RunView) -> str:
    rows = []
    for protocol in ("concat", "per_entity_mean"):
        values = run.metrics.get(protocol)
        if values:
            cells = "".join(
                f"<td>{values[k]:.3f}</td>" if values.get(k) is not None else "<td>–</td>"
                for k in HEADLINE
            )
            rows.append(f"<tr><th>{protocol}</th>{cells}</tr>")
    if not rows:
        return "<p>The run has no labels, so no metrics.</p>"
    head = "".join(f"<th>{k}</th>" for k in HEADLINE)
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _entity_section(run, name, out, top_k, notes) -> str:
    parts = [f"<h3>{html.escape(name)}</h3>"]
    parts.append(
        f'<img src="{_save(entity_figure(run, name), out / f"entity_{_safe(name)}.png")}">'
    )
    detector = run.detector(name)
    series = run.series(name)
    if detector is not None and detector.heatmap_kind and series is not None:
        times = heatmap_times(run.score(name), run.threshold(name), top_k)
        maps = [(t, detector.heatmap(series, t)) for t in times]
        fig = heatmap_figure(maps, run.sensors(name), detector.heatmap_kind, name)
        parts.append(f'<img src="{_save(fig, out / f"heatmap_{_safe(name)}.png")}">')
    elif detector is not None and not detector.heatmap_kind:
        notes.add(f"no heatmap: detector {detector.name!r} has no map behind its score")
    else:
        notes.add("no heatmaps: run with --save-models (and a detector with a map, e.g. mscred)")
    return "\n".join(parts)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px}}
img{{max-width:100%}}.note{{color:#a15c00}}</style></head><body>
<h1>{title}</h1><p>{subtitle}</p>{metrics}<p class="note">{warning}</p>{notes}
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
        curves=curves,
        table=pd.DataFrame(table).to_html(
            index=False, float_format=lambda v: f"{v:.3f}", na_rep="–"
        ),
        sections=sections,
    )
    write_text(out / "index.html", page)
    return out / "index.html"
