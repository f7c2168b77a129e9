import numpy as np
import pytest

from mstad.data import Interval
from mstad.evaluation.rootcause import (
    hitrate_at_p,
    ndcg_at_p,
    rank_sensors,
    recall_at_k,
    root_cause_metrics,
)


def explain_fixture():
    """5 sensors, 4 steps; interval [1, 2] with causes {0, 3}."""
    e = np.zeros((4, 5))
    e[1] = [5, 1, 0, 4, 0]  # step 1 ranks 0, 3, 1: both causes on top
    e[2] = [3, 9, 0, 0, 1]  # step 2 ranks 1, 0, 4: one cause in the top 2
    return e, [Interval(1, 2, (0, 3)), Interval(3, 3)]  # the second has no causes


def test_recall_at_k_hand_worked():
    e, ivs = explain_fixture()
    assert rank_sensors(e, ivs[0]).tolist()[:3] == [1, 0, 3]  # sums 8, 10, 0, 4, 1
    assert recall_at_k(e, ivs, k=1) == 0.0
    assert recall_at_k(e, ivs, k=2) == 0.5
    assert recall_at_k(e, ivs, k=3) == 1.0


def test_hitrate_and_ndcg_hand_worked():
    e, ivs = explain_fixture()
    # P=100 %: top 2 per step. step 1: {0,3} -> 1.0; step 2: {1,0} -> 0.5
    assert hitrate_at_p(e, ivs, 100) == pytest.approx(0.75)
    # P=150 %: top 3. step 1: 1.0; step 2: {1,0,4} -> 0.5
    assert hitrate_at_p(e, ivs, 150) == pytest.approx(0.75)
    ideal = 1 + 1 / np.log2(3)
    step2 = (1 / np.log2(3)) / ideal  # the cause sits at rank 2
    assert ndcg_at_p(e, ivs, 100) == pytest.approx((1.0 + step2) / 2)


def test_no_labelled_causes_is_nan():
    e, _ = explain_fixture()
    assert all(np.isnan(v) for v in root_cause_metrics(e, [Interval(0, 1)]).values())
