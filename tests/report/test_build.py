"""`mstad report` writes a self-contained folder for every detector, with notes for what is missing."""

import html

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from mstad.report import build_report
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
