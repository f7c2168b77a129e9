"""Exact non-normalised matrix profiles: all window lengths at once, k-th past neighbour.

The distances ``discord`` (and its stream) score with: for each query window of a series, the
squared Euclidean distance to its nearest *normal* window — the nearest training window, or the
``k``-th nearest window of the series' own past (windows that ended before the query began: the
left matrix profile of Yeh et al., ICDM 2016), whichever is nearer. Distances are not
z-normalised (AAMP: Zhu et al., "Matrix Profile XI", ICDM 2018; what ``stumpy.aamp`` computes,
to which the tests compare).

**Diagonal prefix sums, every window length from one pass.** Along a diagonal ``d = j − i`` of
the query × reference grid, the squared distance of the length-``w`` windows starting at
``(i, i + d)`` is ``P[i + w − 1] − P[i − 1]``, where ``P`` is the running sum of
``(q[t] − r[t + d])²`` over the diagonal. Rows ``t`` of ``P`` are computed for a chunk of
diagonals at a time (contiguous in memory: vectorised), the last ``max(windows) + 1`` rows kept
in a ring, and each row finishes one query per window length: its distances over the chunk are a
difference of two ring rows, whose minimum updates that query's nearest neighbour. Cost: one
update per grid cell plus one subtraction per cell and window length — the window length itself
costs nothing. Sums restart at every block of :data:`BLOCK` queries, which bounds the rounding of
the differences to one block's sums and makes the blocks independent (they run in parallel,
numba ``prange``). Sums over a group's sensors give joint distances.

**k-th past neighbour with exclusion.** Training data are normal by contract; the series' past
is not — an anomaly that happened once is in it, and a 1-NN past reference scores its second
occurrence as normal (the "twin freak" of the discord literature). So with ``k > 1`` the past
neighbours are taken greedily, as the exclusion-zone-aware k-NN of the matrix-profile literature
does — the nearest past window, then the nearest at least ``zone`` window lengths from it, and so
on — and the ``k``-th one counts: a pattern is normal once seen in training, or ``k`` times in
the past. Each further neighbour is one more pass over the past (about a third of the work on a
test split as long as training).

**Budgets** (optional, off by default): only the most recent ``max_reference`` training windows
and ``max_past`` past windows are compared — contiguous, so the recurrences still apply, and a
stream keeping a bounded past gets the batch's distances exactly.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

#: queries per independent block (sums restart there; blocks run in parallel)
BLOCK = 2048
#: diagonals per chunk of the k = 1 pass (a ring of max(windows) + 1 rows of them stays in cache)
CHUNK = 1024
#: flags that let the compiler vectorise (no NaN reaches the kernels; inf is kept: no "ninf")
_FAST = {"nnan", "nsz", "arcp", "contract", "reassoc"}
_NO_BUDGET = np.iinfo(np.int64).max // 4
_FAR = -(np.iinfo(np.int64).max // 4)  # "no neighbour": a position no zone reaches


def _float_intrinsic(name: str):
    """``name(a, b)`` of two float64 as the LLVM intrinsic (``llvm.minnum.f64``, …), with
    :data:`_FAST`'s flags. A loop that folds an array with it is vectorised by LLVM with vector
    registers as its accumulators; numba's ``min`` (a compare and a select) is not, and the
    lanes-in-an-array form it replaced kept them in memory (1.3–2.1× slower per element, measured in
    ``benchmarks/results/speed_log.md`` §25)."""

    @intrinsic
    def op(typingctx, a, b):
        def codegen(context, builder, signature, args):
            d = ir.DoubleType()
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d]), name)
            return builder.call(fn, args, fastmath=tuple(sorted(_FAST)))

        return types.float64(types.float64, types.float64), codegen

    return op


_fmin = _float_intrinsic("llvm.minnum.f64")
_fmax = _float_intrinsic("llvm.maxnum.f64")


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy", inline="always")
def _min_diff(a, b, lo, hi):
    """``min(a[lo:hi] − b[lo:hi])`` (vectorised; inf when empty)."""
    x, y = a[lo:hi], b[lo:hi]
    best = np.inf
    for j in range(hi - lo):
        best = _fmin(best, x[j] - y[j])
    return best


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy")
def _accumulate(prev, cur, q, t, ref, x0, lo, hi):
    """``cur[j] = prev[j] + |q[:, t] − ref[:, x0 + j]|²`` on ``lo .. hi − 1``. Elsewhere the
    diagonal has no reference row at ``t``; no window read later spans such a row, so those
    cells are left alone (each diagonal's chain starts from 0 where it enters: ``_nearest``)."""
    if q.shape[0] == 1:
        qt = q[0, t]
        p, c, rr = prev[lo:hi], cur[lo:hi], ref[0, x0 + lo : x0 + hi]
        for j in range(hi - lo):
            e = qt - rr[j]
            c[j] = p[j] + e * e
    else:  # channel by channel over contiguous rows (vectorised), then the running sum
        c, p = cur[lo:hi], prev[lo:hi]
        c[:] = 0.0
        for ch in range(q.shape[0]):
            qc, rr = q[ch, t], ref[ch, x0 + lo : x0 + hi]
            for j in range(hi - lo):
                e = qc - rr[j]
                c[j] += e * e
        for j in range(hi - lo):
            c[j] += p[j]


@nb.njit(cache=True, inline="always")
def _ring_row(ring, t, i0, d0, width, m, lo_prev):
    """Row ``t`` of a chunk of diagonals ``d0 .. d0 + width − 1`` in the ring of running sums:
    the row, the one before it, the reference index of its first diagonal and the diagonals
    ``lo .. hi − 1`` that have a reference row at ``t``. Diagonals entering the reference at
    ``t`` (from ``lo`` up to the previous row's ``lo_prev``) start their chain from 0 — every
    chain of sums is its own diagonal's, never what another left in the ring."""
    ring_rows = ring.shape[0]
    cur = ring[t % ring_rows, :width]
    prev = ring[(t - 1) % ring_rows, :width]
    x0 = t + d0
    lo = min(width, max(0, -x0))
    hi = max(lo, min(width, m - x0))
    if t > i0:
        prev[lo : min(lo_prev, hi)] = 0.0  # diagonals entering at row t
    return cur, prev, x0, lo, hi


@nb.njit(cache=True, inline="always")
def _segment_min(cur, prev, a, z, excluded, zone, shift):
    """Minimum of ``cur − prev`` over ``a .. z − 1`` less the zones ``e − zone < x < e + zone``
    (``x = j + shift``) around the sorted positions ``excluded``; and the segment it lies in."""
    best, seg_lo, seg_hi = np.inf, 0, 0
    start = a
    for e in excluded:
        end = min(e - zone + 1 - shift, z)
        if end > start:
            v = _min_diff(cur, prev, start, end)
            if v < best:
                best, seg_lo, seg_hi = v, start, end
        start = max(start, e + zone - shift)
        if start >= z:
            break
    if start < z:
        v = _min_diff(cur, prev, start, z)
        if v < best:
            best, seg_lo, seg_hi = v, start, z
    return best, seg_lo, seg_hi


@nb.njit(cache=True, parallel=True)
def _nearest(
    qs,
    rs,
    windows,
    use_train,
    use_past,
    max_ref,
    max_past,
    qlo,
    qhi,
    block,
    chunk,
    excluded,
    zone,
    find_arg,
):
    """One pass (see the module docstring) for each group ``g`` of sensors: ``qs [G, c, n]``
    against ``rs [G, c, m]``. Returns the nearest training window's and the nearest past
    window's squared distance, ``[G, len(windows), qhi − qlo]`` each, and (with ``find_arg``:
    a further pass needs it) the past one's start; past windows within ``zone[s]`` of
    ``excluded[g, s, query]`` are left out. The groups' blocks run in parallel together (all
    sensors of a per-sensor detector in one pass)."""
    n_groups, n = qs.shape[0], qs.shape[2]
    n_scales = len(windows)
    wmax, wmin = windows.max(), windows.min()
    train_best = np.full((n_groups, n_scales, qhi - qlo), np.inf)
    past_best = np.full((n_groups, n_scales, qhi - qlo), np.inf)
    past_arg = np.full((n_groups, n_scales, qhi - qlo), _FAR)
    n_blocks = (qhi - qlo + block - 1) // block
    ring_rows = wmax + 1
    for task in nb.prange(n_groups * n_blocks):
        g, b = task // n_blocks, task % n_blocks
        q, r = qs[g], rs[g]
        i0 = qlo + b * block
        i1 = min(qhi, i0 + block, n - wmin + 1)
        if i0 >= i1:
            continue
        ring = np.empty((ring_rows, chunk))
        t_end = min(i1 + wmax - 2, n - 1)
        for seq in range(2):
            if (seq == 0 and not use_train) or (seq == 1 and not use_past):
                continue
            ref = r if seq == 0 else q
            m = ref.shape[1]
            if seq == 0:  # training windows j in [max(0, m - w + 1 - max_ref), m - w]
                jlo_min = m
                for s in range(n_scales):
                    jlo_min = min(jlo_min, max(0, m - windows[s] + 1 - max_ref))
                d_lo, d_hi = jlo_min - (i1 - 1), m - wmin - i0
            else:  # past windows j in [max(0, i - w + 1 - max_past), i - w]
                d_lo, d_hi = max(-(i1 - 1), -wmax + 1 - max_past), -wmin
            for d0 in range(d_lo, d_hi + 1, chunk):
                width = min(chunk, d_hi + 1 - d0)
                # every diagonal's chain of sums starts from 0 — at the block's first row, or
                # where the diagonal enters the reference — so a distance is rounded relative
                # to its own diagonal's sums, never to what another left in the ring (which
                # once made SMAP D-12's 1e-9 distances 4.5e-11 off)
                ring[(i0 - 1) % ring_rows, :width] = 0.0
                lo_prev = width
                for t in range(i0, t_end + 1):
                    cur, prev, x0, lo, hi = _ring_row(ring, t, i0, d0, width, m, lo_prev)
                    lo_prev = lo
                    _accumulate(prev, cur, q, t, ref, x0, lo, hi)
                    for s in range(n_scales):
                        w = windows[s]
                        i = t - w + 1  # the query whose windows end at row t
                        if i < i0 or i >= i1 or i > n - w:
                            continue
                        if seq == 0:
                            jlo, jhi = max(0, m - w + 1 - max_ref), m - w
                        else:
                            jlo, jhi = max(0, i - w + 1 - max_past), i - w
                        a, z = max(jlo - i - d0, 0), min(jhi - i - d0 + 1, width)
                        if a >= z:
                            continue
                        before = ring[(i - 1) % ring_rows, :width]  # row before query i
                        if seq == 0:
                            v = _min_diff(cur, before, a, z)
                            if v < train_best[g, s, i - qlo]:
                                train_best[g, s, i - qlo] = v
                            continue
                        v, g0, g1 = _segment_min(
                            cur, before, a, z, excluded[g, s, i - qlo], zone[s], i + d0
                        )
                        if v < past_best[g, s, i - qlo]:
                            past_best[g, s, i - qlo] = v
                            if not find_arg:  # finding it costs as much as the minimum
                                continue
                            for j in range(g0, g1):  # where it is (the same subtraction)
                                if cur[j] - before[j] == v:
                                    past_arg[g, s, i - qlo] = i + d0 + j
                                    break
    return train_best, past_best, past_arg


def knn_profiles(
    queries: np.ndarray,
    reference: np.ndarray,
    windows,
    *,
    k: int = 1,
    zone: float = 1.0,
    past: bool = True,
    max_reference: int | None = None,
    max_past: int | None = None,
    start: int = 0,
    stop: int | None = None,
    per_sensor: bool = False,
    views: bool = False,
) -> np.ndarray:
    """Squared nearest-normal-window distances ``[len(windows), stop − start]`` of the query
    windows starting at ``start .. stop − 1`` of ``queries [C, n]``: the nearer of the nearest
    window of ``reference [C, m]`` and (with ``past``) the ``k``-th nearest window of
    ``queries`` that ends before the query begins, past neighbours at least ``zone`` window
    lengths apart. Entries whose window would run past the end of ``queries`` are inf.
    Distances sum over the sensors; with ``per_sensor`` each sensor is its own profile,
    ``[C, len(windows), stop − start]``, all computed in one parallel pass. With ``views`` both
    rules come back from the same pass, stacked on a new first axis: ``[0]`` the one above,
    ``[1]`` the nearest ``reference`` window alone.
    """
    q = np.ascontiguousarray(queries, dtype=np.float64)
    r = np.ascontiguousarray(reference, dtype=np.float64)
    if q.ndim != 2 or r.ndim != 2 or q.shape[0] != r.shape[0]:
        raise ValueError(f"queries {q.shape} and reference {r.shape} need [C, T] with equal C")
    w = np.asarray(windows, dtype=np.int64).reshape(-1)
    if w.size == 0 or w.min() < 1 or w.max() > r.shape[1]:
        raise ValueError(f"windows {w.tolist()}: need lengths 1 .. {r.shape[1]} (the reference)")
    if k < 1:
        raise ValueError(f"k={k}: need k >= 1")
    stop = q.shape[1] if stop is None else int(stop)
    max_ref = _NO_BUDGET if max_reference is None else int(max_reference)
    max_p = _NO_BUDGET if max_past is None else int(max_past)
    zones = np.maximum(1, np.ceil(w * zone)).astype(np.int64)
    # groups: every sensor alone (one pass for all of them), or all sensors together
    c = q.shape[0]
    qs = q.reshape(c, 1, -1) if per_sensor else q[None]
    rs = r.reshape(c, 1, -1) if per_sensor else r[None]
    found = np.full((len(qs), len(w), max(0, stop - start), 0), _FAR)
    rest = (max_ref, max_p, int(start), stop, BLOCK, CHUNK)
    passes = k if past else 1
    train, near, arg = _nearest(qs, rs, w, True, bool(past), *rest, found, zones, passes > 1)
    for p in range(1, passes):  # the next past neighbour, outside the found ones' zones
        found = np.sort(np.concatenate([found, arg[..., None]], axis=3), axis=3)
        _, near, arg = _nearest(qs, rs, w, False, True, *rest, found, zones, p + 1 < passes)
    # differences of sums can round a zero distance to -1e-16
    out = np.maximum(np.minimum(train, near), 0.0)
    if views:
        out = np.stack([out, np.maximum(train, 0.0)])
        return out if per_sensor else out[:, 0]
    return out if per_sensor else out[0]


# ---- streams: one query row after another --------------------------------------------------
@nb.njit(cache=True)
def _sq(x, a, y, b):
    s = 0.0
    for c in range(x.shape[0]):
        d = x[c, a] - y[c, b]
        s += d * d
    return s


@nb.njit(cache=True)
def _direct(q, i, r, j0, j1, w, out):
    """``out[j] = |q[:, i:i+w] − r[:, j:j+w]|²`` for ``j`` in ``j0 .. j1 − 1``."""
    for j in range(j0, j1):
        s = 0.0
        for t in range(w):
            s += _sq(q, i + t, r, j + t)
        out[j] = s


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy")
def _advance(q, i, r, j0, j1, w, d):
    """Row ``i`` from row ``i − 1`` in place, ``j`` in ``j0 .. j1 − 1`` (``j0 ≥ 1``), by AAMP's
    update ``D[i, j] = D[i−1, j−1] − |q[i−1] − r[j−1]|² + |q[i+w−1] − r[j+w−1]|²``."""
    if j1 <= j0:
        return
    if q.shape[0] == 1:  # whole slices: evaluated before the write, vectorised
        out_q, in_q = q[0, i - 1], q[0, i + w - 1]
        a, b = r[0, j0 - 1 : j1 - 1], r[0, j0 + w - 1 : j1 + w - 1]
        d[j0:j1] = d[j0 - 1 : j1 - 1] - (out_q - a) ** 2 + (in_q - b) ** 2
        return
    for j in range(j1 - 1, j0 - 1, -1):
        d[j] = d[j - 1] - _sq(q, i - 1, r, j - 1) + _sq(q, i + w - 1, r, j + w - 1)


@nb.njit(cache=True, fastmath=_FAST, error_model="numpy")
def _min_of(x):
    """``min(x)`` (vectorised); inf when empty."""
    best = np.inf
    for j in range(len(x)):
        best = _fmin(best, x[j])
    return best


@nb.njit(cache=True)
def _kth_past(d, lo, hi, k, zone, pos):
    """The ``k``-th greedy past neighbour's squared distance in ``d[lo:hi]`` (each at least
    ``zone`` from the ones before); inf when there are fewer than ``k``."""
    for found in range(k):
        best, at = np.inf, -1
        for j in range(lo, hi):
            if d[j] < best:
                free = True
                for f in range(found):
                    if abs(j - pos[f]) < zone:
                        free = False
                        break
                if free:
                    best, at = d[j], j
        if at < 0:
            return np.inf
        pos[found] = at
    return best


@nb.njit(cache=True)
def _rows(
    q, r, w, i0, i1, d_train, d_past, state, k, zone, past, max_ref, max_past, refresh, out_train
):
    """Squared distances of queries ``i0 .. i1 − 1`` of ``q``, one row after another; ``state``
    = [previous query (−1: none), its past range lo, hi, rows since the last direct row].
    ``out_train`` receives each query's distance to the reference alone."""
    m = r.shape[1]
    mw = m - w + 1
    t0 = max(0, mw - max_ref)
    out = np.empty(i1 - i0)
    pos = np.empty(k, np.int64)
    for i in range(i0, i1):
        follows = state[0] >= 0 and state[0] == i - 1 and state[3] < refresh
        if follows:
            _advance(q, i, r, t0 + 1, mw, w, d_train)
            _direct(q, i, r, t0, t0 + 1, w, d_train)
            state[3] += 1
        else:
            _direct(q, i, r, t0, mw, w, d_train)
            state[3] = 0
        best = _min_of(d_train[t0:mw])
        out_train[i - i0] = best
        if past:
            p1 = max(0, i - w + 1)
            p0 = max(0, p1 - max_past)
            if follows:  # start j from row i - 1's start j - 1, where row i - 1 has it
                lo = max(p0, state[1] + 1, 1)
                _advance(q, i, q, lo, p1, w, d_past)
                _direct(q, i, q, p0, min(lo, p1), w, d_past)
            else:
                _direct(q, i, q, p0, p1, w, d_past)
            state[1], state[2] = p0, p1
            if k == 1:
                best = min(best, _min_of(d_past[p0:p1]))
            else:
                best = min(best, _kth_past(d_past, p0, p1, k, zone, pos))
        state[0] = i
        out[i - i0] = best
    return out


class RowProfiles:
    """:func:`knn_profiles` for one window length, one query after another (a stream): the last
    query's distances to every training and past window are kept, and the next query's follow by
    AAMP's O(reference) update (STAMPI's idea, Yeh et al. 2016) — instead of the batch pass,
    which costs a window length per row more. A direct row every :data:`BLOCK` rows bounds the
    rounding of the running update, as the batch's blocks do. Same rule and budgets as the
    batch, so the two agree to rounding (tested)."""

    def __init__(
        self, reference, w, *, k=1, zone=1.0, past=True, max_reference=None, max_past=None
    ):
        self.r = np.ascontiguousarray(reference, dtype=np.float64)
        if not 1 <= w <= self.r.shape[1]:
            raise ValueError(f"window {w}: need 1 .. {self.r.shape[1]} (the reference)")
        self.w, self.k, self.past = int(w), int(k), bool(past)
        self.zone = max(1, int(np.ceil(w * zone)))
        self.max_ref = _NO_BUDGET if max_reference is None else int(max_reference)
        self.max_past = _NO_BUDGET if max_past is None else int(max_past)
        self.d_train = np.empty(self.r.shape[1] - self.w + 1)
        # past distances by kept row, from _past[_off]: the kept rows grow at the end and are
        # cut at the front, so the buffer is re-laid (doubling) only when its end is reached
        self._past, self._off = np.empty(0), 0
        self.state = np.array([-1, 0, 0, 0], dtype=np.int64)

    def advance(self, queries, start: int, stop: int, views: bool = False) -> np.ndarray:
        """Squared distances of the queries ``start .. stop − 1`` of ``queries [C, n]`` (the
        series' kept rows; ``start`` follows the previous call's ``stop``); with ``views``
        ``[2, stop − start]``: these, and the distances to the reference alone (as
        :func:`knn_profiles`)."""
        q = np.ascontiguousarray(queries, dtype=np.float64)
        need = q.shape[1]
        if self._off + need > len(self._past):
            kept = self._past[self._off :]
            self._past, self._off = np.empty(max(2 * need, 64)), 0
            self._past[: len(kept)] = kept
        d_past = self._past[self._off : self._off + need]
        alone = np.empty(max(0, int(stop) - int(start)))
        nearest = _rows(
            q, self.r, self.w, int(start), int(stop), self.d_train, d_past, self.state,
            self.k, self.zone, self.past, self.max_ref, self.max_past, BLOCK, alone,
        )  # fmt: skip
        if views:
            return np.maximum(np.stack([nearest, alone]), 0.0)
        return np.maximum(nearest, 0.0)

    def shift(self, cut: int) -> None:
        """The kept rows lost their first ``cut``: move the positions with them."""
        if cut > 0:
            self._off = min(self._off + cut, len(self._past))
            self.state[:3] -= cut
            # the previous query (or, with a past, its past) is no longer all there
            if self.state[0] < 0 or (self.past and self.state[1] < 0):
                self.state[0] = -1
