"""Stage 6a: static reports of a run folder (matplotlib PNGs + one HTML page)."""

from mstad.report.build import build_report

__all__ = ["build_report"]
