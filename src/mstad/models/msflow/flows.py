"""Normalizing flows of MSFlow: parallel per-scale flows (FrEIA) and one fusion coupling.

* **Parallel flows** — FrEIA 0.2 ``SequenceINN`` of ``AllInOneBlock`` s declared with their *true*
  shapes (``(C, L)`` for 1-D features, ``(C, H, W)`` for images; the MSFlow code declares
  ``(C, 1, 1)`` and breaks on newer FrEIA, ALGORITHMS.md F1), affine clamp 1.9, softplus
  global scale, conditioned on a sin/cos positional encoding of the position.
* **Fusion coupling** — each scale is split in halves ``(a, b)``; a subnet that sees the ``a``
  halves of *all* scales (pooled to the coarsest grid, concatenated, then interpolated back)
  gives scale and shift for every ``b``; then the roles swap. Soft clamp
  ``exp(1.9·(2/π)·atan(s/1.9))`` as in MSFlow. Exactly invertible; log-determinant summed.
* **Loss** — ``Σ_scales ½‖z‖² − log|det J|`` per sample; :func:`nll_per_dim` divides by the
  number of dimensions so the logged numbers are readable (same optimum).

Works for 1-D (``[B, C, L]``) and 2-D (``[B, C, H, W]``) features alike.
"""

from __future__ import annotations

import math

import FrEIA.framework as Ff
import FrEIA.modules as Fm
import torch
import torch.nn.functional as F
from torch import nn

CLAMP = 1.9


