"""MSCRED's residual → score functions on arrays whose answers are known."""

import numpy as np
import pytest

from mstad.models.mscred.scores import (
    SCORE_MODES,
    sample_scores,
    scale_counts,
    scale_parts,
    sensor_parts,
)


def residuals():
    """Two samples, two scales, three sensors; sample 1 breaks sensor 2's row and column."""
    r = np.full((2, 2, 3, 3), 0.001)
    r[1, :, 2, :] = r[1, :, :, 2] = 0.5
    return r, np.full((2, 3, 3), 0.001)


def test_counts_are_the_entries_above_theta():
    r, _ = residuals()
    assert scale_counts(r, 0.005).tolist() == [[0, 0], [5, 5]]  # row + column, one shared


@pytest.mark.parametrize("mode", SCORE_MODES)
def test_scale_parts_add_up_to_the_sample_score(mode):
    r, scale = residuals()
    total = sample_scores(r, mode, scale, 0.005)
    np.testing.assert_allclose(scale_parts(r, mode, scale, 0.005).sum(axis=1), total)
    assert total[1] > total[0]


def test_relative_score_and_count_modes_by_hand():
    r, scale = residuals()
    assert sample_scores(r, "relative", scale, 0.005)[0] == pytest.approx(1.0)
    assert sample_scores(r, "relative", scale, 0.005)[1] == pytest.approx((4 + 5 * 500) / 9)
    assert sample_scores(r, "count", scale, 0.005).tolist() == [0, 5]
    assert sample_scores(r, "count_upper", scale, 0.005).tolist() == [0, 3]  # (0,2) (1,2) (2,2)


def test_sensor_modes_score_the_most_broken_row_by_hand():
    r, scale = residuals()  # relative residual 1 everywhere, 500 in sensor 2's row and column
    # the broken row's mean (500, two scales of 250) against the all-entry mean (4 + 5·500) / 9
    np.testing.assert_allclose(sample_scores(r, "sensor", scale, 0.005), [1.0, 500.0])
    np.testing.assert_allclose(sample_scores(r, "sensor_median", scale, 0.005), [1.0, 500.0])
    # the other rows: one broken entry of three moves the mean a third of the way, not the median
    rows = sensor_parts(r, "relative", scale, 0.005)[1].sum(axis=0)
    np.testing.assert_allclose(rows, [502 / 3, 502 / 3, 500.0])
    np.testing.assert_allclose(sensor_parts(r, "median", scale, 0.005)[1].sum(axis=0), [1, 1, 500])


@pytest.mark.parametrize("mode", ["relative", "median", "sum", "count"])
def test_the_broken_sensor_gets_the_largest_part(mode):
    r, scale = residuals()
    parts = sensor_parts(r, mode, scale, 0.005)
    assert parts.shape == (2, 2, 3)
    assert parts[1].sum(axis=0).argmax() == 2
