"""Train-only scaling: a constant training sensor gets a unit spread, and any value float32 can
hold scales to a finite number (bounded at SCALED_BOUND spreads) instead of overflowing."""

import numpy as np
import pytest

from mstad.features.scaling import SCALED_BOUND, MinMaxScaler, Standardizer


@pytest.mark.parametrize("scaler", [Standardizer, MinMaxScaler])
def test_absurd_values_scale_to_the_bound_and_normal_ones_are_untouched(scaler):
    train = np.column_stack([np.linspace(0, 1, 101), np.full(101, 3.0)])
    fitted = scaler().fit(train)
    test = np.array([[0.5, 3.0], [3e38, 4.0], [-3e38, 2.0]], dtype=np.float32)
    out = fitted.transform(test)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert out[1, 0] == SCALED_BOUND and out[2, 0] == -SCALED_BOUND
    np.testing.assert_allclose(out[1:, 1] - out[0, 1], [1.0, -1.0])  # constant: spread 1
    assert abs(out[0, 0]) < 1
