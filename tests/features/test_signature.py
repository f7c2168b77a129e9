import numpy as np
import pytest

from mstad.errors import DataError
from mstad.features.signature import signature_ends, signature_matrices, step_stacks
from tests.features.signature_reference import reference_signature


@pytest.mark.parametrize(
    ("n_steps", "n", "windows", "gap"),
    [
        (300, 5, (10, 30, 60), 10),
        (257, 4, (10, 30, 60), 10),
        (200, 3, (7, 13), 5),
        (120, 6, (4, 8, 12), 4),
        (90, 2, (30,), 30),
    ],
)
@pytest.mark.parametrize("method", ["auto", "windows"])
def test_equals_the_reference_loop(n_steps, n, windows, gap, method):
    x = np.random.default_rng(n_steps).normal(size=(n_steps, n)) * 3 + 10  # offset: cancellation
    got, ends = signature_matrices(x, windows, gap, method)
    want, want_ends = reference_signature(x, windows, gap)
    np.testing.assert_array_equal(ends, want_ends)
    assert np.abs(got - want).max() < 1e-9
    np.testing.assert_allclose(got, got.transpose(0, 1, 3, 2))  # symmetric


def test_grid_is_aligned_to_the_end_and_windows_are_end_exclusive():
    ends = signature_ends(105, (10, 30, 60), 10)
    assert ends[0] == 65 and ends[-1] == 105
    x = np.zeros((100, 1))
    x[99] = 1.0  # only the very last step is non-zero
    matrices, ends = signature_matrices(x, (10,), 10)
    assert ends[-1] == 100 and matrices[-1, 0, 0, 0] == pytest.approx(0.1)
    assert np.all(matrices[:-1] == 0)


def test_step_stacks_are_lazy_views():
    matrices = np.arange(6 * 2 * 3 * 3, dtype=np.float32).reshape(6, 2, 3, 3)
    stacks = step_stacks(matrices, 5)
    assert stacks.shape == (2, 5, 2, 3, 3)
    assert np.shares_memory(stacks, matrices)
    np.testing.assert_array_equal(stacks[1, 4], matrices[5])
    np.testing.assert_array_equal(stacks[0, 0], matrices[0])


def test_too_short_inputs():
    with pytest.raises(DataError, match="shorter than the longest signature window"):
        signature_matrices(np.zeros((50, 2)), (10, 60), 10)
    with pytest.raises(DataError, match="fewer than the 5 steps"):
        step_stacks(np.zeros((3, 1, 2, 2)), 5)
    with pytest.raises(ValueError, match="needs gap 7 to divide"):
        signature_matrices(np.zeros((100, 2)), (10,), 7, method="blocks")
