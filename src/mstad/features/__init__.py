"""Stage 2: train-only scaling, sliding windows and the window -> time-step mapping."""

from mstad.features.scaling import Standardizer
from mstad.features.windows import sliding_windows, window_starts, windows_to_steps

__all__ = ["Standardizer", "sliding_windows", "window_starts", "windows_to_steps"]
