"""Score a series as it arrives: :class:`Monitor` (``update(chunk) -> scores``) with bounded memory.

A step's score is emitted once it is *final* — once every window that covers it in the batch
score has arrived — so the concatenated output of any chunking equals
``detector.score(series)`` (tested for chunks of 1, 7 and 500 steps). The price is a delay: a
window detector's step ``t`` is final when step ``t + window - 1`` (``discord``: its longest
window) has arrived; :attr:`Monitor.delay` says how many steps. ``flush()`` ends the series and
emits the rest exactly as the batch scores a series that ends there.

How each detector streams (``Detector.streamer``):

* **finite context** (``zscore``, ``pca``, ``knn``, ``iforest``, ``msflow`` with
  ``reference="train"``; :class:`StreamContext`): the last ``lookback + lookahead`` rows are kept
  and re-scored with the detector's own ``score``, so the result is the batch's by
  construction; memory is a fixed number of rows.
* ``discord`` (:mod:`mstad.models.discord_stream`): each new window's nearest-neighbour
  distance is computed once, against the training windows and the series' past windows; the
  most recent ``max_past_windows`` windows of the past are kept (the detector's budget, or
  20,000 where it has none): equal to a batch with the same budget at any length.
* ``shape`` (:class:`mstad.models.shape.ShapeStreamer`): each new window's z-normalised
  distances to the training windows, computed once; no past is kept.
* ``ensemble``: each member (and the shape view) streams; a step is emitted when every member
  has it.
* ``mscred`` (samples aligned to the end of the series) and ``msflow`` with its online
  fine-tuning (every earlier window) cannot be streamed exactly in bounded memory: they raise
  a one-line error that says what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mstad.data.checks import check_series
from mstad.errors import DataError, MstadError
from mstad.models.smoothing import CausalEwma

if TYPE_CHECKING:
    from mstad.models.base import Detector


@dataclass(frozen=True)
class StreamContext:
    """What a step's batch score reads: ``lookback`` rows before it, ``lookahead`` rows after
    it (a step is final when ``t + lookahead < rows seen``) and, for strided windows, the
    ``align`` their starts keep from the series start."""

    lookback: int
    lookahead: int
    align: int = 1


class Streamer(Protocol):
    """Raw (uncalibrated) scores of the steps that became final."""

    delay: int

    def update(self, rows: np.ndarray) -> np.ndarray: ...

    def flush(self) -> np.ndarray: ...


class ContextStreamer:
    """A finite-context detector streamed by re-scoring the rows its next final steps read."""

    def __init__(self, detector: Detector, context: StreamContext):
        self.detector = detector
        self.context = context
        self.delay = context.lookahead
        self.rows = np.empty((0, detector.n_sensors_), dtype=np.float64)
        self.offset = 0  # series index of rows[0]
        self.emitted = 0  # series index of the next step to emit

    def _score_rows(self, upto: int) -> np.ndarray:
        """Raw scores of steps ``emitted .. upto - 1`` from the rows kept."""
        if upto <= self.emitted or len(self.rows) < self.detector.min_steps:
            return np.empty(0)
        raw = self.detector.raw_score(self.rows)
        out = raw[self.emitted - self.offset : upto - self.offset]
        self.emitted = upto
        self._trim()
        return out

    def _trim(self) -> None:
        align, need = self.context.align, self.detector.min_steps
        start = max(0, self.emitted - self.context.lookback)
        start -= start % align
        start = min(start, max(0, self.offset + len(self.rows) - need))
        start -= start % align  # keep the window grid of the whole series
        if start > self.offset:
            self.rows = self.rows[start - self.offset :]
            self.offset = start

    def update(self, rows: np.ndarray) -> np.ndarray:
        self.rows = np.concatenate([self.rows, rows])
        return self._score_rows(self.offset + len(self.rows) - self.context.lookahead)

    def flush(self) -> np.ndarray:
        end = self.offset + len(self.rows)
        if end > self.emitted and len(self.rows) < self.detector.min_steps:
            self.detector.raw_score(self.rows)  # raises the batch's own "too short" error
        return self._score_rows(end)


class WindowStreamer:
    """The frame the window streamers share (``discord``, ``shape``): the standardised input
    rows kept as ``x [C, kept]`` (series index ``offset`` first), each update appending the new
    rows, computing the windows they complete (``_add_windows``), emitting the steps whose
    longest window has arrived (``_steps``) and dropping what no later window reads
    (``_trim``). While the series is shorter than the longest window the raw rows are kept too,
    and ``flush`` scores them as the batch scores a series that short."""

    def _start(self, detector: Detector, n_columns: int, longest: int) -> None:
        self.d = detector
        self.longest = longest
        self.delay = longest - 1
        self.x = np.empty((n_columns, 0))
        self.offset = 0  # series index of x[:, 0]
        self.total = 0
        self.emitted = 0
        self.head: list[np.ndarray] | None = []  # raw rows while the series is short

    def _add_windows(self) -> None:
        raise NotImplementedError

    def _steps(self, upto: int, end: int) -> np.ndarray:
        raise NotImplementedError

    def _trim(self) -> None:
        raise NotImplementedError

    def _cut_rows(self, keep: int) -> int:
        """Drop the kept rows before series index ``keep``; how many were dropped."""
        cut = keep - self.offset
        if cut <= 0:
            return 0
        self.x = np.ascontiguousarray(self.x[:, cut:])
        self.offset = keep
        return cut

    def update(self, rows: np.ndarray) -> np.ndarray:
        if self.head is not None:
            self.head.append(rows)
        self.x = np.concatenate([self.x, self.d.standardized(rows)], axis=1)
        self.total += len(rows)
        if self.total < max(self.longest, self.d.min_steps):
            return np.empty(0)
        self.head = None
        self._add_windows()
        out = self._steps(self.total - self.longest + 1, self.total)
        self._trim()
        return out

    def flush(self) -> np.ndarray:
        if self.head is not None:  # shorter than the longest window: the batch shortens it
            if self.total == 0:
                return np.empty(0)
            return self.d.raw_score(np.concatenate(self.head))[self.emitted :]
        return self._steps(self.total, self.total)


class Monitor:
    """Online scoring with a fitted detector: ``update(chunk)`` returns the calibrated scores
    of the steps that became final (oldest first); ``flush()`` those left when the series ends.

    ``threshold`` (the fitted one, same scale as the scores) makes :meth:`alarms` meaningful.
    ``max_past_windows`` bounds what ``discord`` keeps of the series' past (default: the
    detector's own ``max_past_windows``).
    """

    def __init__(
        self,
        detector: Detector,
        threshold: float | None = None,
        max_past_windows: int | None = None,
    ):
        if not hasattr(detector, "calibration_"):
            raise MstadError(f"detector {detector.name!r} is not fitted; call fit(train) first")
        self.detector = detector
        self.threshold = threshold
        self.streamer = detector.streamer(max_past_windows)
        self.steps_in = 0  # rows received
        self.steps_out = 0  # scores emitted; the next score is of step steps_out
        self.closed = False

    @property
    def delay(self) -> int:
        """Steps between a row's arrival and its score (at most)."""
        return self.streamer.delay

    def _emit(self, raw: np.ndarray) -> np.ndarray:
        scores = self.detector.calibration_.apply(np.asarray(raw, dtype=np.float64))
        self.steps_out += len(scores)
        return scores

    def update(self, chunk: np.ndarray) -> np.ndarray:
        """Add rows ``[n, D]`` (or one row ``[D]``); scores of the steps now final."""
        if self.closed:
            raise MstadError("the monitor was flushed: the series has ended; start a new Monitor")
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.ndim == 1:
            chunk = chunk[None, :]
        if chunk.ndim != 2 or chunk.shape[1] != self.detector.n_sensors_:
            raise DataError(
                f"chunk of shape {chunk.shape}: expected rows of {self.detector.n_sensors_} "
                "sensors, in the training order"
            )
        if len(chunk) == 0:
            return np.empty(0)
        chunk = check_series(chunk, f"chunk at step {self.steps_in}", 1)
        self.steps_in += len(chunk)
        return self._emit(self.streamer.update(chunk))

    def flush(self) -> np.ndarray:
        """End the series: the scores of every step not yet emitted."""
        if self.closed:
            return np.empty(0)
        self.closed = True
        if self.steps_in == 0:
            return np.empty(0)
        return self._emit(self.streamer.flush())

    def alarms(self, scores: np.ndarray) -> np.ndarray:
        """``scores > threshold`` (all False without a threshold)."""
        if self.threshold is None:
            return np.zeros(len(scores), dtype=bool)
        return np.asarray(scores) > self.threshold


