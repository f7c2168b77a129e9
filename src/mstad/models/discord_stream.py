"""``discord`` as a stream: each window's nearest-neighbour distance is computed once, when its
last row arrives, and a step's score is emitted when its longest window has arrived.

The distances are the batch's rule (:mod:`mstad.models.matrix_profile`): to the training windows
(fixed at fit) and to the series' own windows that ended before the query began. Each new
window's distances follow from the previous window's by one O(reference) update
(:class:`~mstad.models.matrix_profile.RowProfiles`), so a row costs the same at chunk 1 as in a
chunk of 100.

Bounded memory: the stream keeps the last ``max_past_windows`` windows of the series as its past
reference (plus the rows of windows still open) — the detector's own budget, or
:data:`~mstad.models.discord.STREAM_PAST_WINDOWS` where it has none. A batch with the same
budget compares the same most recent windows, so batch and stream agree at any length; without a
budget they agree while the series' past is shorter than the stream's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mstad.errors import MstadError
from mstad.models.discord import STREAM_PAST_WINDOWS
from mstad.models.matrix_profile import RowProfiles
from mstad.models.streaming import WindowStreamer


@dataclass
class _Scale:
    w: int
    dist: np.ndarray  # [n, V·G] window distances (RMS per step), windows base .. base + n - 1
    base: int = 0
    next: int = 0  # start of the next window to compute
    rows: list = field(default_factory=list)  # one RowProfiles per sensor group


class DiscordStreamer(WindowStreamer):
    """Raw ``discord`` scores of the steps that became final (see the module docstring)."""

    def __init__(self, detector, max_past_windows: int | None = None):
        if detector.baseline != "none":
            raise MstadError(
                "discord with baseline='past_median' reads every earlier score; stream it with "
                "baseline='none' (the default) or score batches with `mstad score`"
            )
        budget = detector.max_past_windows if max_past_windows is None else max_past_windows
        self.max_past = int(STREAM_PAST_WINDOWS if budget is None else budget)
        if self.max_past < 1:
            raise MstadError(f"max_past_windows {self.max_past}: need at least 1")
        self.train = np.ascontiguousarray(detector.train_.T, dtype=np.float64)  # [C, T_train]
        self.groups = detector._groups()
        self.C = self.train.shape[0]
        columns = detector.views * len(self.groups)
        self.scales = [
            _Scale(int(min(w, self.train.shape[1])), np.empty((0, columns)))
            for w in detector.lengths_
        ]
        for sc in self.scales:  # each window's distances follow from the previous window's
            sc.rows = [
                RowProfiles(self.train[cols], sc.w, **detector.profile_rule(self.max_past))
                for cols in self.groups
            ]
        # standardised input columns, [C, rows] float64 (float32-rounded as in the batch)
        self._start(detector, self.C, max(s.w for s in self.scales))

    # ---- distances ----------------------------------------------------------------------------
    def _distances(self, sc: _Scale, rows: list[np.ndarray], s0: int, s1: int) -> np.ndarray:
        """``[s1 - s0, V·G]`` RMS distances of the windows starting at ``s0 .. s1 - 1``
        (``rows``: each group's kept rows), each view's groups in turn as in the batch."""
        n_groups, views = len(self.groups), self.d.views
        out = np.empty((s1 - s0, views * n_groups))
        lo, hi = s0 - self.offset, s1 - self.offset
        for g, cols in enumerate(self.groups):
            sq = sc.rows[g].advance(rows[g], lo, hi, views=True)
            for v in range(views):
                out[:, v * n_groups + g] = np.sqrt(sq[v] / (sc.w * len(cols)))
        return out

    def _group_rows(self) -> list[np.ndarray]:
        """Each group's kept rows: views (a group is all inputs or one sensor), not copies."""
        return [self.x[cols[0] : cols[-1] + 1] for cols in self.groups]

    # ---- steps --------------------------------------------------------------------------------
    def _steps(self, upto: int, end: int) -> np.ndarray:
        """Raw scores of steps ``emitted .. upto - 1`` of a series seen up to ``end``."""
        if upto <= self.emitted:
            return np.empty(0)
        t = np.arange(self.emitted, upto)
        per_length = []
        for sc in self.scales:
            lo = np.maximum(0, t - sc.w + 1) - sc.base
            hi = np.minimum(t, end - sc.w) - sc.base
            cs = np.concatenate([np.zeros((1, sc.dist.shape[1])), np.cumsum(sc.dist, axis=0)])
            per_length.append((cs[hi + 1] - cs[lo]) / (hi - lo + 1)[:, None])
        self.emitted = upto
        return self.d._combine(self.d.merge_scales(per_length))

    def _trim(self) -> None:
        for sc in self.scales:
            cut = max(0, self.emitted - sc.w + 1) - sc.base
            if cut > 0:
                sc.dist, sc.base = sc.dist[cut:], sc.base + cut
        past = self.max_past if self.d.reference != "train" else 0
        # the past windows a next query may read, or (training alone) the row before each next
        # window, which its update from the previous window reads
        keep = min(max(0, sc.next - sc.w + 1 - past) if past else sc.next - 1 for sc in self.scales)
        cut = self._cut_rows(max(keep, 0))
        for sc in self.scales:
            for rows in sc.rows:
                rows.shift(cut)

    def _add_windows(self) -> None:
        rows = self._group_rows()
        for sc in self.scales:
            last = self.total - sc.w + 1  # windows 0 .. last - 1 are complete
            if last > sc.next:
                sc.dist = np.concatenate([sc.dist, self._distances(sc, rows, sc.next, last)])
                sc.next = last
