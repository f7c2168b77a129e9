"""VUS / range-AUC against the reference transcription, and event metrics on hand-worked cases."""

import numpy as np
import pytest

from mstad.evaluation import point_adjust, range_auc, threshold_metrics, vus
from mstad.evaluation.metrics import oracle_event_f1
from tests.evaluation.vus_reference import reference_vus


def _case(seed, n=400, ties=False):
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, bool)
    labels[50:60] = labels[62:70] = labels[200:240] = labels[n - 5 :] = True
    scores = rng.normal(size=n) + 1.5 * labels
    if ties:
        scores = np.round(scores, 1)
    return labels, scores


@pytest.mark.parametrize(
    ("seed", "window", "ties"), [(0, 10, False), (1, 25, False), (2, 16, True), (3, 0, False)]
)
def test_vus_matches_the_reference_loop(seed, window, ties):
    labels, scores = _case(seed, ties=ties)
    ref_roc, ref_pr, aucs, aps = reference_vus(labels, scores, window)
    got_roc, got_pr = vus(labels, scores, window)
    assert got_roc == pytest.approx(ref_roc, abs=1e-12)
    assert got_pr == pytest.approx(ref_pr, abs=1e-12)
    assert range_auc(labels, scores, window) == pytest.approx((aucs[-1], aps[-1]), abs=1e-12)


def test_vus_hand_worked_perfect_and_random():
    labels = np.zeros(300, bool)
    labels[100:110] = True
    roc, pr = vus(labels, labels.astype(float), 0)  # buffer 0 = plain range-AUC
    # 250 thresholds over 300 ranks: the first 9 picks (ranks 0..9) are all anomalies
    assert roc == pytest.approx(1.0, abs=0.02) and pr == pytest.approx(1.0)
    inverted = vus(labels, -labels.astype(float), 10)
    assert inverted[1] < 0.2


def test_undefined_without_both_classes():
    assert all(np.isnan(v) for v in vus(np.zeros(50, bool), np.arange(50.0), 10))


LABELS = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0], dtype=bool)


def test_point_adjust_and_threshold_metrics_hand_worked():
    predicted = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0], dtype=bool)
    assert point_adjust(LABELS, predicted).astype(int).tolist() == [
        0,
        1,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
    ]
    m = threshold_metrics(LABELS, predicted.astype(float), 0.5)
    # point: TP 1, P 2 predicted -> precision 1/2, recall 1/5
    assert m["precision"] == 0.5 and m["recall"] == pytest.approx(0.2)
    assert m["f1"] == pytest.approx(2 * 0.5 * 0.2 / 0.7)
    # composite: point precision 1/2, event recall 1/2 (first event hit, second missed)
    assert m["composite_f1"] == pytest.approx(0.5)
    # point-adjusted: TP 3 of 4 predicted, recall 3/5
    assert m["pa_f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_oracle_event_f1_against_a_threshold_sweep():
    rng = np.random.default_rng(3)
    labels = np.zeros(200, bool)
    labels[20:30] = labels[90:95] = labels[150:180] = True
    scores = np.round(rng.normal(size=200) + labels, 2)
    best_c = best_pa = 0.0
    for threshold in np.unique(scores):
        m = threshold_metrics(labels, scores, threshold - 1e-9)  # ">= threshold"
        best_c, best_pa = max(best_c, m["composite_f1"]), max(best_pa, m["pa_f1"])
    composite, pa = oracle_event_f1(labels, scores)
    assert composite == pytest.approx(best_c) and pa == pytest.approx(best_pa)


def test_random_scores_get_inflated_pa_f1():
    """Why PA is always printed with a warning: noise gets a high PA-F1 on long events."""
    labels = np.zeros(10_000, bool)
    for start in range(500, 10_000, 1000):
        labels[start : start + 200] = True
    scores = np.random.default_rng(0).random(10_000)
    composite, pa = oracle_event_f1(labels, scores)
    assert pa > 0.6  # a random score
    m = threshold_metrics(labels, scores, 0.99)
    assert m["f1"] < 0.2 < m["pa_f1"]


def test_range_auc_hand_worked_six_steps():
    """labels 0 0 1 1 0 0, scores ranked: t2 (anomaly), t4, t3 (anomaly), t1, t0, t5.

    Buffer 0 reduces to plain ROC/PR: AUROC 7/8, AP (1 + 2/3) / 2.
    Buffer 2 gives t1 and t4 the soft label b = sqrt(1 - 1/2); with P = 2, at each count n:
      TP = anomalies + b·(buffer points in the top n), P' = 2 + (b·buffer points)/2,
      TPR = min(TP/P', 1) (the one buffered segment is hit from n = 1), FPR = (n - TP)/(6 - P').
    """
    labels = np.array([0, 0, 1, 1, 0, 0], dtype=bool)
    scores = np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.0])
    assert range_auc(labels, scores, 0) == pytest.approx((7 / 8, (1 + 2 / 3) / 2))
    b = np.sqrt(0.5)
    tp = np.array([1, 1 + b, 2 + b, 2 + 2 * b, 2 + 2 * b, 2 + 2 * b])
    p_new = 2 + np.array([0, b, b, 2 * b, 2 * b, 2 * b]) / 2
    n = np.arange(1, 7)
    tpr = np.minimum(tp / p_new, 1)
    fpr = (n - tp) / (6 - p_new)
    t, f = np.r_[0, tpr, 1], np.r_[0, fpr, 1]
    roc = np.sum((f[1:] - f[:-1]) * (t[1:] + t[:-1]) / 2)  # 250 picks only repeat points
    pr = np.sum((t[1:-1] - t[:-2]) * tp / n)
    assert roc == pytest.approx(0.96885, abs=1e-4)
    assert range_auc(labels, scores, 2) == pytest.approx((roc, pr), abs=1e-12)