def positional_encoding(channels: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Sin/cos encoding ``[channels, *shape]`` of each position (split over the axes in 2-D)."""
    if channels % (2 * len(shape)):
        raise ValueError(f"positional channels {channels} must divide by {2 * len(shape)}")
    per_axis = channels // len(shape)
    parts = []
    for axis, size in enumerate(shape):
        position = torch.arange(size, dtype=torch.float32)
        freq = torch.exp(torch.arange(0, per_axis, 2).float() * (-math.log(1e4) / per_axis))
        angle = position[:, None] * freq[None, :]  # [size, per_axis / 2]
        enc = torch.cat([angle.sin(), angle.cos()], dim=1).T  # [per_axis, size]
        view = [per_axis] + [1] * len(shape)
        view[axis + 1] = size
        parts.append(enc.reshape(view).expand(per_axis, *shape))
    return torch.cat(parts, dim=0)


def _conv(dims: int):
    return nn.Conv1d if dims == 1 else nn.Conv2d


def subnet_constructor(dims: int, hidden_ratio: float = 1.0):
    """Conv → ReLU → Conv, last layer zero-initialised so every block starts as the identity."""

    def build(c_in: int, c_out: int) -> nn.Module:
        hidden = max(8, int(c_in * hidden_ratio))
        conv = _conv(dims)
        last = conv(hidden, c_out, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        return nn.Sequential(conv(c_in, hidden, 3, padding=1), nn.ReLU(), last)

    return build


def parallel_flow(shape: tuple[int, ...], n_blocks: int, cond_channels: int) -> Ff.SequenceINN:
    """One scale's flow over features of true shape ``(C, L)`` or ``(C, H, W)``."""
    flow = Ff.SequenceINN(*shape)
    for _ in range(n_blocks):
        flow.append(
            Fm.AllInOneBlock,
            cond=0,
            cond_shape=(cond_channels, *shape[1:]),
            subnet_constructor=subnet_constructor(len(shape) - 1),
            affine_clamping=CLAMP,
            global_affine_type="SOFTPLUS",
        )
    return flow


def soft_clamp(s: torch.Tensor) -> torch.Tensor:
    """MSFlow's log-scale clamp: ``1.9·(2/π)·atan(s/1.9)``, bounded by ±1.9."""
    return CLAMP * (2 / math.pi) * torch.atan(s / CLAMP)


class FusionCoupling(nn.Module):
    """Affine coupling across scales: each scale's half is scaled and shifted by all others."""

    def __init__(self, channels: list[int], dims: int, hidden: int = 64):
        super().__init__()
        self.channels = list(channels)
        self.dims = dims
        self.halves = [c - c // 2 for c in channels]  # (a, b) = (first ⌈C/2⌉, last ⌊C/2⌋)
        conv = _conv(dims)
        self.mix = nn.ModuleList()
        self.heads = nn.ModuleList()
        for passive, active in (
            (self.halves, [c // 2 for c in channels]),
            ([c // 2 for c in channels], self.halves),
        ):
            total = sum(passive)
            self.mix.append(nn.Sequential(conv(total, hidden, 3, padding=1), nn.ReLU()))
            heads = nn.ModuleList()
            for c in active:
                head = conv(hidden, 2 * c, 3, padding=1)
                nn.init.zeros_(head.weight)
                nn.init.zeros_(head.bias)
                heads.append(head)
            self.heads.append(heads)

    def _coefficients(self, step: int, passive: list[torch.Tensor]):
        # plain ints: the positions are fixed by the window, and a traced graph (ONNX) needs
        # them as constants
        coarse = tuple(int(n) for n in passive[-1].shape[2:])
        pooled = [_pool(p, coarse, self.dims) for p in passive]
        hidden = self.mix[step](torch.cat(pooled, dim=1))
        mode = "linear" if self.dims == 1 else "bilinear"
        out = []
        for head, p in zip(self.heads[step], passive, strict=True):
            size = tuple(int(n) for n in p.shape[2:])
            up = F.interpolate(hidden, size=size, mode=mode, align_corners=True)
            s, t = head(up).chunk(2, dim=1)
            out.append((soft_clamp(s), t))
        return out

    def forward(self, xs: list[torch.Tensor], rev: bool = False):
        """``(outputs, log|det J|)`` per sample; ``rev=True`` inverts (log-det negated)."""
        a = [x[:, :h] for x, h in zip(xs, self.halves, strict=True)]
        b = [x[:, h:] for x, h in zip(xs, self.halves, strict=True)]
        log_det = xs[0].new_zeros(xs[0].shape[0])
        sum_dims = tuple(range(1, xs[0].dim()))
        order = (0, 1) if not rev else (1, 0)
        for step in order:
            passive, active = (a, b) if step == 0 else (b, a)
            changed = []
            for (s, t), x in zip(self._coefficients(step, passive), active, strict=True):
                if rev:
                    changed.append((x - t) * torch.exp(-s))
                    log_det = log_det - s.sum(dim=sum_dims)
                else:
                    changed.append(x * torch.exp(s) + t)
                    log_det = log_det + s.sum(dim=sum_dims)
            if step == 0:
                b = changed
            else:
                a = changed
        return [torch.cat(pair, dim=1) for pair in zip(a, b, strict=True)], log_det


class MultiScaleFlow(nn.Module):
    """Parallel flows (one per scale) followed by the fusion coupling."""

    def __init__(self, shapes: list[tuple[int, ...]], blocks: list[int], pos_channels: int = 16):
        super().__init__()
        self.shapes = [tuple(s) for s in shapes]
        dims = len(self.shapes[0]) - 1
        self.flows = nn.ModuleList(
            parallel_flow(shape, n, pos_channels) for shape, n in zip(shapes, blocks, strict=True)
        )
        for k, shape in enumerate(self.shapes):
            self.register_buffer(f"pos{k}", positional_encoding(pos_channels, shape[1:]))
        self.fusion = FusionCoupling([s[0] for s in self.shapes], dims)

    def _condition(self, k: int, batch: int) -> list[torch.Tensor]:
        pos = getattr(self, f"pos{k}")
        return [pos.unsqueeze(0).expand(batch, *pos.shape)]

    def forward(self, features: list[torch.Tensor], rev: bool = False):
        """``(z per scale, log|det J| per sample)``; ``rev=True`` maps z back to features."""
        batch = features[0].shape[0]
        if rev:
            xs, log_det = self.fusion(features, rev=True)
            out = []
            for k, (flow, x) in enumerate(zip(self.flows, xs, strict=True)):
                y, jac = flow(x, c=self._condition(k, batch), rev=True)
                out.append(y)
                log_det = log_det + jac
            return out, log_det
        zs, log_det = [], features[0].new_zeros(batch)
        for k, (flow, x) in enumerate(zip(self.flows, features, strict=True)):
            z, jac = flow(x, c=self._condition(k, batch))
            zs.append(z)
            log_det = log_det + jac
        zs, fusion_jac = self.fusion(zs)
        return zs, log_det + fusion_jac


def nll(zs: list[torch.Tensor], log_det: torch.Tensor) -> torch.Tensor:
    """``Σ_scales ½‖z‖² − log|det J|`` per sample (Gaussian constant omitted)."""
    energy = sum(0.5 * (z**2).flatten(1).sum(dim=1) for z in zs)
    return energy - log_det


def nll_per_dim(zs: list[torch.Tensor], log_det: torch.Tensor) -> torch.Tensor:
    """:func:`nll` divided by the number of dimensions: readable numbers, same optimum."""
    return nll(zs, log_det) / sum(z[0].numel() for z in zs)


def _pool(x: torch.Tensor, size: tuple[int, ...], dims: int) -> torch.Tensor:
    """Adaptive average pooling to ``size``; in 1-D with a whole ratio as a plain average pool
    (the same means, and exportable to ONNX, whose adaptive pool needs known input sizes)."""
    if dims == 2:
        return F.adaptive_avg_pool2d(x, size)
    length = int(x.shape[2])
    if length % size[0] == 0:
        ratio = length // size[0]
        return x if ratio == 1 else F.avg_pool1d(x, ratio, ratio)
    return F.adaptive_avg_pool1d(x, size)


def scale_maps(zs: list[torch.Tensor], size: int) -> torch.Tensor:
    """Per-scale, per-position ``½·mean_c z²``, upsampled to a common grid: ``[B, scales, size]``
    in 1-D (linear), ``[B, scales, size, size]`` in 2-D (bilinear)."""
    maps = []
    for z in zs:
        energy = 0.5 * (z**2).mean(dim=1, keepdim=True)  # [B, 1, *positions]
        if z.dim() == 3:
            maps.append(F.interpolate(energy, size=size, mode="linear", align_corners=True))
        else:
            maps.append(
                F.interpolate(energy, size=(size, size), mode="bilinear", align_corners=True)
            )
    return torch.cat(maps, dim=1)


def position_scores(zs: list[torch.Tensor], size: int) -> torch.Tensor:
    """Per-position anomaly score: :func:`scale_maps` summed over scales (``[B, size]`` or
    ``[B, size, size]``). No per-window max normalisation (it makes windows and entities
    incomparable, ALGORITHMS.md F11)."""
    return scale_maps(zs, size).sum(dim=1)
