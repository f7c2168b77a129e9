"""Stage normalisation is fitted on training batches only and removes stage-level offsets."""

import numpy as np
import pandas as pd

from mstad.data import load_dataset
from mstad.data.plant import StageNormalizer, load_prepare_config, make_example_plant, prepare
from mstad.evaluation import entity_metrics
from mstad.models import make_detector
from tests.data.plant.conftest import edit_config


def _frame(stages, values):
    frame = pd.DataFrame(values, columns=["a", "b"])
    frame.insert(0, "stage", stages)
    return frame


def test_zscore_per_stage_known_values():
    train = _frame(["s1", "s1", "s2", "s2"], [[0.0, 1.0], [2.0, 1.0], [10.0, 5.0], [14.0, 7.0]])
    norm = StageNormalizer("zscore").fit(train, ["a", "b"])
    np.testing.assert_allclose(norm.loc["s1"], [1.0, 1.0])
    np.testing.assert_allclose(norm.scale["s2"], [2.0, 1.0])
    assert norm.warnings and "s1" in norm.warnings[0]  # b is constant in s1: scale 1
    out = norm.transform(_frame(["s2", "s1"], [[12.0, 6.0], [1.0, 3.0]]), ["a", "b"])
    np.testing.assert_allclose(out, [[0.0, 0.0], [0.0, 2.0]])


def test_minmax_and_global():
    train = _frame(["s1", "s1", "s2", "s2"], [[0.0, 1.0], [2.0, 3.0], [10.0, 5.0], [14.0, 7.0]])
    norm = StageNormalizer("minmax").fit(train, ["a", "b"])
    np.testing.assert_allclose(norm.transform(train, ["a", "b"])[[0, 3]], [[0, 0], [1, 1]])
    whole = StageNormalizer("zscore", per_stage=False).fit(train, ["a", "b"])
    assert list(whole.loc) == ["all"]
    np.testing.assert_allclose(whole.loc["all"], [6.5, 4.0])


def test_statistics_come_from_training_batches_only(plant):
    first = prepare(load_prepare_config(plant)).manifest["normalization"]
    # change the test batch's raw data wildly: the fitted statistics must not move
    for path in (plant.parent / "raw" / "batch_02").glob("*.csv"):
        lines = path.read_text().splitlines()
        header, rows = lines[0], lines[1:]
        scaled = []
        for row in rows:
            stamp, *values = row.split(",")
            scaled.append(
                ",".join([stamp] + [str(float(v) * 7 + 100) if v else "" for v in values])
            )
        path.write_text("\n".join([header, *scaled]) + "\n")
    second = prepare(load_prepare_config(plant))
    assert second.manifest["normalization"] == first
    test = pd.read_parquet(second.output_dir / "test.parquet")
    assert test[second.manifest["sensors"]].to_numpy().mean() > 10  # the test data did change


def _stage_share(frame: pd.DataFrame, sensors: list[str]) -> float:
    """Share of the variance explained by the stage means (R² of a stage-only model)."""
    values = frame[sensors].to_numpy()
    means = frame.groupby("stage")[sensors].transform("mean").to_numpy()
    return float(((means - values.mean(0)) ** 2).sum() / ((values - values.mean(0)) ** 2).sum())


def test_stage_normalisation_removes_stage_offsets(tmp_path):
    """Globally normalised, the stage level is most of the signal and swamps a correlation
    detector's score; normalised per stage, it is gone and the faults stand out."""
    plant = make_example_plant(tmp_path / "plant")  # full-length stages: 300/600/300 s
    share, auroc = {}, {}
    for per_stage in (True, False):
        config = edit_config(plant, per_stage=per_stage, output_dir=f"prepared_{per_stage}")
        result = prepare(config)
        test = pd.read_parquet(config.output_dir / "test.parquet")
        share[per_stage] = _stage_share(test, result.manifest["sensors"])
        entity = load_dataset("csv", result.output_dir).entities[0]
        scores = make_detector("pca").fit(entity.train).score(entity.test)
        auroc[per_stage] = entity_metrics(entity.labels, scores)["auroc"]
    assert share[True] < 0.05 and share[False] > 0.5
    assert auroc[True] > auroc[False] + 0.2
