"""``mstad fit``, ``score``, ``stream`` and ``export``: fit once, score new data, stream, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mstad import DEFAULT_MODEL, DEFAULT_THRESHOLD
from mstad.cli.app import _progress, _show, app, console, plain
from mstad.errors import MstadError


@app.command()
def fit(
    data: Annotated[
        Path | None,
        typer.Argument(
            help=".npy/.csv/.parquet file or a `mstad prepare` folder (its train split)"
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="model folder to write")] = Path("model"),
    dataset: Annotated[str | None, typer.Option(help="train on a data set instead")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
    entity: Annotated[str | None, typer.Option(help="the data set's entity to fit")] = None,
    model: Annotated[str, typer.Option(help="detector name, see `mstad models`")] = DEFAULT_MODEL,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="detector parameter KEY=VALUE")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    threshold: Annotated[
        str, typer.Option(help="pot, surprise, quantile, max_validation or ndt")
    ] = DEFAULT_THRESHOLD,
    force: Annotated[bool, typer.Option(help="replace an existing model folder")] = False,
) -> None:
    """Fit a detector on training data once and write a model folder (for score / stream)."""
    from mstad.config import parse_params
    from mstad.deploy.fit import check_fit, fit_model, training_table
    from mstad.progress import reporting

    params = parse_params(param)
    limits = {"method": threshold}
    check_fit(out, model, params, seed, limits, force)
    table, preparation, training = training_table(data, dataset, data_dir, entity)
    with _progress() as progress:  # the phase, training epochs or scoring blocks at work
        line = progress.add_task(f"  {model}: fit", total=None)
        with reporting(lambda step: _show(progress, line, step)):
            fitted = fit_model(
                table, preparation, training, out, model, params, seed, limits, force
            )
    info = fitted.info
    console.print(
        f"fitted {info['model']} on {table.source}: {len(table.values):,} steps × "
        f"{len(table.sensors)} sensors in {info['training']['fit_s']:.1f} s; threshold "
        f"{info['threshold']['method']} = {fitted.threshold:.3f} (validation steps above it: "
        f"{100 * info['validation']['alarm_rate']:.2f} %)\n"
        f"written: {out} (model card: {out}/README.md)\nnext:    mstad score {out} NEW_DATA",
        highlight=False,
    )
    if info["validation"]["fitted_on"] == "train":
        from mstad.models.calibration import in_sample_warning

        warning = in_sample_warning(table.source, len(table.values))
        console.print(f"[yellow]warning: {plain(warning)}[/yellow]", highlight=False)


@app.command()
def score(
    model_dir: Annotated[Path, typer.Argument(help="model folder written by `mstad fit`")],
    data: Annotated[
        Path | None,
        typer.Argument(help="file, `mstad prepare` folder (test split) or raw batch folder"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="folder for scores and events.csv")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    dataset: Annotated[str | None, typer.Option(help="score a data set's test split")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
    entity: Annotated[str | None, typer.Option(help="the data set's entity")] = None,
    schedule: Annotated[
        Path | None, typer.Option(help="schedule listing a new raw batch (default: training's)")
    ] = None,
    explain: Annotated[bool, typer.Option(help="name each event's top sensors")] = True,
) -> None:
    """Score new data with a model folder: scores, alarms at its threshold, events."""
    from rich.table import Table

    from mstad.deploy.fit import dataset_table, one_source
    from mstad.deploy.model import load_model
    from mstad.deploy.scoring import events_to_show, score_table, write_scored
    from mstad.models.thresholds import alarm_share_warning

    if fmt not in ("csv", "parquet"):
        raise MstadError(f"--format {fmt!r}: choose csv or parquet")
    fitted = load_model(model_dir)
    one_source(data, dataset, "data to score")
    if dataset is not None:
        table = fitted.align(dataset_table(dataset, data_dir, entity, "test")[0])
    else:
        table = fitted.read(data, schedule)
    scored = score_table(fitted, table, explain)
    steps, events = scored.steps, scored.events
    console.print(
        f"scored {plain(table.source)}: {len(steps):,} steps, max score "
        f"{steps['score'].max():.2f}, {int(steps['alarm'].sum()):,} alarm steps in "
        f"{len(events)} events at threshold {scored.threshold:.3f}",
        highlight=False,
    )
    most = alarm_share_warning(table.source, steps["score"].to_numpy(), scored.threshold)
    if most is not None:
        console.print(f"[yellow]warning: {plain(most)}[/yellow]", highlight=False)
    if len(events):
        picked = events_to_show(events)
        title = "alarms (events in time order; all columns in events.csv)"
        if len(picked) < len(events):
            title = (
                f"alarms: the {len(picked)} highest peaks of {len(events)} events, in time "
                "order (all in events.csv with --out)"
            )
        view = Table(title=title)
        shown = [c for c in ("start", "end", "peak", "start_time", "top_sensors") if c in events]
        zone = fitted.local_zone
        if "start_time" in shown:
            picked = picked.assign(start_time=_local_times(picked["start_time"], zone))
        for column in shown:
            header = column.replace("_", " ")
            view.add_column(f"{header} ({zone})" if column == "start_time" else header)
        for row in picked[shown].itertuples(index=False):
            view.add_row(*[_cell(v) for v in row])
        console.print(view)
    if out is not None:
        written = write_scored(scored, out, fmt)
        console.print(f"written: {plain(', '.join(str(p) for p in written))}", highlight=False)


def _local_times(times, zone: str):
    """Zone-aware timestamps (the files keep UTC) shown in the plant's own zone, where the
    operators' schedules and labels are written; naive ones are shown as they are."""
    import pandas as pd

    times = pd.to_datetime(times)
    return times.dt.tz_convert(zone) if times.dt.tz is not None else times


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if hasattr(value, "strftime"):  # a timestamp: to the second, without the zone
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return plain(value)


