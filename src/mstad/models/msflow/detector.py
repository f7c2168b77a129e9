"""MSFlow for time series as a detector — native 1-D route: windows → multi-scale features →
parallel flows → fusion flow → negative log-likelihood per time step.

* Inputs: sensors standardised with training statistics only; windows of ``window`` steps at
  ``stride``; a frozen, seeded 1-D conv pyramid (:mod:`.extractor`) gives 3 scales whose channels
  are standardised with statistics of the training windows.
* Training: Adam, gradient norm clipped at 2 (as MSFlow), loss ``½‖z‖² − log|det J|`` logged per
  dimension; early stopping on the NLL of the validation tail of the training split, best weights
  restored — never a test metric.
* Score: per position ``½·mean_c z²`` per scale, upsampled to the window and summed over scales;
  overlapping windows averaged per step (:func:`window_maps_to_steps`). No per-window max
  normalisation (ALGORITHMS.md F11); per-entity calibration on validation scores as every
  detector.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from mstad.errors import ConfigError
from mstad.features.scaling import Standardizer
from mstad.features.windows import sliding_windows, window_maps_to_steps, window_starts
from mstad.models.base import Detector
from mstad.models.device import pick_device
from mstad.models.msflow.extractor import ConvPyramid1d
from mstad.models.msflow.flows import MultiScaleFlow, nll_per_dim, position_scores
from mstad.models.registry import register

ROUTES = ("native",)


@register
class MSFlow(Detector):
    name = "msflow"

    def __init__(
        self,
        route: str = "native",
        window: int = 64,
        stride: int = 16,
        widths: tuple[int, ...] = (32, 64, 64),
        blocks: tuple[int, ...] = (2, 2, 2),
        pos_channels: int = 16,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 1e-3,
        patience: int = 3,
        device: str = "auto",
        seed: int = 0,
    ):
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
        if len(widths) != len(blocks):
            raise ValueError(
                f"one block count per scale: {len(widths)} widths, {len(blocks)} blocks"
            )
        if window < 2 ** len(widths) or stride < 1 or stride > window:
            raise ValueError(f"window {window} must be >= {2 ** len(widths)} and stride 1..window")
        self.route = route
        self.window = window
        self.stride = stride
        self.widths = tuple(widths)
        self.blocks = tuple(blocks)
        self.pos_channels = pos_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.device = device
        self.seed = seed

    @property
    def min_steps(self) -> int:
        return self.window

    # ---- features -----------------------------------------------------------------------------
    def _build(self) -> None:
        torch.manual_seed(self.seed)
        self.device_ = pick_device(self.device)
        self.extractor_ = ConvPyramid1d(self.n_sensors_, self.widths, seed=self.seed)
        lengths = self.extractor_.lengths(self.window)
        shapes = [(c, n) for c, n in zip(self.extractor_.channels, lengths, strict=True)]
        saved = np.random.get_state()  # FrEIA draws its channel permutations from NumPy's RNG
        np.random.seed(self.seed)
        try:
            self.flow_ = MultiScaleFlow(shapes, list(self.blocks), self.pos_channels)
        finally:
            np.random.set_state(saved)
        self.extractor_.to(self.device_)
        self.flow_.to(self.device_)

    def _windows(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scaled = self.scaler_.transform(series).astype(np.float32)
        starts = window_starts(len(scaled), self.window, self.stride)
        return sliding_windows(scaled, self.window, self.stride), starts

    def _features(self, windows: np.ndarray, standardise: bool = True) -> list[torch.Tensor]:
        x = torch.from_numpy(np.ascontiguousarray(windows.transpose(0, 2, 1))).to(self.device_)
        features = self.extractor_(x)
        if not standardise:
            return features
        if getattr(self, "_stats", None) is None:  # tensors of feat_stats_ on the device, once
            self._stats = [
                (torch.from_numpy(m).to(self.device_), torch.from_numpy(sd).to(self.device_))
                for m, sd in self.feat_stats_
            ]
        return [(f - m) / sd for f, (m, sd) in zip(features, self._stats, strict=True)]

    def _fit_feature_stats(self, windows: np.ndarray) -> None:
        """Per-channel mean and std of each scale's features over the training windows."""
        sums = None
        for start in range(0, len(windows), 256):
            moments = [
                (
                    f.sum(dim=(0, 2)).double(),
                    (f.double() ** 2).sum(dim=(0, 2)),
                    f.shape[0] * f.shape[2],
                )
                for f in self._features(windows[start : start + 256], standardise=False)
            ]
            sums = (
                moments
                if sums is None
                else [
                    (a + c, b + d, n + m)
                    for (a, b, n), (c, d, m) in zip(sums, moments, strict=True)
                ]
            )
        self.feat_stats_ = []
        for total, squares, count in sums:
            mean = total / count
            std = torch.sqrt(torch.clamp(squares / count - mean**2, min=0)) + 1e-6
            self.feat_stats_.append(
                (
                    mean.float().cpu().numpy()[None, :, None],
                    std.float().cpu().numpy()[None, :, None],
                )
            )
        self._stats = None

    # ---- training -----------------------------------------------------------------------------
    def _mean_nll(self, windows: np.ndarray) -> float:
        self.flow_.eval()
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(windows), self.batch_size):
                z, log_det = self.flow_(self._features(windows[start : start + self.batch_size]))
                total += nll_per_dim(z, log_det).sum().item()
        return total / len(windows)

    def _fit_with_validation(self, train: np.ndarray, head: int | None):
        self.scaler_ = Standardizer().fit(train if head is None else train[:head])
        self._build()
        fit_windows, _ = self._windows(train if head is None else train[:head])
        val_windows = self._windows(train[head:])[0] if head is not None else fit_windows[:0]
        self._fit_feature_stats(fit_windows)
        generator = np.random.default_rng(self.seed)
        optimiser = torch.optim.Adam(self.flow_.parameters(), lr=self.lr)
        best, best_loss, waited = None, np.inf, 0
        self.history_ = []
        for epoch in range(self.epochs):
            self.flow_.train()
            train_loss = 0.0
            for index in np.array_split(
                generator.permutation(len(fit_windows)), max(1, len(fit_windows) // self.batch_size)
            ):
                optimiser.zero_grad()
                z, log_det = self.flow_(self._features(fit_windows[np.sort(index)]))
                loss = nll_per_dim(z, log_det).mean()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.flow_.parameters(), 2.0)
                optimiser.step()
                train_loss += loss.item() * len(index)
            val_loss = self._mean_nll(val_windows) if len(val_windows) else float("nan")
            self.history_.append(
                {
                    "epoch": epoch + 1,
                    "train_nll": train_loss / len(fit_windows),
                    "val_nll": val_loss,
                }
            )
            if not np.isfinite(train_loss):
                raise ConfigError("msflow: training diverged (NaN loss); lower lr")
            if len(val_windows):
                if val_loss < best_loss:
                    best, best_loss, waited = copy.deepcopy(self.flow_.state_dict()), val_loss, 0
                else:
                    waited += 1
                    if waited >= self.patience:
                        break
        if best is not None:
            self.flow_.load_state_dict(best)
        self.flow_.eval()
        if head is None:
            return self._raw_score(train), "train"
        return self._raw_score(train[head:]), "validation"

    # ---- scoring ------------------------------------------------------------------------------
    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        windows, starts = self._windows(series)
        self.flow_.eval()
        maps = []
        with torch.no_grad():
            for start in range(0, len(windows), 256):
                z, _ = self.flow_(self._features(windows[start : start + 256]))
                maps.append(position_scores(z, self.window).cpu().numpy())
        return window_maps_to_steps(np.concatenate(maps), starts, len(series))

    # ---- persistence --------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        state = dict(self.scaler_.state())
        for k, (mean, std) in enumerate(self.feat_stats_):
            state[f"feat_mean_{k}"], state[f"feat_std_{k}"] = mean, std
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scaler_ = Standardizer.from_state(state)
        n = len(self.widths)
        self.feat_stats_ = [(state[f"feat_mean_{k}"], state[f"feat_std_{k}"]) for k in range(n)]
        self._stats = None

    def _save_extra(self, path: Path) -> None:
        torch.save(self.flow_.state_dict(), path / "flow.pt")

    def _load_extra(self, path: Path) -> None:
        self._build()
        state = torch.load(path / "flow.pt", map_location=self.device_, weights_only=True)
        self.flow_.load_state_dict(state)
        self.flow_.eval()
