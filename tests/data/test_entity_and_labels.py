import numpy as np
import pytest

from mstad.data import (
    Dataset,
    Entity,
    Interval,
    intervals_to_labels,
    labels_to_intervals,
    merge_intervals,
)
from mstad.errors import DataError


def test_intervals_are_inclusive_and_round_trip():
    labels = intervals_to_labels([Interval(2, 4), Interval(7, 7)], 10)
    assert labels.tolist() == [0, 0, 1, 1, 1, 0, 0, 1, 0, 0]
    assert labels_to_intervals(labels) == [Interval(2, 4), Interval(7, 7)]
    assert Interval(2, 4).length == 3


def test_merge_unites_overlaps_and_causes():
    merged = merge_intervals(
        [Interval(5350, 6575, (1,)), Interval(5300, 6420, (2,)), Interval(7000, 7001)]
    )
    assert merged == [Interval(5300, 6575, (1, 2)), Interval(7000, 7001)]
    assert merge_intervals([Interval(0, 1), Interval(3, 4)], gap=1) == [Interval(0, 4)]


def test_entity_rejects_mismatched_shapes():
    x = np.zeros((20, 3), np.float32)
    with pytest.raises(DataError, match="train has 3 sensors but test has 2"):
        Entity("e", x, np.zeros((20, 2), np.float32), None)
    with pytest.raises(DataError, match="19 labels for 20 test steps"):
        Entity("e", x, x, np.zeros(19, bool))
    assert Entity("e", x, x, None).sensors == ("s0", "s1", "s2")
    with pytest.raises(DataError, match=r"flag sensors \[1, 3\] are not all among the 3"):
        Entity("e", x, x, None, flags=(1, 3))


def test_dataset_select_names_unknown_entities():
    x = np.zeros((20, 1), np.float32)
    ds = Dataset("d", (Entity("a", x, x, None), Entity("b", x, x, None)))
    assert ds.select(["b"]).names == ["b"]
    with pytest.raises(DataError, match="unknown entity zz; available: a, b"):
        ds.select(["zz"])
