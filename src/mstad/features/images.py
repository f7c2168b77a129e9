"""Windows of a series as pseudo-images for the MSFlow image route, with an exact time map.

Every encoder turns windows ``[N, L, D]`` (already scaled with training statistics) into images
``[N, 3, S, S]`` and says which image axes are time (:data:`TIME_AXES`), so a per-pixel score map
can be brought back to the ``L`` steps of its window exactly:

* ``resize`` — the seed's mapping, over sliding windows: up to 3 chosen sensors as the RGB
  channels, each resized (linear) along time to ``S`` columns; rows are identical. Column ``c``
  covers time ``c·L/S``. Time axis: columns.
* ``strip`` — all sensors as rows, time as columns (one grey image copied to 3 channels),
  resized to ``S × S``. Time axis: columns.
* ``gaf`` — Gramian angular summation field ``cos(φ_i + φ_j)`` of up to 3 sensors (values
  clipped to [−1, 1], φ = arccos x); ``gadf`` the difference field ``sin(φ_i − φ_j)``. Both axes
  are time.
* ``mtf`` — Markov transition field: quantile bins (fitted on training windows), the window's
  own bin-to-bin transition probabilities, ``M[i, j] = W[bin(x_i), bin(x_j)]``. Both axes are
  time.
* ``signature`` — MSCRED signature matrices of the window at 3 scales (its last 10/30/60 steps
  by default) as the 3 channels, sensor × sensor: no time axis; the window's score is spread
  evenly over its steps.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

ENCODERS = ("resize", "strip", "gaf", "gadf", "mtf", "signature")
TIME_AXES = {
    "resize": "columns",
    "strip": "columns",
    "gaf": "both",
    "gadf": "both",
    "mtf": "both",
    "signature": "none",
}


def _three(windows: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    """``[N, L, 3]``: the chosen sensors, repeated cyclically when fewer than 3."""
    picked = [d for d in dims if d < windows.shape[2]] or [0]
    return windows[:, :, [picked[k % len(picked)] for k in range(3)]]


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


def encode(
    windows: np.ndarray,
    encoder: str,
    size: int,
    dims: tuple[int, ...] = (0, 1, 2),
    bins: np.ndarray | None = None,
    scales: tuple[int, ...] = (10, 30, 60),
) -> torch.Tensor:
    """Images ``[N, 3, size, size]`` (float32) of windows ``[N, L, D]``."""
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    x = torch.from_numpy(np.array(windows, dtype=np.float32))  # a copy: views may be read-only
    n, length, _ = x.shape
    if encoder == "resize":
        series = torch.from_numpy(np.array(_three(windows, dims), dtype=np.float32))
        columns = F.interpolate(
            series.transpose(1, 2), size=size, mode="linear", align_corners=False
        )  # [N, 3, size]
        return columns[:, :, None, :].expand(n, 3, size, size).contiguous()
    if encoder == "strip":
        grey = x.transpose(1, 2)[:, None]  # [N, 1, D, L]
        return _resize(grey, size).expand(n, 3, size, size).contiguous()
    if encoder in ("gaf", "gadf"):
        phi = torch.arccos(torch.from_numpy(_three(windows, dims).astype(np.float32)).clamp(-1, 1))
        phi = phi.transpose(1, 2)  # [N, 3, L]
        if encoder == "gaf":
            field = torch.cos(phi[..., :, None] + phi[..., None, :])
        else:
            field = torch.sin(phi[..., :, None] - phi[..., None, :])
        return _resize(field, size)
    if encoder == "mtf":
        if bins is None:
            raise ValueError("mtf needs quantile bin edges fitted on training windows")
        return _resize(markov_transition_field(_three(windows, dims), bins), size)
    return _resize(window_signatures(windows, scales), size)


def markov_transition_field(series: np.ndarray, edges: np.ndarray) -> torch.Tensor:
    """``[N, 3, L, L]`` MTF of ``series [N, L, 3]`` with bin edges ``[3, Q - 1]`` per channel."""
    n, length, channels = series.shape
    q = edges.shape[1] + 1
    out = np.empty((n, channels, length, length), dtype=np.float32)
    for c in range(channels):
        state = np.stack([np.searchsorted(edges[c], s) for s in series[:, :, c]])  # [N, L]
        counts = np.zeros((n, q, q))
        np.add.at(counts, (np.arange(n)[:, None], state[:, :-1], state[:, 1:]), 1.0)
        rows = counts.sum(axis=2, keepdims=True)
        transition = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        out[:, c] = transition[np.arange(n)[:, None, None], state[:, :, None], state[:, None, :]]
    return torch.from_numpy(out)


def mtf_bins(train_windows: np.ndarray, dims: tuple[int, ...], q: int = 8) -> np.ndarray:
    """Quantile bin edges ``[3, q - 1]`` of the chosen sensors over training windows."""
    values = _three(train_windows, dims).reshape(-1, 3)
    return np.quantile(values, np.linspace(0, 1, q + 1)[1:-1], axis=0).T.copy()


def window_signatures(windows: np.ndarray, scales: tuple[int, ...]) -> torch.Tensor:
    """``[N, 3, D, D]``: ``x_iᵀ x_j / w`` over the last ``w`` steps of each window, per scale."""
    x = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float64))
    mats = [
        torch.einsum("nld,nle->nde", x[:, -w:], x[:, -w:]) / w
        for w in (min(s, x.shape[1]) for s in scales[:3])
    ]
    return torch.stack(mats, dim=1).float()


def map_to_window(maps: torch.Tensor, encoder: str, length: int) -> torch.Tensor:
    """Per-pixel scores ``[N, S, S]`` → per-step scores ``[N, length]`` of each window.

    Columns are time for ``resize``/``strip`` (rows averaged); for the fields, step ``t`` takes
    the mean of row ``t`` and column ``t``; ``signature`` spreads the image mean evenly.
    """
    axes = TIME_AXES[encoder]
    if axes == "columns":
        profile = maps.mean(dim=1)
    elif axes == "both":
        profile = 0.5 * (maps.mean(dim=1) + maps.mean(dim=2))
    else:
        return maps.mean(dim=(1, 2))[:, None].expand(-1, length)
    return F.interpolate(profile[:, None], size=length, mode="linear", align_corners=False)[:, 0]
