"""Industrial sensor CSV folders: raw batch CSVs + process schedule → a prepared data set.

``prepare(config)`` (CLI: ``mstad prepare CONFIG.yaml``) reads every batch folder, aligns files on
one time grid, slices by the process schedule, normalises per stage with statistics from training
batches only and writes parquet + ``manifest.json``; ``load_prepared`` (data set ``csv``) turns
that folder into an :class:`~mstad.data.Entity`. Every dropped, filled or clipped row is counted
in a loss report.
"""

from mstad.data.plant.config import PrepareConfig, load_prepare_config
from mstad.data.plant.example import make_example_plant
from mstad.data.plant.loader import load_prepared
from mstad.data.plant.normalize import StageNormalizer
from mstad.data.plant.prepare import PrepareResult, prepare
from mstad.data.plant.report import LossReport

__all__ = [
    "LossReport",
    "PrepareConfig",
    "PrepareResult",
    "StageNormalizer",
    "load_prepare_config",
    "load_prepared",
    "make_example_plant",
    "prepare",
]
