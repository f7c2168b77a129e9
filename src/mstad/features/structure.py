"""Whether a set of sensors shares correlation structure — a fact of the training data alone.

A correlation model (``pca``'s residual, MSCRED's masked target) can only tell a sensor from the
others where the sensors move together; on independent sensors, or on one, what it infers from
the others is noise. :func:`shares_structure` is the one test mstad uses to decide that (the
ensemble's ``weighting="structure"``, MSCRED's ``target="auto"``): at least two sensors move,
and 95 % of their standardised training variance lies in at most half as many principal
components as there are such sensors — or the directions left after those components are, on
average, at most :data:`QUIET` (1/20) times as loud as an average sensor: normal data avoid
them, so a departure into them is news. The second clause catches a few sensors on a few shared
factors (5 sensors on 3 factors need 3 > 2.5 components); it was chosen by the label-free
selection's round 14 (``benchmarks/results/calibration_log.md`` §12). No injection and no
label: the same training data always give the same answer.
"""

from __future__ import annotations

import numpy as np

#: share of the standardised variance the principal components must explain
VARIANCE = 0.95
#: ... in at most this fraction of the moving sensors' count
COMPONENTS = 0.5
#: largest mean variance of the remaining directions (an average sensor's is 1) that counts as
#: structure on its own (round 14); None: the component count alone decides
QUIET: float | None = 0.05


def structure_stats(train: np.ndarray, variance: float = VARIANCE) -> tuple[int, int, float]:
    """(principal components holding ``variance`` of the standardised variance, sensors that
    move in ``train``, mean variance of the directions left after them — an average sensor's
    is 1; inf when none is left); (0, moving, inf) when fewer than two sensors move."""
    x = np.asarray(train, dtype=np.float64)
    z = x[:, np.ptp(x, axis=0) > 0]
    if z.shape[1] < 2:
        return 0, z.shape[1], float("inf")
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    spectrum = np.linalg.svd(z, compute_uv=False) ** 2 / len(z)
    needed = int(np.searchsorted(np.cumsum(spectrum) / spectrum.sum(), variance)) + 1
    rest = spectrum[needed:]
    return needed, z.shape[1], float(rest.mean()) if rest.size else float("inf")


def shares_structure(train: np.ndarray) -> bool:
    """True where at least two sensors move and :data:`VARIANCE` of their standardised variance
    lies in at most :data:`COMPONENTS` of their count of principal components, or the remaining
    directions carry on average at most :data:`QUIET` of an average sensor's variance."""
    needed, moving, rest = structure_stats(train)
    if moving < 2:
        return False
    return needed <= moving * COMPONENTS or (QUIET is not None and rest <= QUIET)
