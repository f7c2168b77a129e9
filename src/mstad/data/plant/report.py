"""The loss report: every row dropped, filled or clipped, by reason and file."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class LossReport:
    """Counts keyed by (action, reason, source); ``source`` is a file or a batch folder."""

    counts: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, action: str, reason: str, source: str, rows: int) -> None:
        if rows:
            self.counts[(action, reason, str(source))] += int(rows)

    def total(self, action: str | None = None) -> int:
        return sum(n for (a, _, _), n in self.counts.items() if action in (None, a))

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {"action": a, "reason": r, "source": s, "rows": n}
            for (a, r, s), n in sorted(self.counts.items())
        ]
        return pd.DataFrame(rows, columns=["action", "reason", "source", "rows"])

    def summary(self) -> list[str]:
        """One line per (action, reason) with its total, for the console."""
        by_reason: dict[tuple[str, str], int] = defaultdict(int)
        for (a, r, _), n in self.counts.items():
            by_reason[(a, r)] += n
        return [f"{a}: {n:,} rows — {r}" for (a, r), n in sorted(by_reason.items())]
