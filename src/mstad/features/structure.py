"""Whether a set of sensors shares correlation structure — a fact of the training data alone.

A correlation model (``pca``'s residual, MSCRED's masked target) can only tell a sensor from the
others where the sensors move together; on independent sensors, or on one, what it infers from
the others is noise. :func:`shares_structure` is the one test mstad uses to decide that (the
ensemble's ``weighting="structure"``, MSCRED's ``target="auto"``): 95 % of the standardised
training variance lies in at most half as many principal components as there are sensors that
move. No injection and no label: the same training data always give the same answer.
"""

from __future__ import annotations

import numpy as np

#: share of the standardised variance the principal components must explain
VARIANCE = 0.95
#: ... in at most this fraction of the moving sensors' count
COMPONENTS = 0.5


def components_needed(train: np.ndarray, variance: float = VARIANCE) -> tuple[int, int]:
    """(principal components holding ``variance`` of the standardised variance, sensors that
    move in ``train``); (0, moving) when fewer than two sensors move."""
    x = np.asarray(train, dtype=np.float64)
    z = x[:, np.ptp(x, axis=0) > 0]
    if z.shape[1] < 2:
        return 0, z.shape[1]
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    spectrum = np.linalg.svd(z, compute_uv=False) ** 2
    needed = int(np.searchsorted(np.cumsum(spectrum) / spectrum.sum(), variance)) + 1
    return needed, z.shape[1]


def shares_structure(train: np.ndarray) -> bool:
    """True where at least two sensors move and :data:`VARIANCE` of their standardised variance
    lies in at most :data:`COMPONENTS` of their count of principal components."""
    needed, moving = components_needed(train)
    return moving >= 2 and needed <= moving * COMPONENTS
