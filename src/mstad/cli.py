"""The ``mstad`` command line (typer). Errors the user can fix print one line, exit code 2;
``--debug`` shows the traceback.

Heavy libraries (numpy, pandas, scikit-learn, torch, plotting) are imported inside the
commands that use them, so ``mstad --help`` and argument errors answer at once
(``benchmarks/cli_start.py``)."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mstad import DEFAULT_MODEL
from mstad.errors import MstadError
from mstad.evaluation.layout import (
    AT_THRESHOLD_SHOWN,
    HEADLINE,
    ORACLE_NOTE,
    ORACLE_SHOWN,
    PA_WARNING,
    PROTOCOL_TITLES,
    PROTOCOLS,
)

#: the demo's data: the MSCRED synthetic generator at half its paper length (≤ 60 s on 2 cores)
DEMO_DATA = {"n_steps": 10_000, "train_end": 5_000}

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
    from rich.table import Table

    metrics = result.metrics
    if PROTOCOLS[0] not in metrics:
        console.print(f"[yellow]no labelled test data: scores written to {result.path}[/yellow]")
        return
    shown = {**HEADLINE, **ORACLE_SHOWN}
    table = Table(title=f"{metrics['dataset']} · {metrics['model']}")
    table.add_column("protocol")
    for title in shown.values():
        table.add_column(title, justify="right")
    table.add_column(" / ".join(AT_THRESHOLD_SHOWN.values()) + " at threshold", justify="right")
    for protocol in PROTOCOLS:
        row = metrics[protocol]
        at = " / ".join(_fmt(row.get(k)) for k in AT_THRESHOLD_SHOWN)
        table.add_row(PROTOCOL_TITLES[protocol], *(_fmt(row.get(k)) for k in shown), at)
    console.print(table)
    console.print(
        f"{metrics['n_entities']} entities ({metrics.get('n_undefined', 0)} without both "
        f"classes), positive rate {metrics['positive_rate']:.4f}, "
        f"wall time {result.timing['wall_s']:.1f} s → {result.path}",
        highlight=False,
    )
    console.print(f"[dim]{ORACLE_NOTE}[/dim]")
    pa = metrics["per_entity_mean"].get("pa_f1")
    if pa is not None:
        console.print(
            f"[yellow]point-adjusted F1 at threshold (per entity) {_fmt(pa)} — {PA_WARNING}"
            "[/yellow]",
            highlight=False,
        )
    if "root_cause" in metrics:
        rc = metrics["root_cause"]["mean"]
        console.print("root cause: " + ", ".join(f"{k} {_fmt(v)}" for k, v in rc.items()))
    if result.warnings:
        console.print(f"[yellow]{len(result.warnings)} data warning(s) in warnings.json[/yellow]")


def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True, disable=_state["quiet"])


def _execute(config, run_dir: Path | None = None):
    """Run ``config`` with progress: entities done, and inside the entity at work (when it runs
    in this process) its phase, epochs or scoring blocks."""
    from mstad.data import load_dataset
    from mstad.progress import reporting
    from mstad.runs import run_experiment
    from mstad.runs.runner import check_config

    check_config(config)  # a misspelt model or parameter is reported before the data load
    dataset = load_dataset(
        config.dataset, config.data_dir, config.entities, **config.dataset_options
    )
    with _progress() as progress:
        task = progress.add_task(f"{config.model} on {dataset.name}", total=len(dataset))
        inner = progress.add_task("", total=None, visible=False)

        def detail(what: str, done: int, total: int) -> None:
            progress.update(inner, description=f"  {what}", completed=done, total=total)
            progress.update(inner, visible=True)

        with reporting(detail):
            result = run_experiment(
                config, lambda _: progress.advance(task), run_dir=run_dir, dataset=dataset
            )
    _print_metrics(result)
    return result


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="folder for run directories")] = Path("runs"),
    model: Annotated[str, typer.Option(help="detector to demonstrate")] = DEFAULT_MODEL,
) -> None:
    """Fit, score, explain and report on built-in MSCRED synthetic data (no download)."""
    from mstad.config import load_config
    from mstad.evaluation.layout import how_to_read
    from mstad.report import build_report

    console.print(
        f"demo: {model} on the MSCRED synthetic generator at half length "
        f"({DEMO_DATA['train_end']:,} train / {DEMO_DATA['n_steps'] - DEMO_DATA['train_end']:,} "
        "test steps, 30 sensors, 5 labelled events with root causes), with "
        "per-sensor explanations and the fitted model saved",
        highlight=False,
    )
    overrides = {
        "dataset": "synthetic",
        "dataset_options": DEMO_DATA,
        "model": model,
        "output_dir": out,
        "explain": True,
        "save_models": True,
    }
    result = _execute(load_config(None, overrides))
    with console.status("writing the report…"):
        page = build_report(result.path)
    if "concat" in result.metrics:
        concat = result.metrics["concat"]
        console.print(how_to_read(result.metrics["positive_rate"], concat["ap"]), highlight=False)
    console.print(
        f"report: {page}\nnext:   mstad dashboard {result.path}\n"
        f"        mstad report {result.path} --top-k 5\n"
        "        mstad run --dataset smap --data-dir DATA   (your data: see the README)",
        highlight=False,
    )


@app.command()
def run(
    dataset: Annotated[
        str | None, typer.Option(help="smap, msl, smd, tsbad, csv or synthetic")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
    model: Annotated[str | None, typer.Option(help="detector name, see `mstad models`")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file with RunConfig keys")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="detector parameter KEY=VALUE")
    ] = None,
    entities: Annotated[str | None, typer.Option(help="comma-separated subset")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[
        str | None, typer.Option(help="torch detectors: auto, cpu or cuda[:N] (others: CPU)")
    ] = None,
    n_jobs: Annotated[int | None, typer.Option(help="processes; -1 = all cores")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for run directories")] = None,
    save_models: Annotated[bool | None, typer.Option(help="save each fitted detector")] = None,
    explain: Annotated[bool | None, typer.Option(help="store per-sensor contributions")] = None,
    threshold: Annotated[
        str | None, typer.Option(help="pot, quantile, max_validation or ndt (fitted on validation)")
    ] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="finish an interrupted run folder in place")
    ] = None,
) -> None:
    """Fit and score every entity of a data set; write a new run directory."""
    from mstad.config import load_config, parse_params

    if resume is not None:
        from mstad.runs.runner import read_run_config

        _execute(read_run_config(resume), run_dir=resume)
        return
    overrides = {
        "dataset": dataset,
        "data_dir": data_dir,
        "model": model,
        "params": parse_params(param) or None,
        "seed": seed,
        "device": device,
        "n_jobs": n_jobs,
        "output_dir": out,
        "save_models": save_models,
        "explain": explain,
        "entities": entities.split(",") if entities else None,
        "threshold": {"method": threshold} if threshold else None,
        "executor": executor,
        "ray_address": address,
    }
    _execute(load_config(config, overrides))


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a folder written by `mstad run`")],
    expand: Annotated[
        int, typer.Option(min=0, help="widen every true event by K steps each side")
    ] = 0,
    vus_window: Annotated[int | None, typer.Option(min=0, help="largest VUS buffer")] = None,
) -> None:
    """Recompute metrics from stored scores (no refitting)."""
    from mstad.runs.evaluate import evaluate_run
    from mstad.runs.rundir import TIMING, RunFolder, read_json

    metrics, target = evaluate_run(run_dir, expand, vus_window)
    timing_file = RunFolder(run_dir).file(TIMING)
    timing = read_json(timing_file) if timing_file.is_file() else {}

    from mstad.runs import RunResult

    _print_metrics(RunResult(target, metrics, {"wall_s": timing.get("wall_s", float("nan"))}, []))


@app.command()
def benchmark(
    models: Annotated[str, typer.Option(help="comma-separated detectors")] = (
        "zscore,pca,knn,iforest"
    ),
    datasets: Annotated[str, typer.Option(help="comma-separated data sets")] = "synthetic",
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
    out: Annotated[Path, typer.Option(help="benchmark folder (re-run to resume)")] = Path(
        "benchmark-results"
    ),
    executor: Annotated[str, typer.Option(help="local or ray")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address")] = None,
    n_jobs: Annotated[int, typer.Option(help="processes; -1 = all cores")] = -1,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[
        str | None, typer.Option(help="torch detectors: auto, cpu or cuda[:N] (others: CPU)")
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="comma-separated seeds, e.g. 0,1,2,3,4: mean ± std")
    ] = None,
) -> None:
    """Run models × data sets (resumable) and write benchmark.md / benchmark.csv."""
    from mstad.errors import ConfigError

    try:
        seed_list = [int(s) for s in seeds.split(",")] if seeds else None
    except ValueError:
        raise ConfigError(
            f"--seeds {seeds!r}: expected comma-separated integers, e.g. 0,1,2"
        ) from None
    from mstad.config import load_config
    from mstad.runs.benchmark import run_benchmark, to_markdown

    base = load_config(
        None,
        {
            "data_dir": data_dir,
            "executor": executor,
            "ray_address": address,
            "n_jobs": n_jobs,
            "seed": seed,
            "device": device,
        },
    )
    with _progress() as progress:
        task = progress.add_task("", total=0)

        def start(dataset: str, model: str, total: int) -> None:
            progress.reset(task, total=total, description=f"{model} on {dataset}")

        table = run_benchmark(
            models.split(","),
            datasets.split(","),
            out,
            base,
            lambda _: progress.advance(task),
            start,
            seed_list,
        )
    console.print(to_markdown(table), highlight=False, soft_wrap=True)
    console.print(f"written: {out / 'benchmark.md'}, {out / 'benchmark.csv'}")


@app.command()
def datasets(
    data_dir: Annotated[Path | None, typer.Option(help="data folder; default $MSTAD_DATA")] = None,
) -> None:
    """List the data sets found under a folder and whether they load cleanly."""
    from rich.table import Table

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
def report(
    run_dir: Annotated[Path, typer.Argument(help="a folder written by `mstad run`")],
    out: Annotated[Path | None, typer.Option(help="report folder; default RUN_DIR/report")] = None,
    entities: Annotated[str | None, typer.Option(help="comma-separated; default top 6")] = None,
    top_k: Annotated[int, typer.Option(min=0, help="heatmaps per entity")] = 3,
) -> None:
    """Write a self-contained report folder: ROC/PR curves, ranked entities, figures, heatmaps."""
    from mstad.report import build_report

    names = [e.strip() for e in entities.split(",")] if entities else None
    start = time.perf_counter()
    page = build_report(run_dir, out, names, top_k=top_k)
    console.print(f"written: {page} ({time.perf_counter() - start:.1f} s)")


@app.command()
def dashboard(
    runs: Annotated[list[Path], typer.Argument(help="run folders, or folders of runs")],
    host: Annotated[str, typer.Option(help="address to bind; loopback unless told")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8501,
) -> None:
    """Open the Streamlit dashboard on the given runs (needs the `dashboard` extra)."""
    import importlib.util
    import os

    from mstad.errors import ConfigError
    from mstad.runs.view import find_runs

    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError('the dashboard needs streamlit: pip install -e ".[dashboard]"')
    if not find_runs(runs):
        raise ConfigError(f"no run folders in {', '.join(map(str, runs))}; run `mstad run` first")
    script = Path(__file__).parent / "app" / "dashboard.py"
    env = {**os.environ, "MSTAD_RUNS": os.pathsep.join(str(r.resolve()) for r in runs)}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--client.toolbarMode",
        "minimal",
        "--browser.gatherUsageStats",
        "false",
    ]
    console.print(f"dashboard on http://{host}:{port} (Ctrl-C stops it)")
    sys.stdout.flush()
    # become Streamlit (no child left behind): SIGTERM / SIGINT to this pid reach the server
    os.execve(sys.executable, command, env)


@app.command()
def prepare(
    config: Annotated[Path, typer.Argument(help="prepare config (YAML), see configs/prepare.yaml")],
) -> None:
    """Raw plant CSV folders + process schedule → a prepared data set (`--dataset csv`)."""
    from mstad.data.plant import load_prepare_config
    from mstad.data.plant import prepare as run_prepare

    result = run_prepare(load_prepare_config(config))
    manifest = result.manifest

    def batches(split: str) -> str:
        n = len(manifest["batches"][split])
        return f"{n} batch{'' if n == 1 else 'es'}"

    console.print(
        f"prepared {manifest['name']}: {len(manifest['sensors'])} sensors, stages "
        f"{', '.join(manifest['stages'])}; train {manifest['rows']['train']:,} rows "
        f"({batches('train')}), test {manifest['rows']['test']:,} rows ({batches('test')}), "
        f"{manifest['anomalies']} labelled anomalies"
    )
    for line in result.report.summary():
        console.print(f"  {line}", highlight=False)
    for warning in manifest["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(
        f"written: {result.output_dir} (loss report: report.csv)\n"
        f"next: mstad run --dataset csv --data-dir {result.output_dir} --model mscred"
    )


@app.command("example-plant")
def example_plant(
    out: Annotated[Path, typer.Argument(help="folder to write raw/, schedule, labels, config")],
    train_batches: Annotated[int, typer.Option(min=1)] = 4,
    test_batches: Annotated[int, typer.Option(min=1)] = 2,
    stage_seconds: Annotated[str, typer.Option(help="lengths of the 3 stages")] = "300,600,300",
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Write an example plant (raw batch CSVs, schedule, labels, prepare.yaml) to try prepare."""
    from mstad.data.plant import make_example_plant
    from mstad.errors import ConfigError

    try:
        stages = tuple(int(s) for s in stage_seconds.split(","))
    except ValueError:
        stages = ()
    if len(stages) != 3 or min(stages) < 30:
        raise ConfigError(
            f"--stage-seconds {stage_seconds!r}: need 3 integers ≥ 30, e.g. 300,600,300"
        )
    path = make_example_plant(
        out,
        n_train_batches=train_batches,
        n_test_batches=test_batches,
        stage_seconds=stages,
        seed=seed,
    )
    console.print(f"written: {out}/raw, schedule.csv, labels.csv\nnext: mstad prepare {path}")


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
    threshold: Annotated[str, typer.Option(help="pot, quantile, max_validation or ndt")] = "pot",
    force: Annotated[bool, typer.Option(help="replace an existing model folder")] = False,
) -> None:
    """Fit a detector on training data once and write a model folder (for score / stream)."""
    from mstad.config import parse_params
    from mstad.deploy.fit import check_fit, fit_model, training_table

    params = parse_params(param)
    limits = {"method": threshold}
    check_fit(out, model, params, seed, limits, force)
    table, preparation, training = training_table(data, dataset, data_dir, entity)
    fitted = fit_model(table, preparation, training, out, model, params, seed, limits, force)
    info = fitted.info
    console.print(
        f"fitted {info['model']} on {table.source}: {len(table.values):,} steps × "
        f"{len(table.sensors)} sensors in {info['training']['fit_s']:.1f} s; threshold "
        f"{info['threshold']['method']} = {fitted.threshold:.3f} (validation steps above it: "
        f"{100 * info['validation']['alarm_rate']:.2f} %)\n"
        f"written: {out} (model card: {out}/README.md)\nnext:    mstad score {out} NEW_DATA",
        highlight=False,
    )


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
        f"scored {table.source}: {len(steps):,} steps, max score {steps['score'].max():.2f}, "
        f"{int(steps['alarm'].sum()):,} alarm steps in {len(events)} events at threshold "
        f"{scored.threshold:.3f}",
        highlight=False,
    )
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
        console.print(f"written: {', '.join(str(p) for p in written)}", highlight=False)


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
    return str(value)


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
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
