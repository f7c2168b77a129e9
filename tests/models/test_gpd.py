"""The GPD fit equals scipy.stats' (what calibrations and POT fitted with before it)."""

import numpy as np
import pytest
from scipy.stats import genpareto

from mstad.models.gpd import fit_gpd, negative_log_likelihood


@pytest.mark.parametrize("shape", [-0.4, -0.1, 0.0, 0.2, 0.8])
@pytest.mark.parametrize("scale", [1e-9, 1.0, 300.0])
def test_equals_scipy_genpareto_fit(shape, scale):
    """Same objective, optimiser and start: scipy's estimate exactly, for light, exponential
    and heavy tails, tiny and large scales, and tied excesses."""
    rng = np.random.default_rng(int(100 * shape) + int(np.log10(scale)) + 50)
    for n in (12, 200, 1500):
        x = genpareto.rvs(shape, scale=scale, size=n, random_state=rng)
        for excesses in (x[x > 0], np.round(x / scale, 1) * scale + 1e-3 * scale):
            want_shape, _, want_scale = genpareto.fit(excesses, floc=0.0)
            assert fit_gpd(excesses) == (want_shape, want_scale)


def test_points_past_a_negative_shapes_end_are_penalised_as_scipy_does():
    x = np.array([0.5, 1.0, 2.0, 4.0])
    # shape −0.5, scale 1: the support ends at 2; the point at 4 is outside, the one at 2 on it
    want = genpareto._penalized_nnlf((-0.5, 0.0, 1.0), x)
    assert negative_log_likelihood((-0.5, 1.0), x) == want
    assert negative_log_likelihood((0.3, 0.0), x) == np.inf
    assert negative_log_likelihood((np.nan, 1.0), x) == np.inf


@pytest.mark.parametrize("bad", [[], [1.0, np.inf], [1.0, 0.0], [-1.0, 2.0]])
def test_refuses_excesses_that_are_not_finite_and_positive(bad):
    with pytest.raises(ValueError, match="finite, positive excesses"):
        fit_gpd(np.array(bad))
