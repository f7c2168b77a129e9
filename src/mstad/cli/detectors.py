"""``mstad models``: the registered detectors and their parameters."""

from __future__ import annotations

from mstad.cli.app import app, console


@app.command()
def models() -> None:
    """List the registered detectors and their parameters."""
    from rich.table import Table

    from mstad.models import available_detectors, detector_class
    from mstad.models.registry import ALIASES

    table = Table(title="detectors")
    table.add_column("name")
    table.add_column("parameters (defaults)")
    table.add_column("explain")
    for name in available_detectors():
        cls = detector_class(name)
        defaults = cls().get_params()
        table.add_row(
            f"{name} (= {cls.name})" if name in ALIASES else name,
            ", ".join(f"{k}={v}" for k, v in defaults.items()),
            "yes" if cls.supports_explain else "no",
        )
    console.print(table)
