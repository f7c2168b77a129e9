"""MSCRED's masked reconstruction (issue 17, ``mscred_log.md`` §1): the rows and columns of
hidden sensors are zeroed in the input, and the loss counts the hidden entries only — the
network must infer a sensor's row from the others."""

from __future__ import annotations

import torch


def entries_of(masks: torch.Tensor) -> torch.Tensor:
    """``[B, n]`` hidden sensors -> ``[B, n, n]`` matrix entries in a hidden row or column."""
    return masks[:, :, None] | masks[:, None, :]


def hide_sensors(
    stacks: torch.Tensor, masks: torch.Tensor, last_only: torch.Tensor | None = None
) -> torch.Tensor:
    """Zero the rows and columns of the hidden sensors in every step and scale of
    ``stacks [B, h, S, n, n]`` (``masks [B, n]``, True = hidden) — or, for the samples with
    ``last_only [B]`` True, in the last step only (their own past stays visible)."""
    hidden = entries_of(masks)[:, None, None]  # [B, 1, 1, n, n]: every step and scale
    if last_only is not None:
        steps = torch.ones(stacks.shape[:2], dtype=torch.bool, device=stacks.device)
        steps[last_only, :-1] = False
        hidden = hidden & steps[:, :, None, None, None]
    return stacks * ~hidden


def masked_mse(output: torch.Tensor, target: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the hidden entries only (the visible ones could be copied)."""
    hidden = entries_of(masks)[:, None].to(output.dtype)
    return ((output - target) ** 2 * hidden).sum() / (hidden.sum() * output.shape[1])
