"""``discord`` as a stream: each window's nearest-neighbour distance is computed once, when its
last row arrives, and a step's score is emitted when its longest window has arrived.

The distances are the batch's (:func:`mstad.models.discord.left_discord_distances`), in float64:
to the thinned training windows (fixed at fit) and to the series' own windows that ended before
the query began. Squared distances come from sliding dot products (``conv1d`` over the kept rows,
one pass for all sensors), ``|q|² + |r|² − 2 q·r``, as ``torch.cdist`` computes them.

Bounded memory: the stream keeps the last ``max_past_windows`` windows of the series as its past
reference (plus the rows of windows still open). Up to that many windows the past is the batch's
exactly; beyond it the batch thins the *whole* series' windows evenly, while the stream keeps the
most recent ``max_past_windows`` — the documented difference (tested against a direct
computation of that rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.functional import conv1d

from mstad.errors import MstadError
from mstad.models.discord import _thin

#: squared distances held at once (float64): 64 MiB
_BLOCK_ELEMENTS = 1 << 23


def window_norms(x: torch.Tensor, w: int) -> torch.Tensor:
    """``|window|²`` of every length-``w`` window of each row of ``x [C, T]`` → ``[C, T-w+1]``."""
    cs = torch.nn.functional.pad(torch.cumsum(x * x, dim=1), (1, 0))
    return cs[:, w:] - cs[:, :-w]


def sliding_dots(x: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Dot products of each query ``[C, Q, w]`` with every window of ``x [C, T]`` of the same
    sensor → ``[C, Q, T-w+1]`` (one grouped convolution for all sensors)."""
    c, q, w = queries.shape
    out = conv1d(x[None], queries.reshape(c * q, 1, w), groups=c)
    return out.reshape(c, q, -1)


@dataclass
class _Scale:
    w: int
    keep: torch.Tensor  # kept training window starts
    norms: torch.Tensor  # [C, len(keep)] their |r|²
    dist: np.ndarray  # [n, G] window distances (RMS per step), windows base .. base + n - 1
    base: int = 0
    next: int = 0  # start of the next window to compute


