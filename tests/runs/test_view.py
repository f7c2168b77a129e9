"""Opening run folders for reading: every broken folder is one line that says what to do."""

import numpy as np
import pytest

from mstad.runs.view import (
    RunError,
    contributing,
    detected_events,
    find_runs,
    open_run,
    pick_sensors,
    rank_sensors,
    top_sensors,
)


def test_open_run_reads_scores_labels_thresholds_and_series(zscore_run):
    run = open_run(zscore_run)
    assert run.entity_names == ["synthetic-0", "synthetic-1"]
    name = "synthetic-1"
    assert run.score(name).shape == (1200,) and run.labels(name).sum() > 0
    assert run.threshold(name) == run.thresholds[name]["value"]
    assert run.series(name).shape == (1200, 6) and run.sensors(name) == [
        f"x{i:02d}" for i in range(6)
    ]
    assert len(run.intervals(name)) == 3 and run.explain(name).shape == (1200, 6)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing", "no such folder"),
        ("no_config", "no config.yaml, so not an mstad run folder"),
        ("half_written", "half-written run (metrics.json missing"),
        ("corrupt", "thresholds.json: corrupt"),
    ],
)
def test_broken_run_folders_raise_one_clear_line(zscore_run, tmp_path, breakage, message):
    import shutil

    path = tmp_path / "run"
    if breakage != "missing":
        shutil.copytree(zscore_run, path)
    if breakage == "no_config":
        (path / "config.yaml").unlink()
    elif breakage == "half_written":
        (path / "metrics.json").unlink()
    elif breakage == "corrupt":
        (path / "thresholds.json").write_text("{not json")
    with pytest.raises(RunError) as error:
        open_run(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_find_runs_accepts_a_run_or_a_folder_of_runs(zscore_run):
    assert find_runs([zscore_run]) == [zscore_run]
    assert zscore_run in find_runs([zscore_run.parent])


def test_detected_events_and_sensor_ranking():
    score = np.array([0, 2, 2, 0, 0, 3, 0], dtype=float)
    assert detected_events(score, 1.0).tolist() == [[1, 2], [5, 5]]
    explain = np.zeros((7, 3))
    explain[1:3, 2] = 5.0
    explain[1:3, 0] = 1.0
    table = rank_sensors(explain, 1, 2, ["a", "b", "c"])
    assert table["sensor"].tolist() == ["c", "a", "b"]
    assert table["share"].tolist() == pytest.approx([10 / 12, 2 / 12, 0.0])


def test_event_tables_name_only_sensors_that_contributed():
    explain = np.zeros((10, 4))
    explain[2:5, 2] = [1.0, 2.0, 1.0]
    explain[2:5, 0] = 1.0
    ranked = rank_sensors(explain, 2, 4, ["a", "b", "c", "d"])
    assert ranked["sensor"].tolist()[:2] == ["c", "a"]  # 4 / 7 and 3 / 7 of the event
    assert top_sensors(ranked, 3) == "c (57 %); a (43 %)"  # b and d gave nothing
    assert contributing(rank_sensors(explain, 6, 9, ["a", "b", "c", "d"]), 3).empty


def test_entity_panels_draw_only_sensors_that_contributed():
    class Run:  # the two RunView methods pick_sensors reads
        def __init__(self, explain):
            self._explain = explain

        def explain(self, name):
            return self._explain

        def sensors(self, name):
            return ["telemetry", "command_01", "command_02", "command_03"]

    explain = np.zeros((50, 4))
    explain[10:20, 0] = 1.0
    assert pick_sensors(Run(explain), "M-4") == [0]  # not the three silent flags after it
    explain[30:35, 3] = 1.0
    assert pick_sensors(Run(explain), "M-4") == [0, 3]
    assert pick_sensors(Run(np.zeros((50, 4))), "M-4") == [0, 1, 2]  # nothing: the first k
    assert pick_sensors(Run(None), "M-4", k=2) == [0, 1]


def test_the_entity_table_ranks_by_highest_score_and_counts_alarms(zscore_run):
    run = open_run(zscore_run)
    table = run.entity_table()
    assert list(table["entity"]) == sorted(
        run.entity_names, key=lambda n: -run.score(n).max()
    ) and list(table["rank"]) == [1, 2]
    for row in table.itertuples():
        alarms = run.score(row.entity) > run.threshold(row.entity)
        assert row.alarm_steps == alarms.sum() and row.alarm_share == pytest.approx(alarms.mean())
        assert row.anomalous_steps == run.labels(row.entity).sum() and row.label
