"""Injected anomalies for label-free model selection: where they go, what they change."""

import numpy as np
import pytest

from mstad.data import Entity
from mstad.data.inject import KINDS, inject, injected_holdout
from mstad.errors import DataError


def sine(n: int) -> np.ndarray:
    t = np.arange(n)
    return np.column_stack([np.sin(2 * np.pi * t / 40), np.cos(2 * np.pi * t / 40)])


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_changes_only_its_interval_of_one_sensor(kind):
    x = sine(1000)
    out, intervals = inject(x, sensor=0, n_anomalies=2, seed=3, scale=1.0, kinds=(kind,))
    assert len(intervals) == 2
    inside = np.zeros(1000, bool)
    for iv in intervals:
        inside[iv.start : iv.end + 1] = True
        assert iv.causes == (0,) and iv.length >= 1
    np.testing.assert_allclose(out[~inside], x[~inside].astype(np.float32))
    np.testing.assert_allclose(out[:, 1], x[:, 1].astype(np.float32))
    assert np.abs(out[inside, 0] - x[inside, 0]).max() > 0.1


def test_holdout_keeps_the_head_as_train_and_labels_the_tail():
    entity = Entity("e", sine(2000).astype(np.float32), sine(10).astype(np.float32), None)
    holdout = injected_holdout(entity, fraction=0.4, per_1000=2.5)
    assert holdout.train.shape == (1200, 2) and holdout.test.shape == (800, 2)
    np.testing.assert_array_equal(holdout.train, entity.train[:1200])
    assert len(holdout.intervals) == 2
    assert holdout.labels.sum() == sum(iv.length for iv in holdout.intervals)


def test_too_short_for_the_anomalies_is_an_error():
    with pytest.raises(DataError, match="too few"):
        inject(sine(50), 0, 3, seed=0, scale=1.0)