class DiscordStreamer:
    """Raw ``discord`` scores of the steps that became final (see the module docstring)."""

    def __init__(self, detector, max_past_windows: int | None = None):
        if detector.baseline != "none":
            raise MstadError(
                "discord with baseline='past_median' reads every earlier score; stream it with "
                "baseline='none' (the default) or score batches with `mstad score`"
            )
        self.d = detector
        budget = detector.max_past_windows if max_past_windows is None else max_past_windows
        self.max_past = int(budget)
        if self.max_past < 1:
            raise MstadError(f"max_past_windows {self.max_past}: need at least 1")
        train = np.ascontiguousarray(detector.train_.T, dtype=np.float64)
        self.train = torch.from_numpy(train)  # [C, T_train]
        self.groups = detector._groups()
        self.C = train.shape[0]
        self.scales = []
        for w in detector.lengths_:
            w = int(min(w, train.shape[1]))
            keep = torch.from_numpy(_thin(train.shape[1] - w + 1, detector.max_train_windows))
            norms = window_norms(self.train, w)[:, keep]
            self.scales.append(_Scale(w, keep, norms, np.empty((0, len(self.groups)))))
        self.longest = max(s.w for s in self.scales)
        self.delay = self.longest - 1
        # standardised input columns, [C, rows] float64 (float32-rounded as in the batch), so
        # each update appends the new rows only and hands torch the buffer without a copy
        self.x = np.empty((self.C, 0))
        self.offset = 0  # series index of x[0]
        self.total = 0
        self.emitted = 0
        self.head: list[np.ndarray] | None = []  # raw rows while the series is short

    # ---- distances ----------------------------------------------------------------------------
    def _distances(self, sc: _Scale, xb: torch.Tensor, s0: int, s1: int) -> np.ndarray:
        """``[s1 - s0, G]`` RMS distances of the windows starting at ``s0 .. s1 - 1``."""
        w, past = sc.w, self.d.reference != "train"
        width = sc.keep.numel() + (self.max_past + (s1 - s0) if past else 0)
        step = max(1, _BLOCK_ELEMENTS // (self.C * width))
        out = np.empty((s1 - s0, len(self.groups)))
        windows = xb.unfold(1, w, 1)  # [C, L - w + 1, w], a view
        for lo in range(s0, s1, step):
            hi = min(s1, lo + step)
            q = windows[:, lo - self.offset : hi - self.offset]  # [C, nq, w]
            qn = (q * q).sum(dim=2)[:, :, None]
            parts = [qn + sc.norms[:, None, :] - 2 * sliding_dots(self.train, q)[:, :, sc.keep]]
            p_lo = max(self.offset, lo - w + 1 - self.max_past)
            p_hi = hi - 1 - w  # last past start any query of the block may use
            if past and p_hi >= p_lo:
                seg = xb[:, p_lo - self.offset : p_hi - self.offset + w]
                sq = qn + window_norms(seg, w)[:, None, :] - 2 * sliding_dots(seg, q)
                starts = torch.arange(p_lo, p_hi + 1)[None, :]
                query = torch.arange(lo, hi)[:, None]
                usable = (starts <= query - w) & (starts >= query - w + 1 - self.max_past)
                parts.append(sq.masked_fill(~usable[None], float("inf")))
            sq = torch.cat(parts, dim=2)  # [C, nq, reference]
            for g, cols in enumerate(self.groups):
                best = sq[cols].sum(dim=0).min(dim=1).values.clamp_min(0).sqrt()
                out[lo - s0 : hi - s0, g] = best.numpy() / np.sqrt(w * len(cols))
        return out

    # ---- steps --------------------------------------------------------------------------------
    def _steps(self, upto: int, end: int) -> np.ndarray:
        """Raw scores of steps ``emitted .. upto - 1`` of a series seen up to ``end``."""
        if upto <= self.emitted:
            return np.empty(0)
        t = np.arange(self.emitted, upto)
        total = np.zeros((len(t), len(self.groups)))
        for sc in self.scales:
            lo = np.maximum(0, t - sc.w + 1) - sc.base
            hi = np.minimum(t, end - sc.w) - sc.base
            cs = np.concatenate([np.zeros((1, sc.dist.shape[1])), np.cumsum(sc.dist, axis=0)])
            total += (cs[hi + 1] - cs[lo]) / (hi - lo + 1)[:, None]
        self.emitted = upto
        return self.d._combine(total / len(self.scales))

    def _trim(self) -> None:
        for sc in self.scales:
            cut = max(0, self.emitted - sc.w + 1) - sc.base
            if cut > 0:
                sc.dist, sc.base = sc.dist[cut:], sc.base + cut
        past = self.max_past if self.d.reference != "train" else 0
        keep = min(max(0, sc.next - sc.w + 1 - past) if past else sc.next for sc in self.scales)
        if keep > self.offset:
            self.x = np.ascontiguousarray(self.x[:, keep - self.offset :])
            self.offset = keep

    def update(self, rows: np.ndarray) -> np.ndarray:
        d = self.d
        if self.head is not None:
            self.head.append(rows)
        x = d.scaler_.transform(rows[:, d.columns_]).astype(np.float32)
        self.x = np.concatenate([self.x, x.T.astype(np.float64)], axis=1)
        self.total += len(rows)
        if self.total < max(self.longest, d.min_steps):
            return np.empty(0)
        self.head = None
        xb = torch.from_numpy(self.x)
        for sc in self.scales:
            last = self.total - sc.w + 1  # windows 0 .. last - 1 are complete
            if last > sc.next:
                sc.dist = np.concatenate([sc.dist, self._distances(sc, xb, sc.next, last)])
                sc.next = last
        out = self._steps(self.total - self.longest + 1, self.total)
        self._trim()
        return out

    def flush(self) -> np.ndarray:
        if self.head is not None:  # shorter than the longest window: the batch shortens it
            if self.total == 0:
                return np.empty(0)
            return self.d.raw_score(np.concatenate(self.head))[self.emitted :]
        return self._steps(self.total, self.total)
