"""Stage 1: entities (train, test, labels) from SMAP/MSL, SMD or the synthetic generator."""

from mstad.data.entity import Dataset, Entity, Interval
from mstad.data.labels import intervals_to_labels, labels_to_intervals, merge_intervals
from mstad.data.nasa import load_nasa
from mstad.data.registry import default_data_dir, load_dataset, reads_files, survey
from mstad.data.smd import load_smd
from mstad.data.synthetic import load_synthetic, make_synthetic

__all__ = [
    "Dataset",
    "Entity",
    "Interval",
    "default_data_dir",
    "reads_files",
    "intervals_to_labels",
    "labels_to_intervals",
    "load_dataset",
    "load_nasa",
    "load_smd",
    "load_synthetic",
    "make_synthetic",
    "merge_intervals",
    "survey",
]
