"""The dashboard driven by Streamlit's AppTest: loading, threshold, entity choice, broken runs."""

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

pytest.importorskip("streamlit", reason="the dashboard extra (streamlit) is not installed")
from streamlit.testing.v1 import AppTest  # noqa: E402

SCRIPT = importlib.util.find_spec("mstad.app.dashboard").origin


def start(monkeypatch, *runs) -> AppTest:
    monkeypatch.setenv("MSTAD_RUNS", os.pathsep.join(str(r) for r in runs))
    return AppTest.from_file(SCRIPT, default_timeout=120).run()


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def entity_scores(run, entity):
    scores = pd.read_parquet(run / "scores.parquet")
    rows = scores[scores["entity"] == entity]
    return rows["score"].to_numpy(), rows["label"].to_numpy(bool)


def test_loading_a_run_shows_its_metrics_and_validation_threshold(monkeypatch, zscore_run):
    app = start(monkeypatch, zscore_run)
    assert not app.exception and not app.error
    assert zscore_run.name in app.subheader[0].value
    headline = app.dataframe[0].value
    metrics = pd.read_json(zscore_run / "metrics.json", typ="series")
    assert headline.loc["concat", "AUROC"] == pytest.approx(metrics["concat"]["auroc"])
    entity = app.sidebar.selectbox[1].value
    threshold = pd.read_json(zscore_run / "thresholds.json")[entity]["value"]
    assert app.slider[0].value == pytest.approx(threshold)


@pytest.mark.parametrize("quantile", [0.5, 0.9, 0.99])
def test_moving_the_threshold_updates_precision_recall_f1(monkeypatch, zscore_run, quantile):
    app = start(monkeypatch, zscore_run)
    entity = app.sidebar.selectbox[1].value
    score, labels = entity_scores(zscore_run, entity)
    slider = app.slider[0]
    value = float(score.min() + quantile * (score.max() - score.min()))
    app = slider.set_value(value).run()
    predicted = score > app.slider[0].value
    assert metric(app, "precision") == f"{precision_score(labels, predicted, zero_division=0):.3f}"
    assert metric(app, "recall") == f"{recall_score(labels, predicted):.3f}"
    assert metric(app, "F1") == f"{f1_score(labels, predicted):.3f}"
    assert metric(app, "alarm steps") == str(int(predicted.sum()))


def test_validation_button_restores_the_fitted_threshold(monkeypatch, zscore_run):
    app = start(monkeypatch, zscore_run)
    fitted = app.slider[0].value
    app = app.slider[0].set_value(app.slider[0].min).run()
    assert app.slider[0].value != pytest.approx(fitted)
    app = app.button[0].click().run()
    assert app.slider[0].value == pytest.approx(fitted)


def test_a_threshold_most_steps_pass_says_what_that_means(monkeypatch, zscore_run):
    app = start(monkeypatch, zscore_run)
    entity = app.sidebar.selectbox[1].value
    assert not any("scored steps are above" in w.value for w in app.warning)  # fitted threshold
    app = app.slider[0].set_value(app.slider[0].min).run()  # 0: every step with a score alarms
    score, _ = entity_scores(zscore_run, entity)
    share = f"{np.mean(score > app.slider[0].value):.0%}"
    assert any(
        w.value.startswith(f"{entity}: {share} of its scored steps are above") for w in app.warning
    )


def test_typed_threshold_reaches_any_magnitude_and_the_method_is_shown(monkeypatch, zscore_run):
    app = start(monkeypatch, zscore_run)
    entity = app.sidebar.selectbox[1].value
    fitted = pd.read_json(zscore_run / "thresholds.json")[entity]
    assert any(
        f"{fitted['method']}, fitted on {fitted['fitted_on']}" in c.value for c in app.caption
    )
    assert app.slider[0].max == pytest.approx(10.0)  # the surprise scale: p down to 1e-10
    app = app.number_input[0].set_value(1e12).run()
    assert not app.exception and metric(app, "alarm steps") == "0"
    app = app.number_input[0].set_value(0.5).run()
    score, _ = entity_scores(zscore_run, entity)
    assert metric(app, "alarm steps") == str(int((score > 0.5).sum()))
    assert app.slider[0].value == pytest.approx(0.5)  # the slider follows the typed value


