"""MSCRED as a detector: train on signature matrices of normal data, score by residuals.

* Inputs: the sensors ``inputs`` names (``"continuous"``, the default since issue 17's round 6:
  the 0/1 command flags left out, :mod:`mstad.features.columns`, as ``discord`` and ``msflow``
  do — +0.084 entity AUROC on the injected SMAP holdouts, ``mscred_log.md`` §13; or ``"all"``),
  per-sensor min-max
  scaling fitted on the training split only, then signature matrices
  (:mod:`mstad.features.signature`) and lazy ``h``-step stacks.
* Training: Adam, mini-batches of 16 (the authors used batch 1 with lr 2e-4; with batches, lr 1e-3
  reaches a 3× lower validation loss on the synthetic set in 10 epochs), MSE to the last step
  (authors' code) or to every step
  (``loss_steps="all"``, the paper); early stopping on the validation tail of the training split,
  best weights restored.
* ``target="next"`` (the default before issue 17; not in the paper): the network sees the
  ``h`` steps *before* a matrix and must forecast it, so it cannot pass an anomaly through to
  its output. ``"last"`` reconstructs the last input step, as the paper and the authors' code do
  (``configs/mscred_paper.yaml``). On the paper's synthetic data, 4 epochs each, relative score:
  AUROC 0.707 vs 0.649, AP 0.229 vs 0.102, root-cause recall@3 0.80 vs 0.53.
* ``target="masked"`` (not in the paper): the rows and columns of ``mask_fraction`` of the
  sensors are zeroed in every input step and the network reconstructs the last matrix; the loss
  and the score count only the hidden entries, which it can neither copy (as ``"last"`` can,
  through its full-resolution skip) nor extrapolate from the entry's own past (as ``"next"``
  can): it must infer a sensor's row from the *other* sensors, i.e. from the correlations. For
  scoring the sensors are split into fixed seeded groups of that size, each hidden in turn (one
  forward pass per group). Why: on the example plant, whose faults decouple 3 sensors while
  keeping their range, PCA of the scale-0 signature matrices finds the faults (AUROC 0.995) but
  the network did not (``"next"`` 0.557, ``"last"`` 0.690 after 30 epochs; ``"masked"`` with
  ``mask_fraction=0.1`` 0.978, recall@3 0.92 with ``explain_mode="median"``). The default's
  choice wherever sensors share structure (``"auto"``).
* ``target="auto"`` (default since issue 17's round 4, ``benchmarks/results/mscred_log.md``
  §10): ``"masked"`` where the training sensors share correlation structure, ``"next"`` where
  they do not (:func:`mstad.features.structure.shares_structure`,
  the test the ensemble gates ``pca`` with) — on independent sensors the others cannot tell a
  hidden row, and the masked target is below chance on the paper's synthetic data (0.367) where
  the forecast reaches 0.666. Decided once at fit from the training data (``target_``).
* ``mask_steps="both"`` (an option, not the default): half the training samples hide their
  sensors in the last input step only, their own past visible; scoring takes per entry the
  larger of the two views' residuals, each over its validation median. Built for independent
  sensors, where the other sensors cannot tell a row; on the paper's synthetic data it did not
  help (AUROC 0.356 against 0.367, ``mscred_log.md`` §7).
* ``run_length`` (training batches): ``1`` draws ``batch_size`` samples at random; ``R > 1``
  draws ``batch_size // R`` runs of ``R`` consecutive samples, whose shared matrices go through
  the encoder and the ConvLSTM input convolutions once (:meth:`MSCREDNetwork.forward_runs`,
  the same outputs and gradients per sample; 1.4× faster training steps at ``R = 16``). Not
  the default: a batch of neighbours behind one mask shows the network one stretch of the
  series, and ``R = 16`` lost 0.08–0.12 entity AUROC wherever the masked target was chosen
  (gaining 0.02 with the forecast; ``mscred_log.md`` §19). Scoring always runs in chunks of
  ``batch_size`` consecutive samples this way (exact: nothing about training changes).
* ``augment=(0.8, 1.25)`` and ``epochs=60`` (defaults since issue 17's round 9,
  ``mscred_log.md`` §22–§23): the training part is also played at each of these speeds
  (:mod:`mstad.features.warp`) and every epoch draws as many samples as the series alone has
  from the original and warped samples together; at most 60 epochs (30 before), early stopping
  as ever. Why: on the example plant at generator seed 2 one test batch's slow cycles run faster
  than in any training batch, and MSCRED flagged that whole batch (AUROC 0.737, §21); 30 epochs
  did not stop early on the plants. Round 9: the worst per-set shortfall 0.021 (factors) against
  the previous defaults' 0.073 (plant-batches), plant 0.958 → 0.984, 1.2× the fit time summed
  over the nine sets. ``augment=()`` trains on the recorded series only.
* ``patience=10`` (default since issue 17's round 11, ``mscred_log.md`` §25–§26; 3 before):
  early stopping waits ten epochs for a better validation loss before it restores the best
  weights. The plants' validation loss falls for 40+ epochs with rises of two or three epochs
  inside that noise, so patience 3 ended fits that were still learning. Round 11: ahead or
  level on all nine sets (worst shortfall 0.000 against 0.049; lagged +0.049, servers +0.036,
  plant-batches +0.034, factors +0.029, plant-seeds +0.014), at up to 1.8× the fit seconds.
* ``linear_forecast=True`` (default since issue 17's round 12, ``mscred_log.md`` §31; folders
  saved before load without it): with the forecast target,
  a linear autoregression of every matrix entry over the ``steps`` input matrices (one 1 × 1
  convolution shared by all entries, zero when built) is added to the network's output, so the
  network learns what a linear forecast misses. Why: on the paper's synthetic data a ridge
  forecast of each entry from its own past scores AUROC 0.80 from the same matrices where the
  network alone reaches 0.70; with the linear part the network reaches 0.78 (recall@3 0.933).
  Round 12: worst shortfall 0.045 (servers) against 0.075 (paper synthetic); it loses on
  server metrics (−0.045) and seasonal sensors (−0.014). Not built for the masked or
  reconstruction targets (a hidden row is zeros in every input step).
* ``width=16`` (default since issue 17's round 2; the paper's is 32): channels per level
  ``width · (1, 2, 4, 8)``. Half the paper's width trains about 3× faster and ranked the
  selection sets as well or better (example plant 0.958 against 0.978, the other three sets
  ahead of width 32's 10-epoch figures; width 8 lost on every set).
* Scores per sample from the residual ``R = (X - X̂)²`` of the target matrix: ``relative``
  (the default until round 13: each entry divided by its median over the validation samples,
  then averaged — an
  anomaly lives in a few rows of the matrix, and without this the entries that are always hard to
  reconstruct drown it: on the paper's synthetic data AUROC 0.37 → 0.65 with the same
  reconstructing network),
  ``sse`` (sum of R over scales), ``count`` (paper: entries of scale 0 with R > θ, full matrix),
  ``count_upper`` (upper triangle only), or the most broken sensor: ``sensor`` (the default
  since issue 17's round 13, ``mscred_log.md`` §32: each sensor's row mean of the relative
  residual — its ``explain_mode="relative"`` part — and per step the largest sensor's; worst
  shortfall 0.009 on six sets against 0.015 for ``relative``) or ``sensor_median`` (the row's
  median). On one input sensor every relative mode is the same. Per-scale counts
  (``scale_scores``) give the duration class of an event (short / medium / long).
* Time mapping (``step_scores``): ``"window"`` (default since issue 17's round 5,
  ``mscred_log.md`` §11: better on all five selection sets) — each scale's part of the score
  covers that scale's window ``[t_end - w, t_end)`` (what its matrix sums over), each step
  averages the samples whose window covers it, then the scales are combined as the score
  combines them (as ``discord`` maps window distances to steps); ``"sample"`` — the sample ending
  at ``t_end`` covers steps ``[t_end - gap, t_end)``. Matrices are aligned to the end of the series,
  so only the warm-up at its start has no sample of its own — it takes the first covered value.
* ``explain``: per-sensor rows of the relative residual — their mean (default), their median
  (``"median"``: a broken sensor's row is broken in most entries, a sensor merely correlated with
  it only in the entries with the broken one) — of R (``"sum"``) or of ``R > θ`` on scale 0
  (``"count"``, the paper's root-cause ranking).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from mstad.atomic import atomic_path
from mstad.features.columns import INPUTS, input_columns
from mstad.features.scaling import MinMaxScaler
from mstad.features.signature import signature_matrices, step_stacks
from mstad.features.structure import shares_structure
from mstad.features.warp import time_warp
from mstad.models.base import Detector
from mstad.models.device import PRECISIONS, TRAINING_SPECS, autocast, pick_device
from mstad.models.mscred.masking import entries_of, hide_sensors, masked_mse
from mstad.models.mscred.network import MSCREDNetwork, run_samples
from mstad.models.mscred.samples import (
    PooledStacks,
    samples_to_steps,
    scale_windows_to_steps,
    typical_residual,
)
from mstad.models.mscred.scores import (
    EXPLAIN_MODES,
    SCORE_MODES,
    SENSOR_MODES,
    sample_scores,
    scale_counts,
    scale_parts,
    sensor_parts,
)
from mstad.models.registry import register
from mstad.models.training import train_with_early_stopping
from mstad.params import spec
from mstad.progress import report

TARGETS = ("last", "next", "masked", "auto")
MASK_STEPS = ("all", "both")
STEP_SCORES = ("sample", "window")


def auto_target(x: np.ndarray) -> str:
    """What ``target="auto"`` trains on the input columns ``x`` of training data: ``"masked"``
    where they share correlation structure, ``"next"`` (the forecast) where they do not."""
    return "masked" if shares_structure(x) else "next"


@register
class MSCRED(Detector):
    name = "mscred"
    supports_explain = True
    heatmap_kind = "residual matrix, scale S"
    heatmap_unit = "residual matrix"

    param_specs = {
        **TRAINING_SPECS,
        "windows": spec(min_length=1, item_ge=2),
        "gap": spec(ge=1),
        "steps": spec(ge=1),
        "lstm_kernels": spec(min_length=4, max_length=4, item_ge=1),
        "width": spec(ge=1),
        "loss_steps": spec(choices=("last", "all")),
        "theta": spec(ge=0),
        "score_mode": spec(choices=SCORE_MODES),
        "explain_mode": spec(choices=EXPLAIN_MODES),
        "target": spec(choices=TARGETS),
        "mask_fraction": spec(gt=0, lt=1),
        "mask_steps": spec(choices=MASK_STEPS),
        "step_scores": spec(choices=STEP_SCORES),
        "run_length": spec(ge=1),
        "augment": spec(item_ge=0.1),
        "inputs": spec(choices=INPUTS),
        "precision": spec(choices=PRECISIONS),
    }

    # folders saved before a parameter existed load with the value they were fitted with
    params_before_added = {
        "width": 32,
        "step_scores": "sample",
        "inputs": "all",
        "run_length": 1,
        "augment": (),
        "linear_forecast": False,
    }

    state_shapes = {
        "columns?": ("C",),  # optional: saved before inputs existed (then every sensor)
        "min": ("C",),
        "max": ("C",),
        "validation_scale_scores": (None, "W"),
        "residual_scale": ("W", "C", "C"),
        "view_scale?": (2,),  # optional: models saved before mask_steps existed
        "resolved_target?": (1,),  # index in TARGETS; optional: saved before target="auto"
    }

    def _state_dims(self, state: dict[str, np.ndarray]) -> dict[str, int]:
        dims = {**super()._state_dims(state), "W": len(self.windows)}
        dims.setdefault("C", dims["D"])
        return dims

    def __init__(
        self,
        windows: tuple[int, ...] = (10, 30, 60),
        gap: int = 10,
        steps: int = 5,
        lstm_kernels: tuple[int, ...] = (3, 3, 2, 2),
        width: int = 16,
        temperature: float | Literal["sqrt"] = 5.0,
        loss_steps: str = "last",
        epochs: int = 60,
        batch_size: int = 16,
        lr: float = 1e-3,
        patience: int = 10,
        theta: float = 0.005,
        score_mode: str = "sensor",
        explain_mode: str = "median",
        target: str = "auto",
        mask_fraction: float = 0.1,
        mask_steps: str = "all",
        step_scores: str = "window",
        run_length: int = 1,
        augment: tuple[float, ...] = (0.8, 1.25),
        linear_forecast: bool = True,
        inputs: str = "continuous",
        precision: str = "float32",
        device: str = "auto",
        seed: int = 0,
    ):
        if target != "last" and loss_steps == "all":
            raise ValueError(
                "loss_steps='all' reconstructs the input steps; use it with target='last'"
            )
        if run_length > 1 and mask_steps == "both":
            raise ValueError(
                "run_length > 1 shares each matrix's convolutions between the samples of a run, "
                "which mask_steps='both' hides differently per sample; use run_length=1"
            )
        if augment and run_length > 1:
            raise ValueError(
                "augment draws training samples from several series, run_length > 1 cuts runs "
                "of one; with run_length > 1 set augment=[] (-p augment=[])"
            )
        if not isinstance(temperature, str) and temperature <= 0:
            raise ValueError(f"temperature must be > 0 or 'sqrt', got {temperature}")
        self.windows = tuple(windows)
        self.gap = gap
        self.steps = steps
        self.lstm_kernels = tuple(lstm_kernels)
        self.width = width
        self.temperature = temperature
        self.loss_steps = loss_steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.theta = theta
        self.score_mode = score_mode
        self.explain_mode = explain_mode
        self.target = target
        self.mask_fraction = mask_fraction
        self.mask_steps = mask_steps
        self.step_scores = step_scores
        self.run_length = run_length
        self.augment = tuple(float(v) for v in augment)
        self.linear_forecast = linear_forecast
        self.inputs = inputs
        self.precision = precision
        self.device = device
        self.seed = seed

    @property
    def min_steps(self) -> int:
        return max(self.windows) + (self._stack_length - 1) * self.gap

    @property
    def _target(self) -> str:
        """The target trained and scored: ``target``, or for ``"auto"`` what the fit decided
        (before a fit, ``"next"``: the longer sample, so ``min_steps`` holds for either)."""
        if self.target != "auto":
            return self.target
        return getattr(self, "target_", "next")

    @property
    def _stack_length(self) -> int:
        """Matrices per sample: h input steps, plus the one to forecast (target="next")."""
        return self.steps + (self._target == "next")

    # ---- inputs -------------------------------------------------------------------------------
    def _scale(self, series: np.ndarray) -> np.ndarray:
        """Min-max scaling with the training range (the shared scaler: a sensor constant in
        training gets a span of 1, so leaving its value by 1 is a full range, not 10⁶ ranges),
        bounded so that the signature matrices stay finite."""
        return MinMaxScaler.from_range(self.min_, self.max_).transform(series)

    @property
    def n_inputs_(self) -> int:
        """Sensors the network sees (``n`` of its ``n × n`` matrices)."""
        return len(self.columns_)

    def _samples(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stacks view [N, h, S, n, n] float32, end time of each sample [N]) of the input
        columns."""
        scaled = self._scale(series[:, self.columns_])
        matrices, ends = signature_matrices(scaled, self.windows, self.gap)
        length = self._stack_length
        return step_stacks(matrices.astype(np.float32), length), ends[length - 1 :]

    def _build(self) -> None:
        self.device_ = pick_device(self.device)
        forecast_steps = self.steps if self.linear_forecast and self._target == "next" else 0
        self.network_ = MSCREDNetwork(
            self.n_inputs_,
            len(self.windows),
            self.lstm_kernels,
            self.temperature,
            self.width,
            forecast_steps,
        ).to(self.device_)

    def _net(self, inputs: torch.Tensor, **options) -> torch.Tensor:
        """The network's output in float32, computed at the detector's ``precision``."""
        with autocast(self.device_, self.precision):
            return self.network_(inputs, **options).float()

    def _batch(self, stacks: np.ndarray, index: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(stacks[index])).to(self.device_)

    def _loss(
        self,
        batch: torch.Tensor,
        masked: torch.Tensor | None = None,
        last_only: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self._target == "masked":
            if masked is None:
                masked, last_only = self._random_masks(batch.shape[0]), self._random_views(batch)
            output = self._net(hide_sensors(batch, masked, last_only))
            return masked_mse(output, batch[:, -1], masked)
        if self.loss_steps == "all":
            return torch.mean((self._net(batch, all_steps=True) - batch) ** 2)
        inputs, target = self._split_runs(batch)  # a batch of stacks: runs of one sample
        return torch.mean((self._net(inputs) - target) ** 2)

    def _run_loss(self, runs: torch.Tensor) -> torch.Tensor:
        """:meth:`_loss` of every sample inside ``runs (R, r + len - 1, S, n, n)`` — runs of ``r``
        consecutive samples — with each matrix's convolutions shared by the samples that overlap
        it (:meth:`MSCREDNetwork.forward_runs`); the masked target hides the same sensors in the
        whole run (one random draw per run)."""
        steps = self.steps
        if self._target == "masked":
            masks = self._random_masks(runs.shape[0])
            output = self._net_runs(hide_sensors(runs, masks), steps)
            per_sample = masks.repeat_interleave(runs.shape[1] - steps + 1, dim=0)
            return masked_mse(output, runs[:, steps - 1 :].flatten(0, 1), per_sample)
        if self.loss_steps == "all":
            stacks = run_samples(runs, steps)
            return torch.mean((self._net_runs(runs, steps, all_steps=True) - stacks) ** 2)
        inputs, target = self._split_runs(runs)
        return torch.mean((self._net_runs(inputs, steps) - target) ** 2)

    def _split_runs(self, runs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the runs the network reads, each sample's target matrix ``(R·r, S, n, n)``): the
        matrix after a sample's ``steps`` (``"next"``: it must forecast it) or its last."""
        steps = self.steps
        if self._target == "next":
            return runs[:, :-1], runs[:, steps:].flatten(0, 1)
        return runs, runs[:, steps - 1 :].flatten(0, 1)

    def _net_runs(self, runs: torch.Tensor, steps: int, **options) -> torch.Tensor:
        with autocast(self.device_, self.precision):
            return self.network_.forward_runs(runs, steps, **options).float()

    def _run_batches(self, fit_idx: np.ndarray, generator: np.random.Generator) -> list:
        """One epoch's training batches as lists of runs ``(first sample, samples)``: the
        training samples (one consecutive range, ``fit_idx``) cut into runs of ``run_length``
        at a random offset (so a sample's run-mates change between epochs), full runs shuffled
        and grouped ``batch_size // run_length`` to a batch, each shorter edge run a batch of
        its own."""
        r = self.run_length
        first, count = int(fit_idx[0]), len(fit_idx)
        offset = int(generator.integers(r))
        cuts = [0, *range(offset, count, r), count]
        runs = [(first + a, b - a) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
        full = [run for run in runs if run[1] == r]
        short = [[run] for run in runs if run[1] < r]
        full = [full[i] for i in generator.permutation(len(full))]
        per_batch = max(1, self.batch_size // r)
        batches = [full[i : i + per_batch] for i in range(0, len(full), per_batch)] + short
        return [batches[i] for i in generator.permutation(len(batches))]

    def _runs(self, stacks: np.ndarray, runs: list) -> torch.Tensor:
        """The matrices of equally long runs ``(first sample, samples)``: sample ``i`` is
        ``stacks[i]``, so a run is its first stack and the last matrix of each later one."""
        arrays = [
            np.concatenate([stacks[first], stacks[first + 1 : first + count, -1]])
            for first, count in runs
        ]
        return torch.from_numpy(np.stack(arrays)).to(self.device_)

    # ---- masked reconstruction ----------------------------------------------------------------
    @property
    def _mask_size(self) -> int:
        """Sensors hidden together: ``mask_fraction`` of them, at least one."""
        return max(1, int(round(self.n_inputs_ * self.mask_fraction)))

    def _random_masks(self, batch: int) -> torch.Tensor:
        """``[B, n]`` bool, ``_mask_size`` random sensors per sample (the training masks)."""
        noise = torch.rand(batch, self.n_inputs_, generator=self._mask_generator)
        chosen = noise.argsort(dim=1)[:, : self._mask_size]
        masks = torch.zeros(batch, self.n_inputs_, dtype=torch.bool)
        masks[torch.arange(batch)[:, None], chosen] = True
        return masks.to(self.device_)

    def _random_views(self, batch: torch.Tensor) -> torch.Tensor | None:
        """With ``mask_steps="both"``, half the training samples (at random) hide their sensors
        in the last step only; None (every step) otherwise."""
        if self.mask_steps == "all":
            return None
        coin = torch.rand(batch.shape[0], generator=self._mask_generator) < 0.5
        return coin.to(self.device_)

    def _group_masks(self, group: np.ndarray, batch: int) -> torch.Tensor:
        masks = torch.zeros(batch, self.n_inputs_, dtype=torch.bool)
        masks[:, torch.from_numpy(group)] = True
        return masks.to(self.device_)

    def mask_groups(self) -> list[np.ndarray]:
        """The fixed, seeded partition of the sensors that scoring hides one group at a time."""
        order = np.random.default_rng(self.seed).permutation(self.n_inputs_)
        return np.array_split(order, -(-self.n_inputs_ // self._mask_size))

    # ---- training -----------------------------------------------------------------------------
    def _fit_with_validation(self, train: np.ndarray, head: int | None):
        torch.manual_seed(self.seed)
        generator = np.random.default_rng(self.seed)
        self._mask_generator = torch.Generator().manual_seed(self.seed)
        self.columns_ = input_columns(train, self.inputs, self.flags_)
        x = train[:, self.columns_]
        self.min_, self.max_ = x.min(axis=0).astype(np.float64), x.max(axis=0)
        if self.target == "auto":  # a fact of the training data, decided once
            self.target_ = auto_target(x)
        self._build()
        stacks, ends = self._samples(train)
        fit_idx = np.arange(len(stacks)) if head is None else np.flatnonzero(ends <= head)
        val_idx = self._validation_index(ends, head)
        optimiser = torch.optim.Adam(self.network_.parameters(), lr=self.lr)
        pool, pool_idx = self._augmented(stacks, fit_idx, train if head is None else train[:head])

        def run_epoch() -> float:
            self.network_.train()
            if self.run_length > 1:
                return run_epoch_in_runs()
            total = 0.0
            # as many samples per epoch as the series alone has: augmenting costs no time
            order = generator.permutation(pool_idx)[: len(fit_idx)]
            starts = range(0, len(order), self.batch_size)
            for done, start in enumerate(starts, 1):
                index = order[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = self._loss(self._batch(pool, index))
                loss.backward()
                optimiser.step()
                total += loss.item() * len(index)
                report("mscred: training batches", done, len(starts))  # many sensors: slow epochs
            return total / len(fit_idx)

        def run_epoch_in_runs() -> float:
            total = 0.0
            batches = list(self._run_batches(fit_idx, generator))
            for done, runs in enumerate(batches, 1):
                optimiser.zero_grad()
                loss = self._run_loss(self._runs(stacks, runs))
                loss.backward()
                optimiser.step()
                total += loss.item() * sum(count for _, count in runs)
                report("mscred: training batches", done, len(batches))
            return total / len(fit_idx)

        validation = (lambda: self._mean_loss(stacks, val_idx)) if len(val_idx) else None
        self.history_ = train_with_early_stopping(
            self.network_, "mscred", self.epochs, self.patience, run_epoch, validation
        )
        self._cache = None
        held_out = val_idx if len(val_idx) else np.arange(len(stacks))
        self.view_scale_ = self._view_scale(stacks[held_out])
        residual = self._residual_of(stacks[held_out])
        self.validation_scale_scores_ = scale_counts(residual, self.theta)
        self.residual_scale_ = typical_residual(residual)
        fitted_on = "validation" if len(val_idx) else "train"
        return self._held_out_scores(residual, ends[held_out]), fitted_on

    def _validation_index(self, ends: np.ndarray, head: int | None) -> np.ndarray:
        """The validation samples among samples ending at ``ends``: those whose last gap lies in
        the tail from ``head`` on (their history may reach into the head); none without a tail."""
        if head is None:
            return np.zeros(0, dtype=int)
        return np.flatnonzero(ends - self.gap >= head)

    def _held_out_scores(self, residual: np.ndarray, held_ends: np.ndarray) -> np.ndarray:
        """The raw scores the calibration is fitted on, from the held-out samples' residuals:
        per sample (``step_scores="sample"``), else per step of the gaps they end with."""
        if self.step_scores == "sample":
            return self._sample_scores(residual)
        steps = self._steps(residual, held_ends, int(held_ends[-1]))
        return steps[int(held_ends[0]) - self.gap :]

    def _augmented(self, stacks: np.ndarray, fit_idx: np.ndarray, fit_series: np.ndarray):
        """(samples to train on, their indices): the series' own training samples, plus with
        ``augment`` every sample of the training part played at each of those speeds
        (:func:`~mstad.features.warp.time_warp`) — the validation tail stays as recorded."""
        warped = [time_warp(fit_series, v) for v in self.augment]
        warped = [w for w in warped if len(w) >= self.min_steps]  # a short copy has no sample
        if not warped:
            return stacks, fit_idx
        parts = [stacks] + [self._samples(w)[0] for w in warped]
        pool = PooledStacks(parts)
        return pool, np.concatenate([fit_idx, np.arange(len(stacks), len(pool))])

    @torch.no_grad()
    def _mean_loss(self, stacks: np.ndarray, index: np.ndarray) -> float:
        """Validation loss; with ``target="masked"`` validation sample ``i`` hides scoring group
        ``i mod G`` — fixed, so that epochs compare, and one pass per sample instead of G (with
        ``mask_steps="both"``, in every step or in the last only by turns)."""
        self.network_.eval()
        total = 0.0
        groups = self.mask_groups() if self._target == "masked" else []
        for start in range(0, len(index), self.batch_size):
            chunk = index[start : start + self.batch_size]
            batch = self._batch(stacks, chunk)
            masks = last_only = None
            if groups:
                positions = np.arange(start, start + len(chunk))
                masks = torch.zeros(len(chunk), self.n_inputs_, dtype=torch.bool)
                for row, position in enumerate(positions):
                    masks[row, torch.from_numpy(groups[position % len(groups)])] = True
                masks = masks.to(self.device_)
                if self.mask_steps == "both":  # alternate the two views, fixed as well
                    last_only = torch.from_numpy((positions // len(groups)) % 2 == 1)
                    last_only = last_only.to(self.device_)
            total += self._loss(batch, masks, last_only).item() * len(chunk)
        return total / len(index)

    @torch.no_grad()
    def _view_scale(self, stacks: np.ndarray) -> np.ndarray:
        """Median squared residual of each masked view over held-out normal samples, ``[2]``
        (hidden in every step, in the last step only); ones unless ``mask_steps="both"``. A
        view that reconstructs exactly gets the floor 1e-12, never a division by zero."""
        if self._target != "masked" or self.mask_steps == "all":
            return np.ones(2)
        self.network_.eval()
        groups, medians = self.mask_groups(), []
        index = np.arange(len(stacks))
        for last in (False, True):
            values = []
            for start in range(0, len(stacks), self.batch_size):
                batch = self._batch(stacks, index[start : start + self.batch_size])
                for hidden, squared in self._group_passes(batch, groups, last):
                    values.append(squared[hidden.expand_as(squared)].cpu().numpy())
            medians.append(float(np.median(np.concatenate(values))))
        return np.maximum(np.array(medians), 1e-12)

    def _group_passes(self, runs: torch.Tensor, groups: list[np.ndarray], last: bool | None):
        """One forward pass per scoring group over ``runs (R, L, S, n, n)`` (a batch of stacks
        is runs of one sample), hiding the group in every step (``last`` None or False) or — one
        sample per run only — in the last step alone (True): yields (hidden entries
        ``[R·W, 1, n, n]`` bool, squared residual ``[R·W, S, n, n]``), ``W = L - steps + 1``
        samples per run."""
        samples = runs.shape[1] - self.steps + 1
        for group in groups:
            masks = self._group_masks(group, runs.shape[0])
            last_only = None if last is None else torch.full_like(masks[:, 0], last)
            output = self._net_runs(hide_sensors(runs, masks, last_only), self.steps)
            residual = output - runs[:, self.steps - 1 :].flatten(0, 1)
            yield entries_of(masks).repeat_interleave(samples, dim=0)[:, None], residual**2

    # ---- scoring ------------------------------------------------------------------------------
    @torch.no_grad()
    def _residual_of(self, stacks: np.ndarray) -> np.ndarray:
        """``(X_target - X̂)²`` for every sample of consecutive ``stacks``, ``[N, S, n, n]``; with
        ``target="masked"`` each entry's residual from the passes that hid its row or column
        sensor (mean of the two). Each chunk of ``batch_size`` samples is one run (shared
        convolutions, :meth:`MSCREDNetwork.forward_runs`), except for ``mask_steps="both"``,
        whose last-step view hides each sample's own last matrix."""
        self.network_.eval()
        out = []
        groups = self.mask_groups() if self._target == "masked" else []
        for start in range(0, len(stacks), self.batch_size):
            count = min(self.batch_size, len(stacks) - start)
            if self.mask_steps == "both" and groups:
                runs = self._batch(stacks, np.arange(start, start + count))
            else:
                runs = self._runs(stacks, [(start, count)])
            if groups:
                out.append(self._masked_residual(runs, groups).cpu().numpy())
                continue
            inputs, target = self._split_runs(runs)
            out.append(((self._net_runs(inputs, self.steps) - target) ** 2).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def _masked_residual(self, runs: torch.Tensor, groups: list[np.ndarray]) -> torch.Tensor:
        """Each entry's squared residual from the passes that hid it; with ``mask_steps="both"``
        the larger of the two views' (hidden in every step / in the last step only), each first
        divided by its view's typical residual (:attr:`view_scale_`) so that neither view's
        level drowns the other's."""
        views = [None] if self.mask_steps == "all" else [False, True]
        out = []
        for last in views:
            total = count = 0
            for hidden, squared in self._group_passes(runs, groups, last):
                total = total + squared * hidden
                count = count + hidden
            out.append(total / count)
        if len(out) == 1:
            return out[0]
        scale = torch.as_tensor(self.view_scale_, dtype=runs.dtype, device=runs.device)
        return torch.maximum(out[0] / scale[0], out[1] / scale[1])

    def _residual(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals and sample end times of a series, cached for score + explain."""
        key = hashlib.sha1(np.ascontiguousarray(series).tobytes()).hexdigest()
        if getattr(self, "_cache", None) is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        stacks, ends = self._samples(series)
        residual = self._residual_of(stacks)
        self._cache = (key, residual, ends)
        return residual, ends

    def _sample_scores(self, residual: np.ndarray) -> np.ndarray:
        return sample_scores(residual, self.score_mode, self.residual_scale_, self.theta)

    def _scale_parts(self, residual: np.ndarray) -> np.ndarray:
        return scale_parts(residual, self.score_mode, self.residual_scale_, self.theta)

    def _steps_of(self, parts: np.ndarray, ends: np.ndarray, n_steps: int) -> np.ndarray:
        """Per-scale sample shares ``[N, S, ...]`` → per-step values by ``step_scores``."""
        if self.step_scores == "sample":
            return samples_to_steps(parts.sum(axis=1), ends, self.gap, n_steps)
        return scale_windows_to_steps(parts, ends, self.windows, n_steps)

    def stream_refusal(self) -> str:
        return (
            "its samples are aligned to the end of the series (one per gap steps), so a step's "
            "score depends on where the series ends; score batches with `mstad score`"
        )

    def _steps(self, residual: np.ndarray, ends: np.ndarray, n_steps: int) -> np.ndarray:
        """Raw score per step from the samples' residuals (``score_mode``, ``step_scores``)."""
        if self.step_scores == "sample":  # the sample's score as it is (bit for bit as before)
            return samples_to_steps(self._sample_scores(residual), ends, self.gap, n_steps)
        if self.score_mode in SENSOR_MODES:  # each sensor's steps, then the largest sensor's
            how = SENSOR_MODES[self.score_mode]
            parts = sensor_parts(residual, how, self.residual_scale_, self.theta)
            return self._steps_of(parts, ends, n_steps).max(axis=1)
        return self._steps_of(self._scale_parts(residual), ends, n_steps)

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        residual, ends = self._residual(series)
        return self._steps(residual, ends, len(series))

    def scale_scores(self, series: np.ndarray) -> np.ndarray:
        """Per-scale counts of broken entries per time step, ``[T, S]`` (S = short/medium/long)."""
        residual, ends = self._residual(self._check_input(series))
        return samples_to_steps(scale_counts(residual, self.theta), ends, self.gap, len(series))

    def duration_class(self, series: np.ndarray, start: int, end: int) -> str:
        """The paper's duration class of the event at steps ``start..end`` (inclusive): the
        longest signature window on which the event's mean broken-entry count
        (:meth:`scale_scores`) exceeds that scale's largest validation count — a short anomaly
        breaks the short window's matrices only, a long one every scale's."""
        counts = self.scale_scores(series)[start : end + 1].mean(axis=0)
        flagged = np.flatnonzero(counts > self.validation_scale_scores_.max(axis=0))
        if not flagged.size:
            return "below every scale's validation maximum"
        names = {0: "short", len(self.windows) - 1: "long"}
        longest = int(flagged.max())
        return f"{names.get(longest, 'medium')} (window {self.windows[longest]})"

    def _heatmap(self, series: np.ndarray, t: int) -> np.ndarray:
        """Scale-S residual matrix ``[D, D]`` of the sample covering step ``t`` (0 in the rows
        and columns of sensors that are not inputs)."""
        stacks, ends = self._samples(series)
        covering = np.flatnonzero(ends > t)
        k = int(covering[np.argmin(ends[covering])]) if covering.size else len(ends) - 1
        out = np.zeros((self.n_sensors_, self.n_sensors_))
        out[np.ix_(self.columns_, self.columns_)] = self._residual_of(stacks[k : k + 1])[0, 0]
        return out

    def _explain(self, series: np.ndarray) -> np.ndarray:
        residual, ends = self._residual(series)
        parts = sensor_parts(residual, self.explain_mode, self.residual_scale_, self.theta)
        out = np.zeros((len(series), self.n_sensors_))
        out[:, self.columns_] = self._steps_of(parts, ends, len(series))  # [N, S, n] → [T, n]
        return out

    # ---- persistence --------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        return {
            "columns": self.columns_,
            "min": self.min_,
            "max": self.max_,
            "validation_scale_scores": self.validation_scale_scores_,
            "residual_scale": self.residual_scale_,
            "view_scale": self.view_scale_,
            "resolved_target": np.array([TARGETS.index(self._target)]),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.columns_ = state.get("columns", np.arange(self.n_sensors_))
        self.min_, self.max_ = state["min"], state["max"]
        self.validation_scale_scores_ = state["validation_scale_scores"]
        self.residual_scale_ = state["residual_scale"]
        self.view_scale_ = state.get("view_scale", np.ones(2))
        if "resolved_target" in state:
            self.target_ = TARGETS[int(state["resolved_target"][0])]
        self._cache = None

    def _save_extra(self, path: Path) -> None:
        with atomic_path(path / "network.pt") as tmp:
            torch.save(self.network_.state_dict(), tmp)

    def _load_extra(self, path: Path) -> None:
        self._build()
        state = torch.load(path / "network.pt", map_location=self.device_, weights_only=True)
        self.network_.load_state_dict(state)
        self.network_.eval()
