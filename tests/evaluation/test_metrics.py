import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from mstad.evaluation import aggregate, best_f1, entity_metrics

LABELS = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)


def test_perfect_inverted_and_constant_scores():
    perfect = entity_metrics(LABELS, LABELS.astype(float))
    for key in ("auroc", "ap", "best_f1", "best_composite_f1", "best_pa_f1"):
        assert perfect[key] == 1.0, key
    inverted = entity_metrics(LABELS, -LABELS.astype(float))
    assert inverted["auroc"] == 0.0
    constant = entity_metrics(LABELS, np.zeros(10))
    assert constant["auroc"] == 0.5 and constant["ap"] == pytest.approx(0.3)


def test_hand_worked_case():
    scores = np.array([0.1, 0.2, 0.9, 0.4, 0.3, 0.0, 0.5, 0.8, 0.1, 0.2])
    m = entity_metrics(LABELS, scores)
    # positives 0.9, 0.4, 0.8 vs 7 negatives: 0.4 beats 5 of them (0.1,0.2,0.3,0.0,0.1,0.2 → 6)
    assert m["auroc"] == pytest.approx((7 + 7 + 6) / 21)
    # ranking: 0.9+ 0.8+ 0.5- 0.4+ → AP = (1 + 1 + 3/4) / 3
    assert m["ap"] == pytest.approx((1 + 1 + 0.75) / 3)
    f1, threshold = best_f1(LABELS, scores)
    # at 0.8: P=1, R=2/3, F1=0.8; at 0.4: P=3/4, R=1, F1=6/7 (the best)
    assert f1 == pytest.approx(6 / 7) and threshold == pytest.approx(0.4)


def test_agrees_with_scikit_learn_on_random_scores():
    rng = np.random.default_rng(0)
    labels = rng.random(5000) < 0.1
    scores = rng.normal(size=5000) + labels
    m = entity_metrics(labels, scores)
    assert abs(m["auroc"] - roc_auc_score(labels, scores)) < 1e-9
    assert abs(m["ap"] - average_precision_score(labels, scores)) < 1e-9


def test_single_class_is_undefined_and_left_out_of_the_mean():
    assert math.isnan(entity_metrics(np.zeros(5, bool), np.arange(5.0))["auroc"])
    result = aggregate(
        {
            "a": (LABELS, LABELS.astype(float)),
            "b": (LABELS, -LABELS.astype(float)),
            "c": (np.zeros(4, bool), np.arange(4.0)),
        }
    )
    assert result["n_entities"] == 3 and result["n_undefined"] == 1
    assert result["per_entity_mean"]["auroc"] == 0.5
    labels = np.concatenate([LABELS, LABELS, np.zeros(4, bool)])
    scores = np.concatenate([LABELS, -LABELS.astype(float), np.arange(4.0)])
    assert result["concat"]["auroc"] == pytest.approx(roc_auc_score(labels, scores))
    assert result["positive_rate"] == pytest.approx(6 / 24)