@app.command()
def stream(
    model_dir: Annotated[Path, typer.Argument(help="model folder written by `mstad fit`")],
    follow_file: Annotated[
        Path | None, typer.Option("--follow", help="follow a growing CSV file instead of stdin")
    ] = None,
    chunk: Annotated[int, typer.Option(min=1, help="rows scored together")] = 1,
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="with --follow: stop after S idle seconds")
    ] = None,
    max_past_windows: Annotated[
        int | None, typer.Option(min=1, help="discord: past windows kept (default: the model's)")
    ] = None,
) -> None:
    """Score CSV rows as they arrive (stdin or --follow FILE): one line per step."""
    from mstad.deploy.model import load_model
    from mstad.deploy.stream import follow, stream_rows

    fitted = load_model(model_dir)
    lines = follow(follow_file, idle_exit_s=idle_exit) if follow_file else sys.stdin
    source = str(follow_file) if follow_file else "stdin"

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    steps = stream_rows(fitted, lines, write, chunk, source, max_past_windows)
    Console(stderr=True).print(f"streamed {steps:,} steps", highlight=False)


@app.command()
def export(
    model_dir: Annotated[Path, typer.Argument(help="model folder written by `mstad fit`")],
    fmt: Annotated[str, typer.Option("--format", help="onnx")] = "onnx",
    out: Annotated[Path | None, typer.Option(help="graph file; default MODEL/model.onnx")] = None,
) -> None:
    """Export a deep detector's network (mscred; msflow native) to ONNX, checked against torch."""
    from mstad.deploy.export import export_onnx
    from mstad.deploy.model import load_model

    if fmt != "onnx":
        raise MstadError(f"--format {fmt!r}: only onnx is supported")
    fitted = load_model(model_dir)
    result = export_onnx(fitted, out or model_dir / "model.onnx", fitted.sample())
    console.print(
        f"exported {fitted.info['model']}: {result.path} (input {result.input_name!r}, output "
        f"{result.output_name!r}); onnxruntime = torch to {result.max_abs_diff:.1e} on "
        f"{result.checked_on} training samples. What the graph computes and what stays in "
        "Python: `python -c 'import mstad.deploy.export as e; help(e)'`",
        highlight=False,
    )
