import numpy as np
import pytest
import torch

from mstad.models.msflow.detector import MSFlow
from mstad.models.msflow.extractor import ConvPyramid1d


def reach(pyramid: ConvPyramid1d, length: int) -> list[int]:
    """Input steps that move one middle output position of each level (by its gradient)."""
    x = torch.randn(1, 1, length, requires_grad=True)
    spans = []
    for level in pyramid.pyramid(x):
        x.grad = None
        level[0, 1:, level.shape[-1] // 2].sum().backward(retain_graph=True)
        moved = (x.grad[0, 0].abs() > 0).nonzero()
        spans.append(int(moved.max() - moved.min() + 1))
    return spans


@pytest.mark.parametrize(
    ("kernel", "dilations", "spans"),
    [(5, (1, 1, 1), [7, 19, 43]), (5, (1, 2, 4), [7, 27, 64]), (9, (1, 1, 1), [11, 31, 64])],
)
def test_dilations_and_kernel_set_how_far_each_level_reaches(kernel, dilations, spans):
    assert reach(ConvPyramid1d(1, (8, 8, 8), kernel, 0, dilations), 64) == spans


def test_the_default_detector_s_last_level_reaches_its_whole_window():
    default = MSFlow()
    pyramid = ConvPyramid1d(1, (8, 8, 8), default.kernel, 0, default.dilations)
    assert reach(pyramid, default.window) == [7, 27, default.window]


def test_levels_keep_their_shapes_with_dilations():
    pyramid = ConvPyramid1d(3, (8, 16, 16), 5, 0, (1, 2, 4))
    out = pyramid(np.zeros((2, 64, 3), np.float32))
    assert [tuple(o.shape) for o in out] == [(2, 11, 32), (2, 19, 16), (2, 19, 8)]
    assert [tuple(s) for s in pyramid.shapes(3, 64)] == [(11, 32), (19, 16), (19, 8)]