def test_choosing_an_entity_switches_scores_and_root_causes(monkeypatch, zscore_run):
    app = start(monkeypatch, zscore_run)
    choice = app.sidebar.selectbox[1]
    other = next(o for o in choice.options if o != choice.value)
    app = choice.set_value(other).run()
    assert not app.exception and f"### When — {other}" in [m.value for m in app.markdown]
    score, labels = entity_scores(zscore_run, other)
    predicted = score > app.slider[0].value
    assert metric(app, "recall") == f"{recall_score(labels, predicted):.3f}"
    ranking = app.dataframe[-2].value  # root-cause table of the strongest detected event
    assert list(ranking.columns[:2]) == ["rank", "sensor"] and len(ranking) == 6


def test_mscred_run_shows_a_residual_heatmap(monkeypatch, mscred_run):
    app = start(monkeypatch, mscred_run)
    assert not app.exception and not app.error
    step = next(n for n in app.number_input if n.label.startswith("time step"))
    assert step.value >= 0  # the heatmap's time step
    assert not [i.value for i in app.info if "No heatmap" in i.value]
    durations = [c.value for c in app.caption if c.value.startswith("duration class")]
    assert len(durations) == 1  # the selected event's class, from the saved model's counts
    assert durations[0].split(": ")[1].split(" ")[0] in ("short", "medium", "long", "below")


def test_a_detector_without_a_map_shows_its_stored_contributions(monkeypatch, zscore_run):
    from mstad.runs.view import open_run

    app = start(monkeypatch, zscore_run)
    assert not app.exception and not [i.value for i in app.info if "No heatmap" in i.value]
    entity = app.sidebar.selectbox[1].value
    t = next(n for n in app.number_input if n.label.startswith("time step")).value
    found = open_run(zscore_run).heatmap(entity, int(t))
    assert found.kind.startswith("per-sensor contribution") and found.matrix.shape[0] == 6
    np.testing.assert_array_equal(
        found.matrix[:, t - found.first_step], np.load(zscore_run / "explain" / f"{entity}.npy")[t]
    )


def test_a_run_without_contributions_or_map_says_how_to_get_one(monkeypatch, zscore_run, tmp_path):
    import shutil

    plain = tmp_path / "plain"
    shutil.copytree(zscore_run, plain)
    shutil.rmtree(plain / "explain")
    app = start(monkeypatch, plain)
    assert not app.exception
    assert any(i.value.startswith("No heatmap: run with --explain") for i in app.info)


def test_broken_run_folder_shows_a_clear_message(monkeypatch, half_written_run):
    app = start(monkeypatch, half_written_run)
    assert not app.exception
    assert "half-written run" in app.error[0].value and "--resume" in app.error[0].value


def test_no_runs_given_says_how_to_start(monkeypatch, tmp_path):
    app = start(monkeypatch, tmp_path / "nothing-here")
    assert not app.exception
    assert "no such folder" in app.error[0].value or "No run folders" in app.error[0].value


def test_runs_side_by_side(monkeypatch, zscore_run, mscred_run):
    app = start(monkeypatch, zscore_run, mscred_run)
    assert len(app.sidebar.selectbox[0].options) == 2
    app = app.multiselect[-1].set_value([str(mscred_run)]).run()
    table = app.dataframe[-1].value
    assert len(table) == 4 and table["run"].str.contains("mscred").sum() == 2
    mscred = pd.read_json(mscred_run / "metrics.json", typ="series")
    row = table[table["run"].str.contains("mscred") & (table["view"] == "concat")]
    assert row["AUROC"].item() == pytest.approx(mscred["concat"]["auroc"])