def stream_scores(detector: Detector, series: np.ndarray, chunk: int, **options) -> np.ndarray:
    """``series`` fed to a :class:`Monitor` in chunks of ``chunk`` rows, all scores joined."""
    monitor = Monitor(detector, **options)
    parts = [monitor.update(series[lo : lo + chunk]) for lo in range(0, len(series), chunk)]
    return np.concatenate([*parts, monitor.flush()])


class EnsembleStreamer:
    """An ensemble's members (and its shape view) streamed side by side; a step is emitted when
    every member with weight has it (the slowest member sets the delay)."""

    def __init__(self, ensemble, max_past_windows: int | None):
        self.ensemble = ensemble
        self.members = [
            member.streamer(max_past_windows) if weight > 0 else None
            for weight, member in zip(ensemble.weights_, ensemble.members_, strict=True)
        ]
        self.shape = ensemble.shape_.streamer() if ensemble.shape_view else None
        self.pending = [np.empty(0) for _ in self.members]
        self.pending_shape = np.empty(0)
        streamers = [s for s in [*self.members, self.shape] if s is not None]
        self.delay = max(s.delay for s in streamers)
        self.smooth = CausalEwma(ensemble.smoothing) if ensemble.smoothing else None

    def _joined(self, outputs: list[np.ndarray | None], shape: np.ndarray | None) -> np.ndarray:
        members = self.ensemble.members_
        for i, raw in enumerate(outputs):
            if raw is not None:
                scores = members[i].calibration_.apply(np.asarray(raw, dtype=np.float64))
                self.pending[i] = np.concatenate([self.pending[i], scores])
        used = [i for i, s in enumerate(self.members) if s is not None]
        n = min(len(self.pending[i]) for i in used)
        if shape is not None:  # raw: the ensemble averages the view's own unit
            self.pending_shape = np.concatenate([self.pending_shape, shape])
            n = min(n, len(self.pending_shape))
        ready: list[np.ndarray | None] = [None] * len(self.members)
        for i in used:
            ready[i], self.pending[i] = self.pending[i][:n], self.pending[i][n:]
        view, self.pending_shape = self.pending_shape[:n], self.pending_shape[n:]
        if not n:
            return np.empty(0)
        combined = self.ensemble._combine(ready)
        combined = self.smooth(combined) if self.smooth else combined
        return self.ensemble._with_shape(combined, view)

    def update(self, rows: np.ndarray) -> np.ndarray:
        x = rows[:, self.ensemble.columns_]
        shape = self.shape.update(x) if self.shape is not None else None
        return self._joined([s.update(x) if s is not None else None for s in self.members], shape)

    def flush(self) -> np.ndarray:
        shape = self.shape.flush() if self.shape is not None else None
        return self._joined([s.flush() if s is not None else None for s in self.members], shape)
