"""Time-warped copies of a series."""

import numpy as np
import pytest

from mstad.features.warp import time_warp


def test_a_faster_copy_interpolates_between_steps_and_keeps_the_range():
    x = np.stack([np.arange(11.0), np.arange(11.0) ** 2], 1)
    fast = time_warp(x, 2.0)
    np.testing.assert_array_equal(fast[:, 0], [0, 2, 4, 6, 8, 10])
    slow = time_warp(x, 0.5)
    assert len(slow) == 21
    np.testing.assert_allclose(slow[:4, 0], [0, 0.5, 1, 1.5])
    np.testing.assert_allclose(slow[1, 1], 0.5)  # halfway between 0 and 1, linearly
    for warped in (fast, slow, time_warp(x, 1.25)):
        assert (warped.min(0) >= x.min(0)).all() and (warped.max(0) <= x.max(0)).all()


def test_a_sinusoid_played_faster_has_a_shorter_period():
    t = np.arange(2000)
    x = np.sin(2 * np.pi * t / 100)[:, None].astype(np.float32)
    fast = time_warp(x, 1.25)
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast[:, 0], np.sin(2 * np.pi * np.arange(len(fast)) / 80), atol=2e-3)


def test_speed_one_is_the_series_and_a_bad_speed_is_refused():
    x = np.random.default_rng(0).normal(size=(50, 3))
    assert time_warp(x, 1.0) is x
    with pytest.raises(ValueError, match="speed must be > 0"):
        time_warp(x, 0.0)
