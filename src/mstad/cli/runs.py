"""``mstad demo``, ``run``, ``evaluate``, ``benchmark``, ``datasets``, ``report`` and ``dashboard``:
fit and score data sets, and look at the runs."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mstad import DEFAULT_MODEL
from mstad.cli.app import _fmt, _progress, _show, app, console, plain
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


def _print_metrics(result) -> None:
    from rich.table import Table

    metrics = result.metrics
    if PROTOCOLS[0] not in metrics:
        console.print(
            f"[yellow]no labelled test data: scores written to {plain(result.path)}[/yellow]"
        )
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
        f"wall time {result.timing['wall_s']:.1f} s → {plain(result.path)}",
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


def _execute(config, run_dir: Path | None = None):
    """Run ``config`` with progress: entities done, and one line per entity at work (in this
    process or a local worker) with its phase, epochs or scoring blocks."""
    from mstad.data import load_dataset
    from mstad.progress import Step, reporting
    from mstad.runs import run_experiment
    from mstad.runs.runner import check_config

    check_config(config)  # a misspelt model or parameter is reported before the data load
    dataset = load_dataset(
        config.dataset, config.data_dir, config.entities, **config.dataset_options
    )
    with _progress() as progress:
        task = progress.add_task(f"{config.model} on {dataset.name}", total=len(dataset))
        lanes: dict[str, Any] = {}  # entity → its line; None once the entity is done
        lock = threading.Lock()  # reports of workers arrive on a thread of their own

        def detail(step: Step) -> None:
            with lock:
                if step.lane not in lanes:
                    lanes[step.lane] = progress.add_task("", total=None)
                if lanes[step.lane] is not None:
                    _show(progress, lanes[step.lane], step)

        def entity_done(name: str) -> None:
            progress.advance(task)
            with lock:
                if lanes.get(name) is not None:
                    progress.remove_task(lanes[name])
                lanes[name] = None

        with reporting(detail):
            result = run_experiment(config, entity_done, run_dir=run_dir, dataset=dataset)
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
        str | None,
        typer.Option(help="pot, surprise, quantile, max_validation or ndt (fitted on validation)"),
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
        from mstad.errors import ConfigError
        from mstad.runs.runner import read_run_config

        fixed = {
            "--dataset": dataset,
            "--model": model,
            "--config": config,
            "--param": param or None,
            "--entities": entities,
            "--seed": seed,
            "--device": device,
            "--out": out,
            "--save-models": save_models,
            "--explain": explain,
            "--threshold": threshold,
        }
        given = [option for option, value in fixed.items() if value is not None]
        if given:
            raise ConfigError(
                f"--resume finishes {resume} with the settings it started with; "
                f"{', '.join(given)} cannot change there (drop it, or start a new run); "
                "--data-dir, --n-jobs, --executor and --address may"
            )
        where = {"data_dir": data_dir, "n_jobs": n_jobs, "executor": executor}
        _execute(read_run_config(resume, {**where, "ray_address": address}), run_dir=resume)
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
    table = Table(title=f"data sets under {plain(folder)}")
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
        console.print(f"[red]✗[/red] {plain(problem)}", highlight=False, soft_wrap=True)


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
    script = Path(__file__).parent.parent / "app" / "dashboard.py"
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
