"""Pseudo-image encoders and the exact map from image pixels back to the steps of a window."""

import numpy as np
import pytest
import torch

from mstad.features.images import encode, map_to_window, mtf_bins, window_signatures


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(scale=0.5, size=(4, 40, 5)), -1, 1).astype(np.float32)


def test_resize_puts_time_on_columns_and_copies_rows(windows):
    images = encode(windows, "resize", 20, dims=(0, 3))
    assert images.shape == (4, 3, 20, 20)
    assert torch.equal(images[:, :, 0], images[:, :, 7])  # rows identical (the seed's mapping)
    step = np.zeros((1, 40, 5), dtype=np.float32)
    step[0, 20:, 0] = 1.0  # a step at the middle of the window shows at the middle column
    columns = encode(step, "resize", 20)[0, 0, 0]
    assert columns[:9].max() == 0 and columns[11:].min() == 1


def test_column_scores_map_back_to_their_steps():
    maps = torch.zeros(1, 20, 20)
    maps[0, :, 15] = 1.0  # column 15 of 20 covers steps [30, 32) of a 40-step window
    steps = map_to_window(maps, "strip", 40)[0]
    assert steps.shape == (40,) and 29 <= int(steps.argmax()) <= 31
    assert steps[:25].max() == 0


def test_gramian_fields(windows):
    gasf = encode(windows, "gaf", 40, dims=(0,))  # size = L: no resampling
    x = torch.from_numpy(windows[:, :, 0])
    torch.testing.assert_close(
        torch.diagonal(gasf[:, 0], dim1=1, dim2=2), 2 * x**2 - 1, rtol=1e-4, atol=1e-4
    )
    gadf = encode(windows, "gadf", 40)
    torch.testing.assert_close(gadf[:, 0], -gadf[:, 0].transpose(1, 2), rtol=1e-4, atol=1e-4)


def test_markov_transition_field_is_a_probability_per_pair(windows):
    bins = mtf_bins(windows, (0, 1, 2), q=4)
    assert bins.shape == (3, 3)
    field = encode(windows, "mtf", 40, bins=bins)
    assert field.min() >= 0 and field.max() <= 1
    with pytest.raises(ValueError, match="quantile bin edges"):
        encode(windows, "mtf", 40)


def test_signature_channels_are_scaled_inner_products(windows):
    sig = window_signatures(windows, (10, 30, 60))
    x = windows[0, -10:].astype(np.float64)
    np.testing.assert_allclose(sig[0, 0].numpy(), x.T @ x / 10, rtol=1e-5)
    assert sig.shape == (4, 3, 5, 5)
    spread = map_to_window(torch.ones(2, 8, 8), "signature", 40)
    assert spread.shape == (2, 40) and torch.all(spread == 1)
