"""The MSCRED network: real recurrence, per-sample attention, gradients everywhere, any n."""

import pytest
import torch

from mstad.models.mscred.convlstm import AttentionConvLSTM, temporal_attention
from mstad.models.mscred.network import MSCREDNetwork


@pytest.mark.parametrize("n", [25, 30, 38, 55])
def test_shapes_for_real_sensor_counts(n):
    net = MSCREDNetwork(n)
    x = torch.randn(2, 5, 3, n, n)
    assert net(x).shape == (2, 3, n, n)
    assert net(x, all_steps=True).shape == (2, 5, 3, n, n)


def test_recurrence_is_real():
    """Changing only an earlier step changes the output (the ports' ConvLSTM could not)."""
    torch.manual_seed(0)
    net = MSCREDNetwork(10).eval()
    x = torch.randn(1, 5, 3, 10, 10)
    changed = x.clone()
    changed[:, 0] += 1.0
    with torch.no_grad():
        assert (net(x) - net(changed)).abs().max() > 1e-4
    lstm = AttentionConvLSTM(4, 3).eval()
    seq = torch.randn(1, 5, 4, 6, 6)
    seq2 = seq.clone()
    seq2[:, 1] += 1.0
    with torch.no_grad():
        _, h1 = lstm(seq)
        _, h2 = lstm(seq2)
    assert torch.allclose(h1[:, 0], h2[:, 0])  # before the change: identical
    assert (h1[:, -1] - h2[:, -1]).abs().max() > 1e-4  # the last state remembers step 1


def test_every_parameter_receives_a_gradient():
    torch.manual_seed(0)
    net = MSCREDNetwork(9)
    x = torch.randn(2, 5, 3, 9, 9)
    net(x).pow(2).mean().backward()
    missing = [
        name for name, p in net.named_parameters() if p.grad is None or p.grad.abs().sum() == 0
    ]
    assert missing == []


def test_attention_is_per_sample_and_over_steps_only():
    hidden = torch.randn(3, 5, 2, 4, 4)
    out = temporal_attention(hidden)
    alone = temporal_attention(hidden[1:2])
    assert torch.allclose(out[1:2], alone, atol=1e-6)  # no mixing across the batch
    same = hidden[:1].expand(1, 5, 2, 4, 4).clone()
    same[:] = hidden[0, 0]
    assert torch.allclose(temporal_attention(same), hidden[0, 0][None], atol=1e-5)
    sharp = temporal_attention(hidden, "sqrt")
    assert sharp.shape == (3, 2, 4, 4)


@pytest.mark.parametrize("n", [25, 30, 38, 55])
def test_narrow_network_keeps_the_shapes_and_scales_the_channels(n):
    wide, narrow = MSCREDNetwork(n), MSCREDNetwork(n, width=8)
    assert narrow(torch.randn(2, 5, 3, n, n)).shape == (2, 3, n, n)
    assert [m.out_channels for m in (s[1] for s in narrow.encoder)] == [8, 16, 32, 64]
    assert [m.out_channels for m in (s[1] for s in wide.encoder)] == [32, 64, 128, 256]
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    # every weight matrix is C_in × C_out: a quarter of the width, about 1/16 of the weights
    assert 14 < count(wide) / count(narrow) < 17


@pytest.mark.parametrize(("all_steps", "forecast_steps"), [(False, 0), (True, 0), (False, 5)])
def test_runs_share_convolutions_and_give_every_sample_what_forward_gives(
    all_steps, forecast_steps
):
    """Two runs of 7 matrices = 2 × 3 samples of 5 steps: the same outputs and the same
    parameter gradients as the six stacks one by one (with the linear part too)."""
    torch.manual_seed(0)
    net = MSCREDNetwork(9, width=4, forecast_steps=forecast_steps)
    if forecast_steps:
        torch.nn.init.normal_(net.linear.weight)
    runs = torch.rand(2, 7, 3, 9, 9)
    stacks = runs.unfold(1, 5, 1).movedim(-1, 2).flatten(0, 1)  # (6, 5, 3, 9, 9)
    assert torch.equal(stacks[4], runs[1, 1:6])
    shared = net.forward_runs(runs, 5, all_steps=all_steps)
    shared.square().sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    alone = net(stacks, all_steps=all_steps)
    alone.square().sum().backward()
    assert torch.allclose(shared, alone, atol=1e-6)
    for grad, p in zip(grads, net.parameters(), strict=True):
        assert torch.allclose(grad, p.grad, rtol=1e-4, atol=1e-6)


def test_the_linear_part_adds_an_autoregression_of_each_entry_and_starts_at_zero():
    """``forecast_steps``: the output is the network's plus a 1 × 1 convolution over the h·S
    input matrices — zero when built (the network alone), each entry's own past once set."""
    torch.manual_seed(0)
    plain = MSCREDNetwork(7, width=4)
    torch.manual_seed(0)
    net = MSCREDNetwork(7, width=4, forecast_steps=5)
    x = torch.rand(2, 5, 3, 7, 7)
    assert torch.equal(net(x), plain(x))  # the same network, the linear part at zero
    with torch.no_grad():  # 2 × last − the one before, per scale: a linear extrapolation
        net.linear.weight.zero_()
        for s in range(3):
            net.linear.weight[s, 4 * 3 + s] = 2.0
            net.linear.weight[s, 3 * 3 + s] = -1.0
    expected = plain(x) + 2 * x[:, 4] - x[:, 3]
    assert torch.allclose(net(x), expected, atol=1e-6)
    assert MSCREDNetwork(7, width=4).linear is None
