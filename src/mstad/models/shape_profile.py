"""Exact z-normalised nearest-training-window distances, per sensor, every window length at once.

The distances of the ``shape`` view (:mod:`mstad.models.shape`): for each window of a sensor's
series, the z-normalised Euclidean distance to the most similar window of that sensor's training
data — the AB-join matrix profile of Yeh et al. (ICDM 2016), as ``stumpy.stump(query, m,
reference, ignore_trivial=False)`` computes it (the tests compare), divided by ``sqrt(2m)`` (the
distance of two uncorrelated windows), so every length is on one scale: ``sqrt(1 − ρ)`` with
``ρ`` the best Pearson correlation with a training window, in ``[0, √2]``.

**Sliding dot products along diagonals, all lengths from one pass.** With ``QT`` a query
window's dot product with a training window, ``μ, σ`` each window's mean and standard
deviation, ``ρ = (QT − m·μq·μr) / (m·σq·σr)``. Along a diagonal ``d = j − i`` of the query ×
training grid, ``QT`` of the length-``w`` windows at ``(i, i + d)`` is ``P[i + w − 1] − P[i −
1]``, ``P`` the running sum of ``q[t]·r[t + d]`` — the recurrence of
:mod:`mstad.models.matrix_profile` with products in place of squared differences, the same
blocks, chunks and restarts (rounding bounded to one block's sums). For a fixed query the best
``ρ`` is ``max_j (QT_j·a_j − μq·b_j) / σq`` with ``a_j = 1 / (w·σr_j)`` and ``b_j = μr_j /
σr_j`` precomputed per training window: four operations per cell and length, vectorised.

**Constant windows** (all values equal; stumpy's rule): two constant windows are identical
(``ρ = 1``), a constant and a varying one are ``√m`` apart (``ρ = ½``) — so a flat stretch
matches a flat stretch of training and is half-way from everything else, never a division by 0.

**Streams** (:class:`ShapeRows`): each new window's dot products with every training window
follow from the previous window's in O(training) (STAMPI, Yeh et al. 2016), a direct row every
:data:`~mstad.models.matrix_profile.BLOCK` rows; the stream equals the batch to rounding.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mstad.models.matrix_profile import _FAST, BLOCK, CHUNK, _fmax, _ring_row


@nb.njit(cache=True, inline="always")
def _one_window(x, i, w):
    """Mean, standard deviation (two passes: exact) and constancy of ``x[i : i + w]``; a
    constant window (all values equal: stumpy's rule) gets ``σ = 1`` (never divided by)."""
    s, lo, hi = 0.0, x[i], x[i]
    for t in range(i, i + w):
        s += x[t]
        lo, hi = min(lo, x[t]), max(hi, x[t])
    mu = s / w
    v = 0.0
    for t in range(i, i + w):
        v += (x[t] - mu) ** 2
    if hi == lo or v <= 0.0:
        return mu, 1.0, True
    return mu, np.sqrt(v / w), False


@nb.njit(cache=True)
def _window_stats(x, w):
    """:func:`_one_window` of every length-``w`` window of ``x``."""
    n = len(x) - w + 1
    mean, std, const = np.empty(n), np.empty(n), np.zeros(n, np.bool_)
    for i in range(n):
        mean[i], std[i], const[i] = _one_window(x, i, w)
    return mean, std, const


def window_stats(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, std, constant)`` of each length-``w`` window of the 1-D ``x``."""
    return _window_stats(np.ascontiguousarray(x, dtype=np.float64), int(w))


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy", inline="always")
def _max_corr(cur, before, a_w, b_w, x0, mq, lo, hi):
    """``max((cur − before)[j]·a_w[x0 + j] − mq·b_w[x0 + j])`` over ``lo .. hi − 1``
    (vectorised; −inf when empty)."""
    c, p = cur[lo:hi], before[lo:hi]
    a, b = a_w[x0 + lo : x0 + hi], b_w[x0 + lo : x0 + hi]
    best = -np.inf
    for j in range(hi - lo):
        best = _fmax(best, (c[j] - p[j]) * a[j] - mq * b[j])
    return best


@nb.njit(cache=True, parallel=True)
def _best_scaled(qs, rs, windows, a, b, q_mean, block, chunk):
    """For each sensor ``g``, length ``s`` and query window ``i`` of ``qs [G, n]``: the largest
    ``QT·a − μq·b`` over the training windows of ``rs [G, m]`` (``a, b [G, S, m]``, 0 where a
    training window is constant). Sensors' blocks run in parallel together."""
    n_groups, n, m = qs.shape[0], qs.shape[1], rs.shape[1]
    n_scales = len(windows)
    wmax, wmin = windows.max(), windows.min()
    best = np.full((n_groups, n_scales, n), -np.inf)
    n_blocks = (n - wmin + 1 + block - 1) // block
    ring_rows = wmax + 1
    for task in nb.prange(n_groups * n_blocks):
        g, blk = task // n_blocks, task % n_blocks
        q, r = qs[g], rs[g]
        i0 = blk * block
        i1 = min(i0 + block, n - wmin + 1)
        ring = np.empty((ring_rows, chunk))
        t_end = min(i1 + wmax - 2, n - 1)
        d_lo, d_hi = -(i1 - 1), m - wmin - i0
        for d0 in range(d_lo, d_hi + 1, chunk):
            width = min(chunk, d_hi + 1 - d0)
            ring[(i0 - 1) % ring_rows, :width] = 0.0
            lo_prev = width
            for t in range(i0, t_end + 1):
                cur, prev, x0, lo, hi = _ring_row(ring, t, i0, d0, width, m, lo_prev)
                lo_prev = lo
                qt = q[t]
                c, p, rr = cur[lo:hi], prev[lo:hi], r[x0 + lo : x0 + hi]
                for j in range(hi - lo):
                    c[j] = p[j] + qt * rr[j]
                for s in range(n_scales):
                    w = windows[s]
                    i = t - w + 1  # the query whose windows end at row t
                    if i < i0 or i >= i1 or i > n - w:
                        continue
                    x_i = i + d0  # training window of the chunk's first diagonal
                    za, zb = max(-x_i, 0), min(m - w - x_i + 1, width)
                    if za >= zb:
                        continue
                    before = ring[(i - 1) % ring_rows, :width]
                    v = _max_corr(cur, before, a[g, s], b[g, s], x_i, q_mean[g, s, i], za, zb)
                    if v > best[g, s, i]:
                        best[g, s, i] = v
    return best


class TrainingWindows:
    """What the kernels need of each training sensor and window length: ``a = 1 / (w·σ)`` and
    ``b = μ / σ`` per training window (0 for constant ones) and whether any window is constant."""

    def __init__(self, reference: np.ndarray, windows):
        self.r = np.ascontiguousarray(reference, dtype=np.float64)  # [G, m]
        self.windows = np.asarray(windows, dtype=np.int64).reshape(-1)
        g, m = self.r.shape
        if self.windows.size == 0 or self.windows.min() < 2 or self.windows.max() > m:
            raise ValueError(f"windows {self.windows.tolist()}: need lengths 2 .. {m}")
        self.a = np.zeros((g, len(self.windows), m))
        self.b = np.zeros((g, len(self.windows), m))
        self.any_constant = np.zeros((g, len(self.windows)), dtype=bool)
        for k in range(g):
            for s, w in enumerate(self.windows):
                mean, std, const = window_stats(self.r[k], w)
                varying = ~const
                self.a[k, s, : len(mean)][varying] = 1.0 / (w * std[varying])
                self.b[k, s, : len(mean)][varying] = mean[varying] / std[varying]
                self.any_constant[k, s] = const.any()

    def distances(self, corr: np.ndarray, query_constant: np.ndarray, s: int) -> np.ndarray:
        """``[G, N]`` ``sqrt(1 − ρ)`` at length ``s`` from each sensor's best correlations with
        a varying training window (``-inf`` where there is none) and the constant-window rule
        (module docstring)."""
        any_constant = self.any_constant[:, s, None]
        rho = np.where(any_constant, np.maximum(corr, 0.5), corr)
        rho = np.where(query_constant, np.where(any_constant, 1.0, 0.5), rho)
        return np.sqrt(np.maximum(1.0 - np.clip(rho, -1.0, 1.0), 0.0))


def _sensor_stats(q: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, std, constant)``, each ``[G, n − w + 1]``: every sensor's windows of ``q``."""
    parts = [window_stats(x, w) for x in q]
    shape = (len(q), q.shape[1] - w + 1)
    return tuple(np.array([p[k] for p in parts]).reshape(shape) for k in range(3))


def shape_profiles(queries: np.ndarray, training: TrainingWindows) -> list[np.ndarray]:
    """``[G, n − w + 1]`` normalised z-distances (module docstring) of every window of each
    sensor of ``queries [G, n]`` to that sensor's training windows, one array per length."""
    q = np.ascontiguousarray(queries, dtype=np.float64)
    g, n = q.shape
    if g != training.r.shape[0]:
        raise ValueError(f"queries of {g} sensors against training of {training.r.shape[0]}")
    windows = training.windows
    if n < windows.max():
        raise ValueError(f"queries of {n} steps are shorter than the window {windows.max()}")
    stats = [_sensor_stats(q, w) for w in windows]
    q_mean = np.zeros((g, len(windows), n))
    for s, (mean, _, _) in enumerate(stats):
        q_mean[:, s, : mean.shape[1]] = mean
    best = _best_scaled(q, training.r, windows, training.a, training.b, q_mean, BLOCK, CHUNK)
    return [
        training.distances(best[:, s, : std.shape[1]] / std, const, s)
        for s, (_, std, const) in enumerate(stats)
    ]


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy")
def _stream_rows(q, r, w, i0, i1, qt, state, refresh, a, b, out, constant):
    """For each sensor ``g``: the best ``QT·a − μq·b`` of its query windows ``i0 .. i1 − 1``
    (``q [G, n]`` the kept rows), one after another, and whether each is constant. ``qt[g, k]``
    (``k`` = ``state[g, 2]``) holds the previous query's dot products with every training
    window (``state[g]`` = [previous query, or −1; rows since the last direct row; current
    buffer]); the next follow into the other buffer (no temporaries: vectorised)."""
    mw = r.shape[1] - w + 1
    zero = np.zeros(mw)  # QT itself: nothing to subtract
    for g in range(q.shape[0]):
        x, ref = q[g], r[g]
        ag, bg = a[g], b[g]
        for i in range(i0, i1):
            k = state[g, 2]
            old, cur = qt[g, k], qt[g, 1 - k]
            if state[g, 0] >= 0 and state[g, 0] == i - 1 and state[g, 1] < refresh:
                qa, qb = x[i - 1], x[i + w - 1]
                for j in range(1, mw):
                    cur[j] = old[j - 1] - qa * ref[j - 1] + qb * ref[j + w - 1]
                state[g, 1] += 1
            else:
                for j in range(1, mw):
                    s = 0.0
                    for t in range(w):
                        s += x[i + t] * ref[j + t]
                    cur[j] = s
                state[g, 1] = 0
            s = 0.0
            for t in range(w):
                s += x[i + t] * ref[t]
            cur[0] = s
            state[g, 0], state[g, 2] = i, 1 - k
            mean, std, constant[g, i - i0] = _one_window(x, i, w)
            out[g, i - i0] = _max_corr(cur, zero, ag, bg, 0, mean, 0, mw) / std


class ShapeRows:
    """:func:`shape_profiles` of every sensor at one length, one query window after another (a
    stream); equal to the batch to rounding (tested)."""

    def __init__(self, training: TrainingWindows, s: int):
        self.training, self.s = training, s
        self.w = int(training.windows[s])
        g, m = training.r.shape
        self.qt = np.zeros((g, 2, m - self.w + 1))
        self.state = np.zeros((g, 3), dtype=np.int64)
        self.state[:, 0] = -1

    def advance(self, rows: np.ndarray, start: int, stop: int) -> np.ndarray:
        """``[G, stop − start]`` distances of the windows starting at ``start .. stop − 1`` of the
        kept ``rows [G, kept]`` (``start`` follows the previous call's ``stop``)."""
        q = np.ascontiguousarray(rows, dtype=np.float64)
        t, s = self.training, self.s
        corr = np.empty((len(q), stop - start))
        constant = np.zeros((len(q), stop - start), dtype=bool)
        _stream_rows(
            q, t.r, self.w, int(start), int(stop), self.qt, self.state, BLOCK,
            t.a[:, s], t.b[:, s], corr, constant,
        )  # fmt: skip
        return t.distances(corr, constant, s)

    def shift(self, cut: int) -> None:
        """The kept rows lost their first ``cut``: move the previous queries with them."""
        if cut > 0:
            self.state[:, 0] = np.where(self.state[:, 0] - cut >= 0, self.state[:, 0] - cut, -1)
