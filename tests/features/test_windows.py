import numpy as np
import pytest

from mstad.errors import DataError
from mstad.features import Standardizer, sliding_windows, window_starts, windows_to_steps
from mstad.features.windows import window_maps_to_steps


def reference_windows_to_steps(scores, starts, length, n_steps, how):
    """Plain loop kept as the reference."""
    covering = [[] for _ in range(n_steps)]
    for s, value in zip(starts, scores, strict=True):
        for t in range(s, s + length):
            covering[t].append(value)
    reduce = np.mean if how == "mean" else np.max
    return np.array([reduce(c) for c in covering])


@pytest.mark.parametrize(
    ("n_steps", "length", "stride"),
    [(50, 7, 1), (50, 7, 3), (23, 23, 1), (100, 10, 10), (31, 5, 4)],
)
@pytest.mark.parametrize("how", ["mean", "max"])
def test_windows_to_steps_matches_loop(n_steps, length, stride, how):
    starts = window_starts(n_steps, length, stride)
    assert starts[-1] == n_steps - length  # the last window reaches the end
    scores = np.random.default_rng(0).normal(size=len(starts))
    got = windows_to_steps(scores, starts, length, n_steps, how)
    np.testing.assert_allclose(
        got, reference_windows_to_steps(scores, starts, length, n_steps, how)
    )


@pytest.mark.parametrize("how", ["mean", "max"])
def test_repeated_or_unsorted_starts_count_every_window(how):
    starts = np.array([6, 0, 3, 3, 9, 0])
    scores = np.random.default_rng(1).normal(size=len(starts))
    got = windows_to_steps(scores, starts, 4, 13, how)
    np.testing.assert_allclose(got, reference_windows_to_steps(scores, starts, 4, 13, how))


def test_uncovered_steps_are_an_error():
    with pytest.raises(ValueError, match="stride 5 > window length 4"):
        window_starts(31, 4, 5)
    with pytest.raises(ValueError, match="2 steps are covered by no window"):
        windows_to_steps(np.ones(2), np.array([0, 5]), 3, 8)


def test_sliding_windows_are_views_with_exact_content():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    w = sliding_windows(x, 4, 3)
    assert w.shape == (3, 4, 3)
    np.testing.assert_array_equal(w[1], x[3:7])
    np.testing.assert_array_equal(w[-1], x[6:10])
    assert np.shares_memory(w, x)
    with pytest.raises(DataError, match="shorter than the window of 11"):
        sliding_windows(x, 11)


def test_standardizer_is_fitted_on_train_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0]])
    scaler = Standardizer().fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[1.0, 7.0]])), [[0.0, 2.0]])
    # a constant training sensor keeps unit scale, so test departures stay visible
    assert scaler.std.tolist() == [1.0, 1.0]


def test_window_maps_keep_each_position_in_its_window():
    maps = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    steps = window_maps_to_steps(maps, np.array([0, 2]), 5)
    assert steps.tolist() == [1.0, 2.0, (3.0 + 10.0) / 2, 20.0, 30.0]
    with pytest.raises(ValueError, match="covered by no window"):
        window_maps_to_steps(maps, np.array([0, 4]), 7)
    with pytest.raises(ValueError, match="reaches step 5"):
        window_maps_to_steps(maps, np.array([0, 3]), 5)


@pytest.mark.parametrize("how", ["mean", "max"])
def test_array_valued_window_scores_map_column_by_column(how):
    starts = window_starts(60, 9, 2)
    scores = np.random.default_rng(1).normal(size=(len(starts), 3))
    got = windows_to_steps(scores, starts, 9, 60, how)
    for c in range(3):
        np.testing.assert_allclose(
            got[:, c], reference_windows_to_steps(scores[:, c], starts, 9, 60, how)
        )
