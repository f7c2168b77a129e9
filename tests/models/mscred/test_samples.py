"""MSCRED's sample pooling and the mapping of sample scores back to steps."""

import numpy as np

from mstad.models.mscred.samples import PooledStacks, samples_to_steps, scale_windows_to_steps


def test_samples_map_to_the_steps_they_cover():
    ends = np.array([20, 25, 30])
    steps = samples_to_steps(np.array([1.0, 2.0, 3.0]), ends, 5, 30)
    assert steps[:20].tolist() == [1.0] * 20  # warm-up takes the first sample's value
    assert steps[20:25].tolist() == [2.0] * 5 and steps[25:].tolist() == [3.0] * 5


def test_each_scale_spreads_over_its_own_window_then_the_scales_add_up():
    ends = np.array([20, 25, 30])
    parts = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])  # scale windows 5 and 10
    steps = scale_windows_to_steps(parts, ends, (5, 10), 30)
    short = [1.0] * 20 + [2.0] * 5 + [3.0] * 5  # window 5 = the gap: each sample its own steps
    long = [10.0] * 15 + [15.0] * 5 + [25.0] * 5 + [30.0] * 5  # [e-10, e): overlaps average
    np.testing.assert_allclose(steps, np.add(short, long))
    per_sensor = scale_windows_to_steps(np.stack([parts, 2 * parts], axis=2), ends, (5, 10), 30)
    np.testing.assert_allclose(per_sensor, np.stack([steps, 2 * steps], axis=1))


def test_pooled_stacks_index_like_their_concatenation():
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=(n, 2, 1, 3, 3)).astype(np.float32) for n in (5, 7, 4)]
    pool, joined = PooledStacks(parts), np.concatenate(parts)
    assert len(pool) == 16
    index = rng.permutation(16)[:9]
    np.testing.assert_array_equal(pool[index], joined[index])