def _break(run, how):
    """Damage a copy of a run the ways a disk, an older tool or a person can."""
    import json

    import numpy as np

    entity = "synthetic-0"
    if how == "corrupt scores":
        (run / "scores.parquet").write_bytes(b"PAR1 not really")
    elif how == "empty scores":
        (run / "scores.parquet").write_bytes(b"")
    elif how == "corrupt series":
        (run / "series" / f"{entity}.npy").write_bytes(b"\x93NUMPY garbage")
    elif how == "1-D series":
        np.save(run / "series" / f"{entity}.npy", np.zeros(1200, np.float32))
    elif how == "entities without intervals":
        info = json.loads((run / "entities.json").read_text())
        info[entity].pop("intervals")
        (run / "entities.json").write_text(json.dumps(info))
    elif how == "thresholds a list":
        (run / "thresholds.json").write_text("[1, 2]")
    elif how == "warnings a mapping":
        (run / "warnings.json").write_text('{"a": 1}')
    elif how == "config a list":
        (run / "config.yaml").write_text("- a\n- b\n")
    elif how == "reversed interval":
        info = json.loads((run / "entities.json").read_text())
        info[entity]["intervals"][0].update(start=50, end=10)
        (run / "entities.json").write_text(json.dumps(info))
    elif how in ("no entity column", "NaN scores", "entity outside", "text labels"):
        frame = pd.read_parquet(run / "scores.parquet")
        if how == "no entity column":
            frame = frame.drop(columns="entity")
        elif how == "NaN scores":
            frame.loc[5, "score"] = float("nan")
        elif how == "text labels":
            frame["label"] = "yes"
        else:
            frame["entity"] = (
                frame["entity"].astype(str).replace({entity: "../../../outside/secret"})
            )
        frame.to_parquet(run / "scores.parquet", index=False)


BREAKAGES = {
    "corrupt scores": "not a readable parquet file",
    "empty scores": "not a readable parquet file",
    "corrupt series": "not a readable .npy array",
    "1-D series": "expected a numeric [1200, sensors] array",
    "entities without intervals": "needs sensors (list) and intervals",
    "thresholds a list": "expected a mapping of entity to threshold, got list",
    "config a list": "expected a mapping of run settings, got list",
    "warnings a mapping": "expected a list of warning lines, got dict",
    "no entity column": "column(s) entity missing",
    "NaN scores": "scores must be finite numbers",
    "entity outside": "'../../../outside/secret' is not a plain file name",
    "reversed interval": "needs sensors (list) and intervals",
    "text labels": "column label must be true/false",
}


@pytest.mark.parametrize("how", BREAKAGES, ids=list(BREAKAGES))
def test_a_damaged_run_file_is_one_line_not_an_exception(monkeypatch, zscore_run, tmp_path, how):
    import shutil

    broken = tmp_path / "run"
    shutil.copytree(zscore_run, broken)
    _break(broken, how)
    app = start(monkeypatch, broken)
    if how in ("corrupt series", "1-D series"):  # only that entity's series is damaged
        app = app.sidebar.selectbox[1].set_value("synthetic-0").run()
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert any(BREAKAGES[how] in e and "\n" not in e for e in errors), errors


def test_a_runs_data_warnings_are_shown_where_its_metrics_are(monkeypatch, zscore_run, tmp_path):
    import json
    import shutil

    warned = tmp_path / "run"
    shutil.copytree(zscore_run, warned)
    lines = ["a.csv: 2 sensor(s) constant in train (index 0, 3)", "synthetic-0: training split"]
    (warned / "warnings.json").write_text(json.dumps(lines))
    app = start(monkeypatch, warned)
    assert not app.exception and not app.error
    box = next(e for e in app.expander if e.label == "⚠ Data warnings (2)")
    assert box.text[0].value == "\n".join(lines)
    older = tmp_path / "older"  # a run from before the file (a new path: runs are cached)
    shutil.copytree(zscore_run, older)
    (older / "warnings.json").unlink()
    app = start(monkeypatch, older)
    assert not app.exception and not any("Data warnings" in e.label for e in app.expander)


def test_a_running_run_is_listed_as_running_and_not_preselected(monkeypatch, zscore_run, tmp_path):
    import shutil

    from mstad.runs.rundir import RunFolder

    running = tmp_path / "0000_running"
    shutil.copytree(zscore_run, running)
    (running / "metrics.json").unlink()
    RunFolder(running).mark_running(1, 2)
    app = start(monkeypatch, tmp_path, zscore_run)
    picker = app.sidebar.selectbox[0]
    assert picker.value == str(zscore_run)  # the finished run, although listed second
    app = picker.set_value(str(running)).run()
    assert not app.exception
    assert "still running (1/2 entities done)" in app.error[0].value


def test_the_dashboard_heatmap_colour_bar_says_what_the_values_measure():
    from mstad.app.charts import heatmap_figure
    from mstad.runs.view import HeatMap

    found = HeatMap(np.ones((2, 4)), "per-sensor contribution, steps 3–6", 3, "some unit")
    assert heatmap_figure(found, ["a", "b"], 4).data[0].colorbar.title.text == "some unit"
