"""`mstad report` writes a self-contained folder for every detector, with notes for what is missing."""

import html

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from conftest import make_run
from mstad.report import build_report
from mstad.report.figures import loss_figure
from mstad.runs.rundir import read_json
from mstad.runs.view import RunError, open_run, strongest_events


def test_report_of_a_detector_without_maps_draws_its_contributions(zscore_run, tmp_path):
    index = build_report(zscore_run, out=tmp_path / "report")
    out = index.parent
    page = html.unescape(index.read_text())
    assert (out / "curves.png").is_file() and "curves.png" in page
    assert "no heatmap" not in page
    table = pd.read_csv(out / "entities.csv")
    run = open_run(zscore_run)
    name = max(run.entity_names, key=lambda n: run.score(n).max())
    assert (out / f"heatmap_{name}.png").is_file() and f"heatmap_{name}.png" in page
    assert "Root cause — top sensors per detected event" in page and "true causes:" in page
    assert table["rank"].tolist() == [1, 2] and table["label"].tolist() == [True, True]
    assert table["entity"].tolist()[0] == name and len(table) == 2
    assert table.loc[0, "max_score"] == pytest.approx(run.score(name).max())
    assert table.loc[0, "auroc"] == pytest.approx(run.metrics["entities"][name]["auroc"])
    figure = imread(out / f"entity_{name}.png")
    assert figure.shape[0] > 300 and figure.shape[1] > 600  # a legible, full-width figure
    assert figure[..., :3].std() > 0.05  # not a blank canvas


def test_report_of_mscred_draws_residual_heatmaps(mscred_run, tmp_path):
    index = build_report(mscred_run, out=tmp_path / "report", top_k=2)
    name = open_run(mscred_run).entity_names[0]
    heatmap = index.parent / f"heatmap_{name}.png"
    assert heatmap.is_file() and heatmap.name in index.read_text()
    loss = index.parent / f"loss_{name}.png"  # MSCRED's training history, saved with the model
    assert loss.is_file() and loss.name in index.read_text()
    assert "no heatmap" not in index.read_text()
    run = open_run(mscred_run)
    events = strongest_events(run.score(name), run.threshold(name))
    assert events, "the tiny MSCRED run should detect something at its validation threshold"
    duration = run.duration(name, events[0].start, events[0].end)
    assert duration and f"duration class: {duration}" in html.unescape(index.read_text())


def test_loss_history_is_kept_in_the_run_without_saved_models(tmp_path):
    """A deep detector's loss per epoch goes into the entity's part, so the report plots it
    with or without --save-models; two flows: both flows' losses, and no seconds."""
    tiny = {
        "window": 16,
        "stride": 8,
        "dilations": [1, 1, 1],
        "epochs": 2,
        "widths": [8, 8, 8],
        "blocks": [1, 1, 1],
    }
    path = make_run(tmp_path / "runs", "msflow", {**tiny, "flows": 2, "reference": "train"})
    run = open_run(path)
    name = run.entity_names[0]
    assert run.detector(name) is None  # nothing saved …
    part = read_json(path / "parts" / f"{name}.json")
    assert [h["epoch"] for h in part["history"]] == [1, 2]
    assert run.history(name) == part["history"]  # … the part holds the history
    assert {"train_loss", "val_loss (flow 2)", "seconds (flow 2)"} <= set(part["history"][0])
    index = build_report(path, out=tmp_path / "report")
    loss = index.parent / f"loss_{name}.png"
    assert loss.is_file() and loss.name in index.read_text()
    lines = loss_figure(part["history"], name).axes[0].lines
    labels = [line.get_label() for line in lines if line.get_marker() == "o"]
    assert labels == ["train loss", "val loss", "train loss (flow 2)", "val loss (flow 2)"]
    stars = [line for line in lines if line.get_marker() == "*"]  # the restored epochs
    for star, key in zip(stars, ["val_loss", "val_loss (flow 2)"], strict=True):
        values = [h[key] for h in part["history"]]
        assert star.get_ydata()[0] == min(values)
        assert star.get_xdata()[0] == 1 + values.index(min(values))


def test_loss_axis_is_logarithmic_for_positive_losses_over_a_decade_and_linear_otherwise():
    mse = [{"epoch": e, "train_loss": 0.03 / e, "val_loss": 0.025 / e} for e in range(1, 40)]
    assert loss_figure(mse, "plant").axes[0].get_yscale() == "log"
    nll = [{"epoch": e, "train_loss": 5.0 - e, "val_loss": 5.5 - e} for e in range(1, 10)]
    assert loss_figure(nll, "flow").axes[0].get_yscale() == "linear"  # negative: no log
    flat = [{"epoch": e, "train_loss": 1.0 + 0.01 * e} for e in range(1, 5)]
    assert loss_figure(flat, "flat").axes[0].get_yscale() == "linear"  # within a decade


def test_report_names_an_unknown_entity(zscore_run, tmp_path):
    with pytest.raises(RunError, match="no entity 'nope'"):
        build_report(zscore_run, out=tmp_path, entities=["nope"])


def test_report_of_a_half_written_run_says_how_to_finish_it(half_written_run):
    with pytest.raises(RunError, match=r"half-written run \(metrics.json missing.*--resume"):
        build_report(half_written_run)


def test_heatmap_times_are_the_highest_peaks_in_distinct_events():
    from mstad.report.build import heatmap_times

    score = np.zeros(100)
    score[10:13] = [1, 5, 2]
    score[50:52] = [3, 4]
    assert heatmap_times(score, 0.5, 3) == [11, 51]
    assert heatmap_times(score, None, 2) == [11, 51]  # no threshold: the highest steps


def test_entity_panels_keep_room_above_the_data_for_their_legends(zscore_run):
    from mstad.report.figures import HEADROOM, entity_figure

    run = open_run(zscore_run)
    name = run.entity_names[0]
    figure = entity_figure(run, name, sensors=[0, 1])
    sensor_ax, score_ax = figure.axes[:2]
    score = run.score(name)
    low, high = score_ax.get_ylim()
    # the top quarter of the score panel holds no score: the legend's row is free
    assert score.max() <= high - HEADROOM * (high - low) + 1e-9
    series = run.series(name)[:, [0, 1]]
    low, high = sensor_ax.get_ylim()
    assert series.max() <= high - HEADROOM * (high - low) + 1e-9


def test_report_lists_the_runs_data_warnings(zscore_run, tmp_path):
    import json
    import shutil

    warned = tmp_path / "run"
    shutil.copytree(zscore_run, warned)
    lines = ["a<b>.csv: 1 sensor(s) constant in train (index 2)"]  # escaped in the page
    (warned / "warnings.json").write_text(json.dumps(lines))
    page = build_report(warned, out=tmp_path / "report").read_text()
    assert "<h2>Data warnings (1)</h2>" in page and f"<li>{html.escape(lines[0])}</li>" in page
    (warned / "warnings.json").write_text("[]")
    assert "Data warnings" not in build_report(warned, out=tmp_path / "r2").read_text()


def test_heatmaps_say_what_their_values_measure(zscore_run, mscred_run):
    from mstad.models import Detector

    zscore = open_run(zscore_run)
    name = zscore.entity_names[0]
    assert zscore.heatmap(name, 10).unit == Detector.explain_unit  # zscore's own unit
    mscred = open_run(mscred_run)
    name = mscred.entity_names[0]
    found = mscred.heatmap(name, len(mscred.score(name)) // 2)
    assert found.kind.startswith("residual matrix") and found.unit == "residual matrix"
    index = build_report(mscred_run, out=mscred_run.parent / "report_units")
    assert index.is_file()
