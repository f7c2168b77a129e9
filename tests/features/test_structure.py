"""The one structure test (ensemble's pca gate, MSCRED's target="auto"): values on known cases."""

import numpy as np

from mstad.features import structure
from mstad.features.structure import shares_structure, structure_stats


def test_sensors_on_two_shared_factors_share_structure_and_independent_ones_do_not():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(2000, 2))
    shared = factors @ rng.normal(size=(2, 10)) + 0.05 * rng.normal(size=(2000, 10))
    assert structure_stats(shared)[:2] == (2, 10) and shares_structure(shared)
    independent = rng.normal(size=(2000, 10))
    needed, moving, _ = structure_stats(independent)
    assert moving == 10 and needed >= 9 and not shares_structure(independent)


def test_constant_sensors_are_left_out_and_one_moving_sensor_has_no_structure():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=500), np.full(500, 3.0), np.zeros(500)])
    assert structure_stats(x)[:2] == (0, 1) and not shares_structure(x)
    two = np.column_stack([x[:, 0], 2 * x[:, 0] + 1e-3 * rng.normal(size=500), np.ones(500)])
    assert structure_stats(two)[:2] == (1, 2) and shares_structure(two)  # one of two: half


def test_a_few_sensors_on_a_few_factors_share_structure_through_their_quiet_directions(
    monkeypatch,
):
    """5 sensors on 3 factors need 3 > 2.5 components, but the 2 directions left are quiet."""
    rng = np.random.default_rng(2)
    coupled = rng.normal(size=(3000, 3)) @ rng.normal(size=(3, 5)) + 0.05 * rng.normal(
        size=(3000, 5)
    )
    needed, moving, rest = structure_stats(coupled)
    assert (needed, moving) == (3, 5) and rest < 0.01 and shares_structure(coupled)
    monkeypatch.setattr(structure, "QUIET", None)
    assert not shares_structure(coupled)  # the component count alone misses it
    monkeypatch.undo()
    independent = rng.normal(size=(3000, 5))
    assert structure_stats(independent)[2] > 0.5 and not shares_structure(independent)
