"""The one training loop of mstad's torch detectors (MSCRED, MSFlow; the deep baselines to come).

Epochs of a detector-supplied step (its batches, its loss), then early stopping on the loss of
the validation tail of the training split — never a test metric — with the best weights
restored; a progress line per epoch (training and validation loss, through
:func:`mstad.progress.report`, which the CLI shows with elapsed time and ETA), and the loss
history the run saves beside the model and the report plots (``Detector.history_``). A NaN
training loss stops with a one-line error instead of fitting garbage.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch

from mstad.errors import ConfigError
from mstad.progress import report


def train_with_early_stopping(
    module: torch.nn.Module,
    name: str,
    epochs: int,
    patience: int,
    run_epoch: Callable[[], float],
    validation_loss: Callable[[], float] | None,
) -> list[dict]:
    """Train ``module`` for up to ``epochs`` epochs (``run_epoch()`` trains one and returns its
    mean loss); with ``validation_loss``, stop after ``patience`` epochs without a better
    validation loss and restore the best weights. Returns the history, one dict per epoch
    (``epoch``, ``train_loss``, ``val_loss`` — NaN without validation — and ``seconds``)."""
    best, best_loss, waited = None, np.inf, 0
    history: list[dict] = []
    for epoch in range(epochs):
        start = time.perf_counter()
        train_loss = float(run_epoch())
        val_loss = float(validation_loss()) if validation_loss is not None else float("nan")
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "seconds": time.perf_counter() - start,
            }
        )
        report(
            f"{name} epoch {epoch + 1}: loss {train_loss:.4g}, validation {val_loss:.4g}, "
            f"{history[-1]['seconds']:.1f} s",
            epoch + 1,
            epochs,
            milestone=True,
        )
        if not np.isfinite(train_loss):
            raise ConfigError(
                f"{name}: training diverged (NaN loss at epoch {epoch + 1}); lower lr"
            )
        if validation_loss is None:
            continue
        if val_loss < best_loss:
            best, best_loss, waited = copy.deepcopy(module.state_dict()), val_loss, 0
        else:
            waited += 1
            if waited >= patience:
                break
    if best is not None:
        module.load_state_dict(best)
    module.eval()
    return history
