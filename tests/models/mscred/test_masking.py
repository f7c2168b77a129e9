"""MSCRED's masked reconstruction: which entries are hidden, and which count in the loss."""

import pytest
import torch

from mstad.models.mscred.masking import hide_sensors, masked_mse


def test_hidden_sensors_are_zeroed_in_every_step_and_scale_and_only_they_count():
    stacks = torch.ones(2, 3, 2, 4, 4)
    masks = torch.tensor([[False, True, False, False], [True, False, False, True]])
    hidden = hide_sensors(stacks, masks)
    assert hidden[0, :, :, 1].abs().sum() == 0 and hidden[0, :, :, :, 1].abs().sum() == 0
    assert hidden[0, :, :, 0, 2].eq(1).all()  # entry of two visible sensors kept
    assert hidden[1, :, :, 0].abs().sum() == 0 and hidden[1, :, :, 3].abs().sum() == 0
    target = torch.zeros(2, 2, 4, 4)
    output = torch.zeros(2, 2, 4, 4)
    output[0, :, 0, 2] = 5.0  # a visible entry: not in the loss
    assert masked_mse(output, target, masks) == 0
    output[0, :, 1, 2] = 1.0  # a hidden one: 2 scales × 1 entry over 2·(7 + 12) hidden entries
    assert masked_mse(output, target, masks).item() == pytest.approx(2 / (2 * (7 + 12)))


def test_last_only_view_hides_the_last_step_and_keeps_the_past():
    stacks = torch.ones(2, 3, 2, 4, 4)
    masks = torch.zeros(2, 4, dtype=torch.bool)
    masks[:, 1] = True
    out = hide_sensors(stacks, masks, torch.tensor([False, True]))
    assert out[0, :, :, 1].abs().sum() == 0 and out[0, :, :, :, 1].abs().sum() == 0  # every step
    assert out[1, -1, :, 1].abs().sum() == 0 and out[1, :-1].min() == 1  # last step only
    assert out[:, :, :, 0, 0].min() == 1  # visible entries untouched
