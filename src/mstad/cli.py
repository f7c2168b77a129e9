"""The ``mstad`` command line (typer). Errors the user can fix print one line, exit code 2;
``--debug`` shows the traceback."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mstad.config import DEFAULT_MODEL, load_config, parse_params
from mstad.errors import MstadError

app = typer.Typer(
    help="Multi-Scale Time-series Anomaly Detection: find when and which sensors, with honest "
    "numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
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


def _print_metrics(result) -> None:
    metrics = result.metrics
    table = Table(title=f"{metrics['dataset']} · {metrics['model']} · {result.path}")
    table.add_column("protocol")
    for key in ("auroc", "ap", "best_f1"):
        table.add_column(key.upper() if key != "best_f1" else "best-F1 (oracle)", justify="right")
    if "concat" not in metrics:
        console.print("[yellow]no labelled test data: scores written, no metrics[/yellow]")
        return
    for protocol in ("concat", "per_entity_mean"):
        row = metrics[protocol]
        table.add_row(protocol, *(_fmt(row[k]) for k in ("auroc", "ap", "best_f1")))
    console.print(table)
    undefined = metrics.get("n_undefined", 0)
    console.print(
        f"{metrics['n_entities']} entities ({undefined} without both classes), "
        f"positive rate {metrics['positive_rate']:.4f}, wall time {result.timing['wall_s']:.1f} s"
    )
    if result.warnings:
        console.print(f"[yellow]{len(result.warnings)} data warning(s) in warnings.json[/yellow]")


def _execute(config) -> None:
    from mstad.data import load_dataset
    from mstad.runs import run_experiment

    if _state["quiet"]:
        result = run_experiment(config)
    else:
        total = len(
            load_dataset(config.dataset, config.data_dir, config.entities, **config.dataset_options)
        )
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"{config.model} on {config.dataset}", total=total)
            result = run_experiment(config, on_entity_done=lambda _: progress.advance(task))
    _print_metrics(result)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="folder for run directories")] = Path("runs"),
    model: Annotated[str, typer.Option(help="detector to demonstrate")] = DEFAULT_MODEL,
) -> None:
    """Fit and score the built-in MSCRED synthetic data set (no download) and print metrics."""
    _execute(load_config(None, {"dataset": "synthetic", "model": model, "output_dir": out}))


@app.command()
def run(
    dataset: Annotated[str | None, typer.Option(help="smap, msl, smd or synthetic")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
    model: Annotated[str | None, typer.Option(help="detector name, see `mstad models`")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file with RunConfig keys")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="detector parameter KEY=VALUE")
    ] = None,
    entities: Annotated[str | None, typer.Option(help="comma-separated subset")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    n_jobs: Annotated[int | None, typer.Option(help="processes; -1 = all cores")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for run directories")] = None,
    save_models: Annotated[bool | None, typer.Option(help="save each fitted detector")] = None,
    explain: Annotated[bool | None, typer.Option(help="store per-sensor contributions")] = None,
) -> None:
    """Fit and score every entity of a data set; write a new run directory."""
    overrides = {
        "dataset": dataset,
        "data_dir": data_dir,
        "model": model,
        "params": parse_params(param) or None,
        "seed": seed,
        "n_jobs": n_jobs,
        "output_dir": out,
        "save_models": save_models,
        "explain": explain,
        "entities": entities.split(",") if entities else None,
    }
    _execute(load_config(config, overrides))


@app.command()
def datasets(
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
) -> None:
    """List the data sets found under a folder and whether they load cleanly."""
    from mstad.data import default_data_dir, survey

    folder = data_dir or default_data_dir()
    table = Table(title=f"data sets under {folder}")
    for column in ("dataset", "status", "entities", "test steps", "anomalous", "warnings"):
        table.add_column(column)
    problems = []
    for row in survey(folder):
        if row["status"] == "ok":
            table.add_row(
                row["dataset"],
                "[green]ok[/green]",
                str(row["entities"]),
                str(row["test_steps"]),
                str(row["anomalous_steps"]),
                str(row["warnings"]),
            )
        else:
            table.add_row(row["dataset"], "[red]missing/invalid[/red]", "", "", "", "")
            problems.append(f"{row['dataset']}: {row['problem']}")
    console.print(table)
    for problem in problems:
        console.print(f"[red]✗[/red] {problem}", highlight=False, soft_wrap=True)


@app.command()
def models() -> None:
    """List the registered detectors and their parameters."""
    from mstad.models import available_detectors, detector_class

    table = Table(title="detectors")
    table.add_column("name")
    table.add_column("parameters (defaults)")
    table.add_column("explain")
    for name in available_detectors():
        cls = detector_class(name)
        defaults = cls().get_params()
        table.add_row(
            name,
            ", ".join(f"{k}={v}" for k, v in defaults.items()),
            "yes" if cls.supports_explain else "no",
        )
    console.print(table)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except MstadError as exc:
        if _state["debug"]:
            raise
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
