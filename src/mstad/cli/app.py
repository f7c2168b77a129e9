"""The ``mstad`` application: the typer app the commands register on, the options every command
shares, the console and the entry point. Errors the user can fix print one line, exit code 2;
``--debug`` shows the traceback.

Heavy libraries (numpy, pandas, scikit-learn, torch, plotting) are imported inside the
commands that use them, so ``mstad --help`` and argument errors answer at once
(``benchmarks/cli_start.py``)."""

from __future__ import annotations

import math
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from mstad.errors import MstadError

app = typer.Typer(
    help="Multi-Scale Time-series Anomaly Detection: find when and which sensors, with honest "
    "numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def plain(value: object) -> str:
    """``value`` as text that rich prints as it is: sensor names and units in brackets
    (``temp_01 [degC]``), paths and messages are data, not markup."""
    return escape(str(value))


_state = {"debug": False, "quiet": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    _state.update(debug=debug, quiet=quiet)


def _fmt(value: Any) -> str:
    return (
        "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"
    )


def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    # a long description (an epoch's losses) is cut with an ellipsis, never the bar and times
    description = Column(no_wrap=True, overflow="ellipsis", max_width=max(20, console.width - 60))
    columns = (
        TextColumn("{task.description}", table_column=description),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True, disable=_state["quiet"])


def _show(progress, line, step) -> None:
    """Show a :class:`mstad.progress.Step` on ``line`` of ``progress``: its lane (the entity),
    what is being done, and how far."""
    what = f"{step.lane}: {step.what}" if step.lane else step.what
    progress.update(line, description=f"  {what}", completed=step.done, total=step.total)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except (MstadError, OSError) as exc:
        if _state["debug"]:
            raise
        if isinstance(exc, OSError):  # disk full, permission denied: the file and the reason
            where = f"{exc.filename}: " if exc.filename else ""
            exc = f"{where}{exc.strerror or exc}; check the path, its permissions and free space"
        Console(stderr=True).print(
            f"[red]error:[/red] {plain(exc)}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
