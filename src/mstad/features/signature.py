"""MSCRED signature matrices, vectorised, and lazy step stacks.

For each window length ``w`` and end time ``t_end`` (end-exclusive, divided by ``w`` as in the
authors' code):

    M_w(t_end)[i, j] = (1 / w) · Σ_{τ = t_end - w}^{t_end - 1} x_i(τ) · x_j(τ)

Matrices are computed every ``gap`` steps on a grid aligned to the **end** of the series, so the
newest steps are always covered; the first end time is at least ``max(windows)``. Two exact
methods, both accumulating in float64:

* ``blocks`` (when ``gap`` divides every window): outer-product sums over ``gap``-step blocks,
  then each ``M_w`` adds its last ``w / gap`` blocks — O(T·n²) regardless of ``w``, no prefix-sum
  cancellation;
* ``windows``: one batched matrix product per scale over strided windows (any gap).

``step_stacks`` turns ``[K, S, n, n]`` matrices into ``[K - h + 1, h, S, n, n]`` samples as a view
(no copies, no per-sample files); sample ``k`` ends at ``t_ends[k + h - 1]``.
"""

from __future__ import annotations

import numpy as np

from mstad.errors import DataError

DEFAULT_WINDOWS = (10, 30, 60)
DEFAULT_GAP = 10


def signature_ends(n_steps: int, windows=DEFAULT_WINDOWS, gap: int = DEFAULT_GAP) -> np.ndarray:
    """End times (exclusive) of all matrices: ``n_steps, n_steps - gap, …`` down to
    ``max(windows)``, ascending."""
    longest = max(windows)
    if n_steps < longest:
        raise DataError(
            f"series of {n_steps} steps is shorter than the longest signature window "
            f"({longest}); use shorter windows or a longer series"
        )
    return np.arange(n_steps, longest - 1, -gap)[::-1].copy()


def _by_blocks(x: np.ndarray, ends: np.ndarray, windows, gap: int) -> np.ndarray:
    longest = max(windows)
    first_block = ends[0] - longest  # blocks tile [first_block, n_steps)
    blocks = x[first_block:].reshape(-1, gap, x.shape[1])
    block_sums = np.matmul(blocks.transpose(0, 2, 1), blocks)  # [B, n, n]
    out = np.empty((len(ends), len(windows), x.shape[1], x.shape[1]))
    per_largest = longest // gap
    for s, w in enumerate(windows):
        m = w // gap
        total = np.zeros_like(block_sums[per_largest - 1 :])
        for r in range(m):  # sum of the last m blocks before each end
            total += block_sums[per_largest - 1 - r : len(block_sums) - r]
        out[:, s] = total / w
    return out


def _by_windows(x: np.ndarray, ends: np.ndarray, windows) -> np.ndarray:
    out = np.empty((len(ends), len(windows), x.shape[1], x.shape[1]))
    for s, w in enumerate(windows):
        segments = np.lib.stride_tricks.sliding_window_view(x, w, axis=0)[ends - w]  # [K, n, w]
        out[:, s] = np.matmul(segments, segments.transpose(0, 2, 1)) / w
    return out


def signature_matrices(
    series: np.ndarray,
    windows=DEFAULT_WINDOWS,
    gap: int = DEFAULT_GAP,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """``(matrices float64 [K, S, n, n], t_ends int64 [K])`` of a ``[T, n]`` series."""
    windows = tuple(int(w) for w in windows)
    if gap < 1 or min(windows) < 1:
        raise ValueError(f"gap {gap} and windows {windows} must be >= 1")
    x = np.asarray(series, dtype=np.float64)
    ends = signature_ends(len(x), windows, gap)
    divisible = all(w % gap == 0 for w in windows)
    if method == "auto":
        method = "blocks" if divisible else "windows"
    if method == "blocks" and not divisible:
        raise ValueError(f"method 'blocks' needs gap {gap} to divide every window {windows}")
    if method == "blocks":
        matrices = _by_blocks(x, ends, windows, gap)
    elif method == "windows":
        matrices = _by_windows(x, ends, windows)
    else:
        raise ValueError(f"method must be auto, blocks or windows, got {method!r}")
    return matrices, ends


def step_stacks(matrices: np.ndarray, steps: int = 5) -> np.ndarray:
    """Samples of ``steps`` consecutive matrices: a read-only view ``[K - h + 1, h, S, n, n]``."""
    if len(matrices) < steps:
        raise DataError(
            f"{len(matrices)} signature matrices are fewer than the {steps} steps of one sample; "
            "use a longer series"
        )
    view = np.lib.stride_tricks.sliding_window_view(matrices, steps, axis=0)  # [N, S, n, n, h]
    return view.transpose(0, 4, 1, 2, 3)
