"""MSFlow for time series as a detector: windows → multi-scale features → parallel flows →
fusion flow → negative log-likelihood per time step. Two routes:

* ``route="native"`` (default): a frozen, seeded 1-D conv pyramid over a window of all sensors
  (:mod:`.extractor`) gives 3 scales of ``[C, L/2^k]`` features; ``kernel`` and ``dilations``
  (one per level) set how far each level reaches (7 / 19 / 43 steps at kernel 5 undilated,
  7 / 27 / 64 with dilations 1 / 2 / 4: ``benchmarks/results/speed_log.md`` §20).
* ``route="image"``: each window becomes a pseudo-image (``encoder``: resize, strip, gaf, gadf,
  mtf, signature — :mod:`mstad.features.images`), a frozen ResNet (``backbone``: resnet18 or
  wide_resnet50_2, weights from a local torchvision file or random) gives 3 scales of 2-D maps
  (:mod:`.image_features`). ``window=0`` takes each series whole as one image (the seed's
  protocol, ``configs/msflow_seed.yaml``).

Shared by both: ``inputs="continuous"`` (default) drops sensors that are 0/1 flags in training
(NASA's command dims 1–24; :mod:`mstad.features.columns`); ``reference="train+past"`` (default)
scores a series block by block (``adapt_every`` steps) with a copy of the flow fine-tuned for
``adapt_epochs`` epochs on a replay set of ``replay`` windows — the most recent windows of the
series that ended before the block (at most half) and a fixed sample of the training windows —
an online monitor that learns from what it has already seen, so a new operating level alarms
where it starts instead of for the rest of the series (``"train"``: the fitted flow alone;
``"both"``: both views, each calibrated on its own validation scores and their surprises
averaged — a change that persists keeps the fitted flow's half of its alarm; as ``discord``'s
``reference="both"``, ``benchmarks/results/calibration_log.md`` §11).
Every block costs the same, so scoring is linear in the series' length (``replay=None``: every
training and past window, quadratic). Before each block the features are re-standardised with
the statistics of every training + past window (``adapt_scaling``): without it a shift of
hundreds of training standard deviations — common in telemetry whose training split hardly
moves — stays astronomically unlikely however long the flow is fine-tuned, and the rest of the
series alarms. An entity whose every input is constant in training is never fine-tuned (the
fitted flow alone scores it: a flow fine-tuned on one value drifts, see ``_adapts``).
``adapt_from="previous"``: each block's fine-tuning continues from the previous block's flow
(``"fitted"``: restarts from the fitted one). ``flows=K`` trains ``K`` flows from seeds
``seed, seed+1, …`` (each its own initialisation, batches, replay sample and early stopping)
and averages their per-step NLL: one flow's figures move by up to 0.29 AUROC with its seed
(``benchmarks/results/speed_log.md`` §11), an average of flows moves less. All were chosen
without test labels (``benchmarks/results/msflow_log.md``; the replay set and one epoch per block:
``benchmarks/results/speed_log.md``). Sensors standardised with training statistics only;
feature channels standardised with statistics of the training windows — a channel that does
not vary there (a sensor constant in training) gets the spread it has on unit-variance noise
(:data:`FLAT_FEATURE`), so a departure from a training constant counts one input unit as one
standard deviation, as everywhere in mstad, instead of being divided by ~0 (and where every
input is constant, the flat validation scores' calibration is floored at the rise a move of a
tenth of a unit causes: ``_flat_floor``); Adam, gradient norm
clipped at 2 (as MSFlow), loss ``½‖z‖² − log|det J|`` logged per dimension; early stopping on
the NLL of the validation tail of the training split, best weights restored — never a test
metric; at most ``epochs=60`` epochs with ``patience=10`` (since MSFlow round 9,
``speed_log.md`` §16: at the earlier 20 / 3 the flow was still learning when the budget ended,
and the longer budget was ahead or level on every selection set, worst shortfall 0.009 against
0.040). Score: per position ``½·mean_c z²`` per scale, upsampled and summed over scales, mapped
to the window's steps, overlapping windows averaged per step (:func:`window_maps_to_steps`). No
per-window max normalisation (ALGORITHMS.md F11); per-entity calibration on validation scores
as every detector.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from mstad.atomic import atomic_path
from mstad.features.columns import INPUTS, input_columns
from mstad.features.images import ENCODERS, map_to_window
from mstad.features.scaling import Standardizer
from mstad.features.windows import sliding_windows, window_maps_to_steps, window_starts
from mstad.models.base import Detector
from mstad.models.calibration import BASELINES, SURPRISE_FLOOR, Calibration, remove_baseline
from mstad.models.device import TRAINING_SPECS, pick_device
from mstad.models.msflow.backbone import ARCHITECTURES
from mstad.models.msflow.extractor import ConvPyramid1d, too_short
from mstad.models.msflow.flows import MultiScaleFlow, nll_per_dim, position_scores, scale_maps
from mstad.models.msflow.image_features import ImageFeatures
from mstad.models.registry import register
from mstad.models.streaming import StreamContext
from mstad.models.training import train_with_early_stopping
from mstad.params import spec
from mstad.progress import report

ROUTES = ("native", "image")
#: where each block's fine-tuning starts: the fitted flow, or the previous block's flow
ADAPT_FROM = ("fitted", "previous")
#: a feature channel whose training spread is below this share of its spread on unit-variance
#: noise does not vary (float32 features of a constant input): it gets the noise's spread
FLAT_FEATURE = 1e-4
#: windows of seeded unit-variance noise that measure each feature channel's unit spread
NOISE_WINDOWS = 256
#: where every input is constant in training, a move of this many units sets the calibration's
#: smallest tail scale (``MSFlow._flat_floor``; ``discord``'s floor is a tenth of a unit too)
FLAT_MOVE = 0.1
#: which past windows a bounded replay set holds: the most recent, or a uniform sample of all
REPLAY_PAST = ("recent", "sample")


@register
class MSFlow(Detector):
    name = "msflow"

    param_specs = {
        **TRAINING_SPECS,
        "route": spec(choices=ROUTES),
        "window": spec(ge=0),
        "stride": spec(ge=1),
        "widths": spec(min_length=1, item_ge=1),
        "kernel": spec(ge=1),
        "dilations": spec(min_length=3, max_length=3, item_ge=1),
        "encoder": spec(choices=ENCODERS),
        "image_size": spec(ge=16),
        "backbone": spec(choices=tuple(ARCHITECTURES)),
        "dims": spec(min_length=1, item_ge=0),
        "inputs": spec(choices=INPUTS),
        "baseline": spec(choices=BASELINES),
        "reference": spec(choices=("train", "train+past", "both")),
        "adapt_every": spec(ge=1),
        "adapt_epochs": spec(ge=1),
        "adapt_from": spec(choices=ADAPT_FROM),
        "replay": spec(ge=2),
        "replay_past": spec(choices=REPLAY_PAST),
        "blocks": spec(min_length=3, max_length=3, item_ge=1),
        "pos_channels": spec(ge=2),
        "flows": spec(ge=1),
    }

    # folders saved before a parameter existed load with the value they were fitted with
    params_before_added = {"kernel": 5, "dilations": (1, 1, 1)}

    state_shapes = {
        "columns": ("C",),
        "scaler_mean": ("C",),
        "scaler_std": ("C",),
        "reference_windows?": (None, None, "C"),
        "view_calibrations?": (2, None),
    }
    state_nonfinite = ("view_calibrations",)  # NaN-padded knots

    def __init__(
        self,
        route: str = "native",
        window: int = 64,
        stride: int = 16,
        widths: tuple[int, ...] = (32, 64, 64),
        kernel: int = 5,
        dilations: tuple[int, ...] = (1, 2, 4),
        encoder: str = "strip",
        image_size: int = 64,
        backbone: str = "resnet18",
        backbone_weights: str | None = None,
        dims: tuple[int, ...] = (0, 1, 2),
        inputs: str = "continuous",
        baseline: str = "none",
        reference: str = "train+past",
        adapt_every: int = 250,
        adapt_epochs: int = 1,
        adapt_from: str = "previous",
        adapt_scaling: bool = True,
        replay: int | None = 256,
        replay_past: str = "recent",
        blocks: tuple[int, ...] = (2, 2, 2),
        pos_channels: int = 16,
        flows: int = 1,
        epochs: int = 60,
        batch_size: int = 32,
        lr: float = 1e-3,
        patience: int = 10,
        device: str = "auto",
        seed: int = 0,
    ):
        if len(blocks) != 3 or (route == "native" and len(widths) != 3):
            raise ValueError("one block count and one width per scale: 3 scales")
        if route == "native" and (window < 8 or not 1 <= stride <= window):
            raise ValueError(f"window {window} must be >= 8 and stride 1..window")
        if route == "image" and window != 0 and not 1 <= stride <= window:
            raise ValueError(f"stride {stride} must be 1..window (window 0 = whole series)")
        if kernel % 2 == 0:
            raise ValueError(f"kernel {kernel} must be odd (a centred filter keeps the length)")
        if route == "native" and window:
            _check_reach(window, kernel, dilations)
        self.route = route
        self.window = window
        self.stride = stride
        self.widths = tuple(widths)
        self.kernel = kernel
        self.dilations = tuple(dilations)
        self.encoder = encoder
        self.image_size = image_size
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.dims = tuple(dims)
        self.inputs = inputs
        self.baseline = baseline
        self.reference = reference
        self.adapt_every = adapt_every
        self.adapt_epochs = adapt_epochs
        self.adapt_from = adapt_from
        self.adapt_scaling = adapt_scaling
        self.replay = replay
        self.replay_past = replay_past
        self.blocks = tuple(blocks)
        self.pos_channels = pos_channels
        self.flows = flows
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.device = device
        self.seed = seed
        # with both views the raw score is a mean of surprises already: never stretch it
        self.score_floor = SURPRISE_FLOOR if reference == "both" else 0.0

    @property
    def min_steps(self) -> int:
        return max(self.window, 8)

    @property
    def _online(self) -> bool:
        """Whether scoring fine-tunes on the series' past (``"train+past"`` or ``"both"``)."""
        return self.reference != "train"

    # ---- features -----------------------------------------------------------------------------
    def _build(self, fit_windows: np.ndarray | None = None) -> None:
        torch.manual_seed(self.seed)
        self.device_ = pick_device(self.device)
        if self.route == "native":
            self.extractor_ = ConvPyramid1d(
                len(self.columns_), self.widths, self.kernel, self.seed, self.dilations
            )
        else:
            self.extractor_ = ImageFeatures(
                self.encoder,
                self.image_size,
                self.backbone,
                self.dims,
                self.backbone_weights,
                self.seed,
            )
            self.extractor_.bins = getattr(self, "bins_", None)
        if fit_windows is not None:
            self.extractor_.fit(fit_windows)
            self.bins_ = getattr(self.extractor_, "bins", None)
        self.extractor_.to(self.device_)
        shapes = self.extractor_.shapes(len(self.columns_), self.window or self.min_steps)
        saved = np.random.get_state()  # FrEIA draws its channel permutations from NumPy's RNG
        self.flows_ = []
        try:
            for k in range(self.flows):  # flow k from seed + k (the first as before flows=K)
                if k:
                    torch.manual_seed(self.seed + k)
                np.random.seed(self.seed + k)
                flow = MultiScaleFlow(shapes, list(self.blocks), self.pos_channels)
                self.flows_.append(flow.to(self.device_))
        finally:
            np.random.set_state(saved)

    def _windows(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scaled = self.scaler_.transform(series[:, self.columns_]).astype(np.float32)
        if self.window == 0:  # the whole series is one window
            return scaled[None], np.zeros(1, dtype=int)
        starts = window_starts(len(scaled), self.window, self.stride)
        return sliding_windows(scaled, self.window, self.stride), starts

    def _features(self, windows: np.ndarray, standardise: bool = True) -> list[torch.Tensor]:
        features = self.extractor_(windows)
        if not standardise:
            return features
        return _standardised(features, self._stats_on_device())

    def _unit_spread(self, windows: np.ndarray) -> list[torch.Tensor] | None:
        """Each feature channel's standard deviation over windows of seeded unit-variance noise
        (one standardised input unit per sensor): the floor of a channel that does not vary in
        the training ``windows``. Deterministic (frozen extractor, fixed seed), so computed when
        first needed; None — nothing to floor — where every input varies, and for ``window=0``
        (one window per series)."""
        if not self.window or not _flat_inputs(windows).any():
            return None
        if getattr(self, "_unit", None) is None:
            rng = np.random.default_rng(self.seed)
            shape = (NOISE_WINDOWS, self.window, len(self.columns_))
            noise = self._feature_cache(rng.standard_normal(shape).astype(np.float32), False)
            self._unit = [std for _, std in _Moments(noise).stats()]
        return self._unit

    def _stats_on_device(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if getattr(self, "_stats", None) is None:  # tensors of feat_stats_ on the device, once
            self._stats = [
                (torch.from_numpy(m).to(self.device_), torch.from_numpy(sd).to(self.device_))
                for m, sd in self.feat_stats_
            ]
        return self._stats

    # ---- training -----------------------------------------------------------------------------
    def _feature_cache(self, windows: np.ndarray, standardise: bool = True) -> list[torch.Tensor]:
        """Features of all windows, computed once: the extractor is frozen, so every epoch
        would recompute the same tensors (the image route's backbone dominates)."""
        chunks = [
            self._features(windows[s : s + 64], standardise) for s in range(0, len(windows), 64)
        ]
        return [torch.cat(parts) for parts in zip(*chunks, strict=True)] if chunks else []

    def _mean_nll(self, flow, features: list[torch.Tensor]) -> float:
        flow.eval()
        total, n = 0.0, len(features[0])
        with torch.no_grad():
            for start in range(0, n, self.batch_size):
                z, log_det = flow([f[start : start + self.batch_size] for f in features])
                total += nll_per_dim(z, log_det).sum().item()
        return total / n

    def _fit_with_validation(self, train: np.ndarray, head: int | None):
        fit_part = train if head is None else train[:head]
        self.columns_ = input_columns(fit_part, self.inputs, self.flags_)
        self.scaler_ = Standardizer().fit(fit_part[:, self.columns_])
        fit_windows, _ = self._windows(fit_part)
        self._build(fit_windows)
        self._unit = None  # the extractor's unit spreads: measured again for this one
        raw = self._feature_cache(fit_windows, standardise=False)
        # per-channel mean and std of each scale's features over the training windows
        stats = _Moments(raw).stats(self._unit_spread(fit_windows))
        self.feat_stats_ = [tuple(t.cpu().numpy() for t in pair) for pair in stats]
        self._stats = None
        fit_features = _standardised(raw, self._stats_on_device())
        val_features = self._feature_cache(self._windows(train[head:])[0]) if head else []
        self.reference_windows_ = fit_windows if self._online else None
        self._adapts_ = None
        histories = []
        for k, flow in enumerate(self.flows_):
            generator = np.random.default_rng(self.seed + k)
            optimiser = torch.optim.Adam(flow.parameters(), lr=self.lr)
            histories.append(
                train_with_early_stopping(
                    flow,
                    "msflow" if self.flows == 1 else f"msflow (flow {k + 1} of {self.flows})",
                    self.epochs,
                    self.patience,
                    lambda f=flow, o=optimiser, g=generator: self._train_epoch(
                        f, o, fit_features, g
                    ),
                    (lambda f=flow: self._mean_nll(f, val_features)) if val_features else None,
                )
            )
        self.history_ = _merged_history(histories)
        held_out, fitted_on = (train, "train") if head is None else (train[head:], "validation")
        views = self._view_scores(held_out)
        flat = self._flat_floor(fit_part, fit_windows)
        if self.reference == "both":  # each view calibrated on its own held-out scores
            self.view_calibrations_ = [Calibration.fit(v, fitted_on, flat) for v in views]
        else:
            self.score_floor = flat  # the entity's calibration's (0 unless every input is flat)
        return self._combined(views), fitted_on

    def _flat_floor(self, fit_part: np.ndarray, fit_windows: np.ndarray) -> float:
        """The smallest tail scale of a view's calibration, in its raw unit: 0 where any input
        varies in training; where none does, every validation score is the same value, and the
        calibration's relative floor (10⁻⁶ of it) made a move of a thousandth of a unit (NASA
        telemetry at 0.999 in training, 1.0 in test) a surprise of 7 decades. There the score's
        rise when every input moves by a tenth of a unit (of a training standard deviation, or
        of a raw unit for a constant sensor: ``Standardizer``) — as ``discord`` floors its
        distances at a tenth of a training unit (``benchmarks/results/speed_log.md`` §19)."""
        if not _flat_inputs(fit_windows).all():
            return 0.0
        rows = np.array(fit_part[: max(self.min_steps, 2 * self.window)], dtype=np.float64)
        moved = rows.copy()
        moved[:, self.columns_] += FLAT_MOVE * self.scaler_.std
        rises = [
            float(np.median(m) - np.median(b))
            for m, b in zip(self._view_scores(moved), self._view_scores(rows), strict=True)
        ]
        return max(max(rises), 0.0)

    def _train_epoch(self, flow, optimiser, features: list[torch.Tensor], generator) -> float:
        """One epoch of the NLL loss over ``features`` in seeded random batches; mean loss."""
        flow.train()
        n, total = len(features[0]), 0.0
        for index in np.array_split(generator.permutation(n), max(1, n // self.batch_size)):
            optimiser.zero_grad()
            picked = torch.from_numpy(np.sort(index)).to(self.device_)
            z, log_det = flow([f[picked] for f in features])
            loss = nll_per_dim(z, log_det).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(flow.parameters(), 2.0)
            optimiser.step()
            total += loss.item() * len(index)
        flow.eval()
        return total / n

    # ---- scoring ------------------------------------------------------------------------------
    def _position_maps(self, z: list[torch.Tensor], length: int) -> torch.Tensor:
        """Per-step NLL map ``[N, L]`` of each window from its latent codes."""
        if self.route == "native":
            return position_scores(z, length)
        return map_to_window(position_scores(z, self.image_size), self.encoder, length)

    def _window_maps(self, windows: np.ndarray) -> torch.Tensor:
        """Per-step NLL map ``[N, L]`` of each window under the fitted flows (their mean)."""
        maps = []
        with torch.no_grad():
            for start in range(0, len(windows), 64):
                features = self._features(windows[start : start + 64])
                maps.append(
                    torch.stack(
                        [self._position_maps(f(features)[0], windows.shape[1]) for f in self.flows_]
                    ).mean(0)
                )
        return torch.cat(maps)

    def _adapted_maps(self, windows: np.ndarray, starts: np.ndarray) -> torch.Tensor:
        """``reference="train+past"``: windows are scored block by block (``adapt_every`` steps);
        before each block the flow is fine-tuned for ``adapt_epochs`` epochs on a replay set —
        what an online monitor learns from data it has already seen. With ``replay=None`` that
        set is every training window plus every window of the series that ended before the
        block (each block costs more than the last: quadratic in the series' length); with
        ``replay=R`` it is at most ``R`` windows, the most recent past ones (at most half) and
        the rest a fixed seeded sample of the training windows, so every block costs the same
        and scoring is linear. The feature statistics (``adapt_scaling``) are those of every
        training and past window either way, kept as running sums. With several flows each is
        fine-tuned on its own (seed ``seed + k``) and their maps averaged. The fitted flows
        never change, so scoring the same series twice gives the same scores."""
        # the extractor is frozen: raw features once per series, standardised per block
        reference = self._feature_cache(self.reference_windows_, standardise=False)
        raw = self._feature_cache(windows, standardise=False)
        maps = [
            self._adapted_flow_maps(k, reference, raw, windows.shape[1], starts)
            for k in range(self.flows)
        ]
        return torch.stack(maps).mean(0)

    def _adapted_flow_maps(
        self, k: int, reference: list[torch.Tensor], raw: list[torch.Tensor], length: int, starts
    ) -> torch.Tensor:
        """The online maps of fitted flow ``k`` (see :meth:`_adapted_maps`)."""
        fitted = flow = self.flows_[k]
        generator = np.random.default_rng(self.seed + k)
        sums = _Moments(reference) if self.adapt_scaling else None
        unit = self._unit_spread(self.reference_windows_) if sums is not None else None
        stats = self._stats_on_device()  # the training windows'
        n_train = len(reference[0])
        if self.replay is None:
            train_pick = torch.arange(n_train)
        else:  # fixed for the series: a seeded sample of the training windows
            order = np.random.default_rng(self.seed + k).permutation(n_train)
            train_pick = torch.from_numpy(np.sort(order[: self.replay]))
        maps, used = [], 0
        blocks = range(0, int(starts[-1]) + 1, self.adapt_every)
        for b, lo in enumerate(blocks):
            report("msflow: scoring block", k * len(blocks) + b + 1, self.flows * len(blocks))
            block = np.flatnonzero((starts >= lo) & (starts < lo + self.adapt_every))
            if block.size == 0:
                continue
            ended = int(np.searchsorted(starts + length, lo, side="right"))  # end <= lo
            if ended > used:  # new past windows: learn them with (a sample of) the training ones
                if sums is not None:  # what is "far" is measured on train + past
                    sums.add([f[used:ended] for f in raw])
                    stats = sums.stats(unit)
                past = self._replay_past(ended, generator)
                n_from_train = n_train if self.replay is None else self.replay - len(past)
                known = [
                    torch.cat([r[train_pick[:n_from_train]], f[past]])
                    for r, f in zip(reference, raw, strict=True)
                ]
                known = _standardised(known, stats)
                if self.adapt_from == "fitted" or flow is fitted:
                    flow = copy.deepcopy(fitted)
                    optimiser = torch.optim.Adam(flow.parameters(), lr=self.lr)
                for _ in range(self.adapt_epochs):
                    self._train_epoch(flow, optimiser, known, generator)
                used = ended
            picked = torch.from_numpy(block).to(self.device_)
            with torch.no_grad():
                for part in torch.split(picked, 64):
                    z, _ = flow(_standardised([f[part] for f in raw], stats))
                    maps.append(self._position_maps(z, length))
        return torch.cat(maps)

    def _replay_past(self, ended: int, generator: np.random.Generator) -> torch.Tensor:
        """Indices of the past windows (of the ``ended`` so far) a block fine-tunes on: all
        (``replay=None``), else at most half the replay set — the most recent ones
        (``replay_past="recent"``) or a fresh seeded uniform sample of all of them
        (``"sample"``: old modes are not forgotten)."""
        if self.replay is None or ended <= self.replay // 2:
            return torch.arange(ended)
        if self.replay_past == "recent":
            return torch.arange(ended - self.replay // 2, ended)
        return torch.from_numpy(np.sort(generator.choice(ended, self.replay // 2, replace=False)))

    @property
    def _adapts(self) -> bool:
        """Whether the online view fine-tunes: not when every input column is constant in the
        training windows. A flow cannot hold a density on a single value — trained on one, it
        shrinks that direction without end — and fine-tuning it block after block on the same
        constant moves its score of that constant by more than the validation tail ever
        varied: normal test steps identical to training scored 4–9 on NASA-shaped channels
        whose telemetry never moved in training (``benchmarks/results/speed_log.md`` §17).
        The fitted flow alone scores such an entity (both views, where ``reference="both"``,
        are then that one view): data identical to training score exactly as the validation
        tail did, and any departure from the constant stays far out."""
        if not self._online:
            return False
        if getattr(self, "_adapts_", None) is None:
            windows = self.reference_windows_
            self._adapts_ = not _flat_inputs(windows).all()
        return self._adapts_

    def _view_scores(self, series: np.ndarray) -> list[np.ndarray]:
        """Per-step NLL of ``series`` under each view the ``reference`` uses: the online flows
        (fine-tuned on the past; the fitted flows where there is nothing to adapt to, see
        :attr:`_adapts`), the fitted flows, or both (in that order)."""
        windows, starts = self._windows(series)
        for flow in self.flows_:
            flow.eval()
        need_fitted = not self._adapts or self.reference == "both"
        fitted = self._window_maps(windows) if need_fitted else None
        maps = []
        if self._online:
            maps.append(self._adapted_maps(windows, starts) if self._adapts else fitted)
        if self.reference != "train+past":
            maps.append(fitted if fitted is not None else self._window_maps(windows))
        return [window_maps_to_steps(m.cpu().numpy(), starts, len(series)) for m in maps]

    def _combined(self, views: list[np.ndarray]) -> np.ndarray:
        """One raw score from the views: the view itself, or the mean of both views' surprises
        under their own validation calibrations; then the ``baseline``."""
        if self.reference == "both":
            calibrations = self.view_calibrations_
            scores = np.mean([c.apply(v) for c, v in zip(calibrations, views, strict=True)], 0)
        else:
            scores = views[0]
        return remove_baseline(scores, self.baseline)

    def _raw_score(self, series: np.ndarray) -> np.ndarray:
        return self._combined(self._view_scores(series))

    def stream_context(self) -> StreamContext | None:
        if self.reference != "train" or self.window == 0 or self.baseline != "none":
            return None
        # windows at stride from the series start; the extra last window ends at the series end
        return StreamContext(self.window - 1, self.window, align=self.stride)

    def stream_refusal(self) -> str:
        if self.window == 0:
            return "window=0 scores each series whole; score batches with `mstad score`"
        if self.baseline != "none":
            return "baseline='past_median' reads every earlier score; stream with baseline='none'"
        return (
            f"reference='{self.reference}' fine-tunes on the series' earlier windows block by "
            "block; fit with -p reference=train to stream, or score batches with `mstad score`"
        )

    heatmap_unit = "−log-likelihood"

    @property
    def heatmap_kind(self) -> str:
        if self.route == "image":
            return f"−log-likelihood per pixel ({self.encoder} image of the window around t)"
        return "−log-likelihood per scale (rows) and step (columns) of the window around t"

    def _heatmap(self, series: np.ndarray, t: int) -> np.ndarray:
        """The score map of the window whose middle is nearest ``t`` among those covering it
        (the mean over the fitted flows)."""
        windows, starts = self._windows(series)
        length = windows.shape[1]
        covering = np.flatnonzero((starts <= t) & (t < starts + length))
        k = int(covering[np.argmin(np.abs(starts[covering] + length / 2 - t))])
        maps = []
        with torch.no_grad():
            features = self._features(windows[k : k + 1])
            for flow in self.flows_:
                z, _ = flow(features)
                if self.route == "image":
                    maps.append(position_scores(z, self.image_size)[0])
                else:
                    maps.append(scale_maps(z, length)[0])
        return torch.stack(maps).mean(0).cpu().numpy()

    # ---- persistence --------------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        state = dict(self.scaler_.state())
        state["columns"] = self.columns_
        if self._online:
            state["reference_windows"] = self.reference_windows_
        if self.reference == "both":
            state["view_calibrations"] = np.stack([c.to_array() for c in self.view_calibrations_])
        for k, (mean, std) in enumerate(self.feat_stats_):
            state[f"feat_mean_{k}"], state[f"feat_std_{k}"] = mean, std
        if getattr(self, "bins_", None) is not None:
            state["mtf_bins"] = self.bins_
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scaler_ = Standardizer.from_state(state)
        self.columns_ = state["columns"]
        self.reference_windows_ = state.get("reference_windows")
        self._adapts_ = None
        if "view_calibrations" in state:
            self.view_calibrations_ = [
                Calibration.from_array(a) for a in state["view_calibrations"]
            ]
        self.feat_stats_ = [(state[f"feat_mean_{k}"], state[f"feat_std_{k}"]) for k in range(3)]
        self.bins_ = state.get("mtf_bins")
        self._stats = self._unit = None

    def _save_extra(self, path: Path) -> None:
        for k, flow in enumerate(self.flows_):
            with atomic_path(path / _flow_file(k)) as tmp:
                torch.save(flow.state_dict(), tmp)

    def _load_extra(self, path: Path) -> None:
        self._build()
        for k, flow in enumerate(self.flows_):
            state = torch.load(path / _flow_file(k), map_location=self.device_, weights_only=True)
            flow.load_state_dict(state)
            flow.eval()


def _check_reach(window: int, kernel: int, dilations: tuple[int, ...]) -> None:
    """Refuse a window too short for the pyramid's dilated filters, naming one that fits."""
    found = too_short(window, kernel, dilations)
    if found is None:
        return
    level, length = found
    shortest = next(w for w in range(window, 1 << 20) if too_short(w, kernel, dilations) is None)
    raise ValueError(
        f"kernel {kernel} with dilation {dilations[level]} reaches past a level-{level + 1} "
        f"input of {length} steps; use window >= {shortest} or smaller dilations "
        f"(e.g. dilations=[1, 1, 1])"
    )


def _flow_file(k: int) -> str:
    """The weights file of flow ``k`` (the first keeps the name of single-flow models)."""
    return "flow.pt" if k == 0 else f"flow_{k + 1}.pt"


def _merged_history(histories: list[list[dict]]) -> list[dict]:
    """One row per epoch: the first flow's keys as they are, flow ``k``'s suffixed
    ``" (flow k)"``; an epoch a flow did not reach (it stopped early) is NaN for it."""
    if len(histories) == 1:
        return histories[0]
    rows = []
    for epoch in range(max(len(h) for h in histories)):
        row = {"epoch": epoch + 1}
        for k, history in enumerate(histories):
            suffix = "" if k == 0 else f" (flow {k + 1})"
            for key in ("train_loss", "val_loss", "seconds"):
                value = history[epoch][key] if epoch < len(history) else float("nan")
                row[key + suffix] = value
        rows.append(row)
    return rows


def _flat_inputs(windows: np.ndarray) -> np.ndarray:
    """Which input columns of the training ``windows [N, L, C]`` never move."""
    return np.ptp(windows, axis=(0, 1)) == 0


class _Moments:
    """Running per-channel sums of each scale's features ``[N, C, ...]`` (float64): the mean and
    std of every window added so far, as the moments of all of them at once."""

    def __init__(self, features: list[torch.Tensor]):
        self.n = [0] * len(features)
        self.s1 = [torch.zeros(f.shape[1], dtype=torch.float64, device=f.device) for f in features]
        self.s2 = [torch.zeros(f.shape[1], dtype=torch.float64, device=f.device) for f in features]
        self.add(features)

    def add(self, features: list[torch.Tensor]) -> None:
        for k, f in enumerate(features):
            axes = (0, *range(2, f.dim()))
            f = f.double()
            self.n[k] += f.numel() // f.shape[1]
            self.s1[k] += f.sum(dim=axes)
            self.s2[k] += (f**2).sum(dim=axes)

    def stats(
        self, unit: list[torch.Tensor] | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per-channel ``(mean, std + 1e-6)``; with ``unit`` (each channel's spread on
        unit-variance noise) a channel below :data:`FLAT_FEATURE` of its unit gets the unit."""
        out = []
        for k, (n, s1, s2) in enumerate(zip(self.n, self.s1, self.s2, strict=True)):
            mean = s1 / n
            std = torch.sqrt(torch.clamp(s2 / n - mean**2, min=0))
            if unit is not None:
                floor = unit[k].to(std)
                std = torch.where(std < FLAT_FEATURE * floor, floor - 1e-6, std)
            out.append((mean.float(), (std + 1e-6).float()))
        return out


def _standardised(features: list[torch.Tensor], stats) -> list[torch.Tensor]:
    """Each scale's features ``[N, C, ...]`` minus the channel mean, over the channel std."""
    out = []
    for f, (mean, std) in zip(features, stats, strict=True):
        shape = (1, -1) + (1,) * (f.dim() - 2)
        out.append((f - mean.reshape(shape)) / std.reshape(shape))
    return out
