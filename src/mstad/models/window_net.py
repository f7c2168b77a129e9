"""The shared frame of the deep window baselines (``lstm_ad``, ``usad``, ``tranad``,
``omnianomaly``): one home for what they do alike, so each model module holds only its network,
its loss and its per-sensor error.

* Scaling fitted on the training part only (:class:`~mstad.features.scaling.Standardizer` or
  :class:`~mstad.features.scaling.MinMaxScaler`, as each paper's code prepares its data).
* Every time step ``t`` gets its own example: the rows ending at ``t`` (``_score_length`` of
  them); the first rows of a series are padded by repeating its first row (TranAD's
  ``convert_to_windows``), so every step has a score and a step's score reads only ``t`` and the
  rows before it — exactly streamable with a finite context.
* Training: seeded shuffled mini-batches of the training examples, the model's own update
  (``_train_batch``: one optimiser, or USAD's two), through the one loop of
  :mod:`mstad.models.training` — early stopping on the model's loss over the validation tail of
  the training split, best weights restored, the loss history saved in the run.
* Scores: ``_errors`` gives a per-sensor error ``[B, D]`` for each example's last step; the
  score is its sum over sensors (after ``_smooth``, telemanom's EWMA), ``explain`` the terms.
* Weights in ``net.pt`` (a ``state_dict``, loaded with ``weights_only=True``); the run's
  ``device`` flag (``auto``: CUDA when there is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from mstad.atomic import atomic_path
from mstad.features.scaling import MinMaxScaler, Standardizer
from mstad.models.base import Detector
from mstad.models.device import denormals_flushed, pick_device
from mstad.models.streaming import StreamContext
from mstad.models.training import train_with_early_stopping

#: examples per forward pass when scoring
SCORE_BATCH = 512
SCALERS = {"standard": Standardizer, "minmax": MinMaxScaler}
SCALER_SHAPES = {
    "standard": {"scaler_mean": ("D",), "scaler_std": ("D",)},
    "minmax": {"scaler_low": ("D",), "scaler_span": ("D",)},
}


def padded_examples(scaled: np.ndarray, length: int, pad: int) -> np.ndarray:
    """Read-only view ``[T + pad - length + 1, length, D]`` of the windows of ``scaled [T, D]``
    after ``pad`` copies of its first row are put in front."""
    padded = np.concatenate([np.repeat(scaled[:1], pad, axis=0), scaled])
    view = np.lib.stride_tricks.sliding_window_view(padded, length, axis=0)
    return view.transpose(0, 2, 1)


class WindowNet(Detector):
    """Base of the deep window baselines; see the module docstring."""

    supports_explain = True
    #: "standard" or "minmax" (:data:`SCALERS`)
    scaling: ClassVar[str] = "standard"

    #: state arrays beyond the scaler's (:attr:`Detector.state_shapes`)
    extra_state_shapes: ClassVar[dict[str, tuple]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.state_shapes = {**SCALER_SHAPES[cls.scaling], **cls.extra_state_shapes}

    # ---- for subclasses ---------------------------------------------------------------------
    def _network(self) -> torch.nn.Module:
        """The model for ``self.n_sensors_`` sensors (``self.columns_`` where it has them)."""
        raise NotImplementedError

    def _optimisers(self) -> list[torch.optim.Optimizer]:
        return [torch.optim.Adam(self.net_.parameters(), lr=self.lr)]

    def _loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean training loss of a batch of examples ``[B, L, D]``."""
        raise NotImplementedError

    def _validation_loss(self, x: torch.Tensor) -> torch.Tensor:
        """What early stopping watches, per batch: by default the mean score (the sum of
        :meth:`_errors` over sensors), which — unlike USAD's and TranAD's training losses, whose
        weights move with the epoch — means the same in every epoch."""
        return self._errors(x).sum(dim=1).mean()

    #: gradient-norm clip of the default update (None: no clipping)
    clip_norm: float | None = None

    def _train_batch(self, x: torch.Tensor) -> float:
        """One update on a batch; its loss. Default: one optimiser on :meth:`_loss`, the
        gradient norm clipped at :attr:`clip_norm` when set."""
        (optimiser,) = self.optimisers_
        optimiser.zero_grad()
        loss = self._loss(x)
        loss.backward()
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.net_.parameters(), self.clip_norm)
        optimiser.step()
        return loss.item()

    def _errors(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sensor error of each example's last step, ``[B, D]`` (no gradients)."""
        raise NotImplementedError

    def _end_epoch(self) -> None:
        """After each training epoch (learning-rate schedules, epoch-dependent weights)."""

    def _smooth(self, errors: np.ndarray) -> np.ndarray:
        """Per-sensor errors ``[T, D]`` as the score uses them; default unchanged."""
        return errors

    @property
    def _pad(self) -> int:
        """Rows before a step that its example reads."""
        return self.window - 1

    @property
    def _train_length(self) -> int:
        """Rows in a training example (a forecaster's include its targets)."""
        return self.window

    @property
    def _score_length(self) -> int:
        """Rows in the example that scores a step (it ends at that step)."""
        return self.window

    # ---- the frame ------------------------------------------------------------------------------
    def _scaled(self, series: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(series)

    def _build(self) -> None:
        torch.manual_seed(self.seed)
        self.device_ = pick_device(self.device)
        self.net_ = self._network().to(self.device_)
        self.net_.eval()

    def _tensor(self, examples: np.ndarray, index: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(examples[index])).to(self.device_)

    def _fit_with_validation(self, train: np.ndarray, head: int | None):
        with denormals_flushed():
            return self._train_and_score_validation(train, head)

    def _train_and_score_validation(self, train: np.ndarray, head: int | None):
        fit_part = train if head is None else train[:head]
        self.scaler_ = SCALERS[self.scaling]().fit(fit_part)
        self._fit_columns(fit_part)
        self._build()
        self.optimisers_ = self._optimisers()
        self.epoch_ = 0
        examples = padded_examples(self._scaled(fit_part), self._train_length, self._pad)
        held_out = None
        if head is not None:
            held_out = padded_examples(self._scaled(train[head:]), self._train_length, self._pad)
        generator = np.random.default_rng(self.seed)

        def run_epoch() -> float:
            self.net_.train()
            order = generator.permutation(len(examples))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                index = np.sort(order[start : start + self.batch_size])
                total += self._train_batch(self._tensor(examples, index)) * len(index)
            self.epoch_ += 1
            self._end_epoch()
            self.net_.eval()
            return total / len(order)

        def validation_loss() -> float:
            total = 0.0
            with torch.no_grad():
                for start in range(0, len(held_out), SCORE_BATCH):
                    index = np.arange(start, min(start + SCORE_BATCH, len(held_out)))
                    loss = self._validation_loss(self._tensor(held_out, index))
                    total += loss.item() * len(index)
            return total / len(held_out)

        self.history_ = train_with_early_stopping(
            self.net_,
            self.name,
            self.epochs,
            self.patience,
            run_epoch,
            validation_loss if held_out is not None and len(held_out) else None,
        )
        self.optimisers_ = None  # not needed after training; not saved
        if head is None:
            return self._raw_score(train), "train"
        return self._raw_score(train[head:]), "validation"

    def _fit_columns(self, train: np.ndarray) -> None:
        """Subclasses that model only some sensors choose them here (training data only)."""

    def _step_errors(self, series: np.ndarray) -> np.ndarray:
        examples = padded_examples(self._scaled(series), self._score_length, self._pad)
        self.net_.eval()
        out = []
        with torch.no_grad(), denormals_flushed():
            for start in range(0, len(examples), SCORE_BATCH):
                index = np.arange(start, min(start + SCORE_BATCH, len(examples)))
                out.append(self._errors(self._tensor(examples, index)).double().cpu().numpy())
        errors = np.concatenate(out)
        # inputs are finite (checked on entry), so a NaN here is the network overflowing on an
        # absurd value (inf - inf inside attention or a softmax): the error is unboundedly large,
        # which the calibration reports as CAP
        errors[np.isnan(errors)] = np.inf
        return self._smooth(errors)

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._step_errors(series).sum(axis=1)

    def _explain(self, series: np.ndarray) -> np.ndarray:
        return self._step_errors(series)

    def stream_context(self) -> StreamContext | None:
        return StreamContext(self._pad, 0)

    # ---- persistence --------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        return dict(self.scaler_.state())

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scaler_ = SCALERS[self.scaling].from_state(state)

    def _save_extra(self, path: Path) -> None:
        with atomic_path(path / "net.pt") as tmp:
            torch.save(self.net_.state_dict(), tmp)

    def _load_extra(self, path: Path) -> None:
        self._build()
        state = torch.load(path / "net.pt", map_location=self.device_, weights_only=True)
        self.net_.load_state_dict(state)
        self.net_.eval()
