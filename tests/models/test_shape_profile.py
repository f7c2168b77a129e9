"""The z-normalised nearest-training-window distances against stumpy, batch against stream."""

import numpy as np
import pytest

from mstad.models.shape_profile import (
    ShapeRows,
    TrainingWindows,
    _max_corr,
    shape_profiles,
    window_stats,
)


def series_with_flat_stretches(seed=0):
    rng = np.random.default_rng(seed)
    train = np.cumsum(rng.normal(size=1500))
    train[300:420] = 2.5  # a constant stretch: constant training windows
    query = np.cumsum(rng.normal(size=800)) + 30.0  # a level training never showed
    query[100:200] = -4.0  # constant query windows
    query[500:560] = 3 * np.sin(np.arange(60) / 3)
    return train, query


@pytest.mark.parametrize("w", [4, 25, 50, 100])
def test_equals_stumpys_ab_join_with_constant_windows(w):
    stumpy = pytest.importorskip("stumpy")
    train, query = series_with_flat_stretches()
    got = shape_profiles(query[None], TrainingWindows(train[None], [w]))[0][0]
    expected = stumpy.stump(query, w, train, ignore_trivial=False)[:, 0].astype(float)
    np.testing.assert_allclose(got, expected / np.sqrt(2 * w), atol=1e-6)
    # constant query windows match the constant training stretch exactly; none is ever NaN
    assert got[100 : 200 - w + 1].max() == 0.0 and np.isfinite(got).all()


def test_every_length_and_sensor_from_one_pass_equals_each_alone():
    train, query = series_with_flat_stretches(1)
    trains, queries = np.vstack([train, -train[::-1]]), np.vstack([query, query[::-1] * 2])
    together = shape_profiles(queries, TrainingWindows(trains, [25, 50, 100, 200]))
    for s, w in enumerate([25, 50, 100, 200]):
        for g in range(2):
            alone = shape_profiles(queries[g][None], TrainingWindows(trains[g][None], [w]))[0][0]
            np.testing.assert_allclose(together[s][g], alone, atol=1e-9)


def test_no_constant_training_window_puts_a_constant_query_halfway():
    rng = np.random.default_rng(2)
    train, query = rng.normal(size=500), np.r_[rng.normal(size=100), np.full(100, 7.0)]
    got = shape_profiles(query[None], TrainingWindows(train[None], [20]))[0][0]
    # stumpy's rule: a constant and a varying window are sqrt(m) apart, sqrt(1/2) normalised
    np.testing.assert_allclose(got[120:], np.sqrt(0.5))
    assert got[:80].max() < np.sqrt(0.5) + 0.6


def test_window_stats_are_exact_and_flag_constant_windows():
    x = np.r_[1.0, 2.0, 3.0, 5.0, 5.0, 5.0]
    mean, std, const = window_stats(x, 3)
    np.testing.assert_allclose(mean, [2.0, 10 / 3, 13 / 3, 5.0])
    np.testing.assert_allclose(std[:3], np.std([[1, 2, 3], [2, 3, 5], [3, 5, 5]], axis=1))
    assert const.tolist() == [False, False, False, True] and std[3] == 1.0


@pytest.mark.parametrize("chunk", [1, 7, 300])
def test_stream_rows_equal_the_batch(chunk):
    train, query = series_with_flat_stretches(3)
    training = TrainingWindows(train[None], [25])
    batch = shape_profiles(query[None], training)[0][0]
    rows = ShapeRows(training, 0)
    n = len(query) - 25 + 1
    parts = [rows.advance(query[None], lo, min(lo + chunk, n))[0] for lo in range(0, n, chunk)]
    np.testing.assert_allclose(np.concatenate(parts), batch, atol=1e-6)


def test_stream_rows_of_several_sensors_equal_the_batch():
    train, query = series_with_flat_stretches(5)
    trains, queries = np.vstack([train, train[::-1]]), np.vstack([query, -query])
    training = TrainingWindows(trains, [30])
    rows = ShapeRows(training, 0)
    n = len(query) - 29
    parts = [rows.advance(queries, lo, min(lo + 11, n)) for lo in range(0, n, 11)]
    np.testing.assert_allclose(np.hstack(parts), shape_profiles(queries, training)[0], atol=1e-6)


def test_stream_rows_follow_kept_rows_that_are_cut_at_the_front():
    train, query = series_with_flat_stretches(4)
    training = TrainingWindows(train[None], [50])
    batch = shape_profiles(query[None], training)[0][0]
    rows, offset, out = ShapeRows(training, 0), 0, []
    for lo in range(0, len(query) - 49, 40):
        hi = min(lo + 40, len(query) - 49)
        out.append(rows.advance(query[None, offset:], lo - offset, hi - offset)[0])
        rows.shift(hi - offset)  # keep only the rows from the next window on
        offset = hi
    np.testing.assert_allclose(np.concatenate(out), batch, atol=1e-6)


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError, match="lengths 2 .. 10"):
        TrainingWindows(np.zeros((1, 10)), [11])


def test_vectorised_maxima_equal_numpy_at_every_length():
    """The fold over ``llvm.maxnum`` gives numpy's maximum at every length around the vector
    widths (to the one ulp a fused multiply-add moves), −inf when empty, and keeps an inf."""
    rng = np.random.default_rng(0)
    for n in range(0, 70):
        a, b = rng.normal(size=n + 3), rng.normal(size=n + 3)
        a[1 + n // 2] = np.inf if n % 5 == 0 else a[1 + n // 2]
        w, v = rng.normal(size=n + 5), rng.normal(size=n + 5)
        got = _max_corr(a, b, w, v, 2, 0.3, 1, n + 1)
        want = np.max((a - b)[1 : n + 1] * w[3 : n + 3] - 0.3 * v[3 : n + 3]) if n else -np.inf
        assert got == pytest.approx(want, rel=1e-15)
