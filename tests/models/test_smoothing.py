"""The causal EWMA: pandas' ewm(span).mean() on a whole series, the same numbers chunk by
chunk, per column for contributions, and span 0 as no smoothing."""

import numpy as np
import pandas as pd
import pytest

from mstad.models.smoothing import CausalEwma, smoothed


def test_equals_pandas_and_chunks_give_the_same_numbers():
    x = np.random.default_rng(0).gamma(2.0, size=(700, 3))
    whole = smoothed(x, 10)
    np.testing.assert_allclose(whole, pd.DataFrame(x).ewm(span=10).mean(), rtol=1e-12)
    stream = CausalEwma(10)
    parts = [stream(x[lo:hi]) for lo, hi in [(0, 1), (1, 8), (8, 8), (8, 500), (500, 700)]]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(smoothed(x[:, 2], 10), whole[:, 2])


def test_a_step_is_followed_at_the_documented_rate_and_span_0_is_off():
    x = np.r_[np.zeros(50), np.ones(50)]
    y = smoothed(x, 9)  # alpha = 0.2: k steps into the new level, 1 - 0.8^k of the way
    assert y[50] == pytest.approx(0.2, abs=1e-4) and y[54] == pytest.approx(1 - 0.8**5, abs=1e-4)
    np.testing.assert_array_equal(smoothed(x, 0), x)
    with pytest.raises(ValueError, match="span"):
        CausalEwma(0.5)
