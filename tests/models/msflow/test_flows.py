"""MSFlow's flows are exactly invertible and their log-determinant is the true one."""

import numpy as np
import pytest
import torch

from mstad.models.msflow.flows import (
    FusionCoupling,
    MultiScaleFlow,
    nll,
    position_scores,
    positional_encoding,
)


def perturbed(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give the zero-initialised last layers random weights, so the flow is not the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.requires_grad:
                p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return module.double()


SHAPES_1D = [(4, 8), (6, 4), (8, 2)]
SHAPES_2D = [(4, 4, 4), (6, 2, 2)]


@pytest.mark.parametrize("shapes", [SHAPES_1D, SHAPES_2D], ids=["1-D", "2-D"])
def test_multiscale_flow_is_invertible(shapes):
    torch.manual_seed(0)
    np.random.seed(0)  # FrEIA draws its permutations from NumPy
    flow = perturbed(MultiScaleFlow(shapes, [2] * len(shapes), pos_channels=8)).eval()
    x = [torch.randn(3, *s, dtype=torch.float64) for s in shapes]
    with torch.no_grad():
        z, log_det = flow(x)
        back, inverse_log_det = flow(z, rev=True)
    assert all(not torch.allclose(a, b) for a, b in zip(x, z, strict=True))  # not the identity
    for a, b in zip(x, back, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(log_det, -inverse_log_det, rtol=1e-9, atol=1e-9)


def _flat(shapes, vector):
    parts, start = [], 0
    for s in shapes:
        n = int(np.prod(s))
        parts.append(vector[start : start + n].reshape(1, *s))
        start += n
    return parts


@pytest.mark.parametrize("shapes", [SHAPES_1D, [(4, 2, 2), (4, 1, 1)]], ids=["1-D", "2-D"])
def test_log_determinant_matches_the_autograd_jacobian(shapes):
    torch.manual_seed(1)
    np.random.seed(1)
    flow = perturbed(MultiScaleFlow(shapes, [1] * len(shapes), pos_channels=4), seed=1).eval()
    size = sum(int(np.prod(s)) for s in shapes)
    x = torch.randn(size, dtype=torch.float64)

    def f(vector):
        z, _ = flow(_flat(shapes, vector))
        return torch.cat([part.flatten() for part in z])

    jacobian = torch.autograd.functional.jacobian(f, x)
    _, expected = torch.linalg.slogdet(jacobian)
    _, log_det = flow(_flat(shapes, x))
    assert log_det.item() == pytest.approx(expected.item(), abs=1e-8)


def test_fusion_coupling_alone_is_invertible_and_mixes_scales():
    torch.manual_seed(2)
    fusion = perturbed(FusionCoupling([4, 6], dims=1, hidden=8), seed=2)
    x = [torch.randn(2, 4, 8, dtype=torch.float64), torch.randn(2, 6, 4, dtype=torch.float64)]
    y, _ = fusion(x)
    back, _ = fusion(y, rev=True)
    for a, b in zip(x, back, strict=True):
        torch.testing.assert_close(a, b)
    changed = [x[0].clone(), x[1].clone()]
    changed[1][:, :3] += 1.0  # only the passive half of the coarse scale
    y2, _ = fusion(changed)
    assert not torch.allclose(y[0], y2[0])  # the fine scale feels it


def test_loss_and_position_scores():
    z = [torch.ones(2, 3, 4), 2 * torch.ones(2, 5, 2)]
    log_det = torch.tensor([1.0, 0.0])
    assert nll(z, log_det).tolist() == [0.5 * 12 + 0.5 * 40 - 1.0, 26.0]
    scores = position_scores(z, 8)
    assert scores.shape == (2, 8)
    torch.testing.assert_close(scores, torch.full((2, 8), 0.5 + 2.0))


def test_positional_encoding_shapes_and_range():
    assert positional_encoding(16, (10,)).shape == (16, 10)
    enc = positional_encoding(8, (3, 5))
    assert enc.shape == (8, 3, 5) and enc.abs().max() <= 1.0
    with pytest.raises(ValueError, match="must divide by 4"):
        positional_encoding(6, (3, 5))
