"""``mstad prepare`` and ``example-plant``: plant CSV folders into a data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mstad.cli.app import app, console, plain


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
        console.print(f"  {plain(line)}", highlight=False)
    for warning in manifest["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {plain(warning)}", highlight=False)
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
