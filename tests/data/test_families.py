"""Generated selection families: shapes for 2–40 sensors, labels and causes, determinism, and
anomalies that are really there (a simple detector of the right kind sees them)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.data.families import (
    FAMILIES,
    LATER_FAMILIES,
    LONG_FAMILIES,
    LONG_PLAN,
    N_TEST,
    N_TRAIN,
    SENSORS,
    SHORT_PLAN,
    make_family,
)
from mstad.errors import ConfigError
from mstad.models import make_detector


@pytest.mark.parametrize("family", FAMILIES + LONG_FAMILIES + LATER_FAMILIES)
def test_shapes_labels_and_causes(family):
    data = make_family(family)
    count, shortest, longest = LONG_PLAN if family.endswith("-long") else SHORT_PLAN
    assert [e.train.shape for e in data] == [(N_TRAIN, d) for d in SENSORS]
    for e in data:
        assert e.test.shape == (N_TEST, e.train.shape[1]) and e.labels.shape == (N_TEST,)
        assert len(e.intervals) == count
        assert e.labels.sum() == sum(iv.length for iv in e.intervals)
        assert all(shortest <= iv.length <= longest for iv in e.intervals)
        assert all(
            1 <= len(iv.causes) <= 3 and max(iv.causes) < e.train.shape[1] for iv in e.intervals
        )
        assert np.isfinite(e.train).all() and np.isfinite(e.test).all()


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = make_family("factors", 0), make_family("factors", 0), make_family("factors", 1)
    np.testing.assert_array_equal(a.entities[3].test, b.entities[3].test)
    assert not np.array_equal(a.entities[3].test, c.entities[3].test)


def test_anomalies_are_there_for_a_detector_of_the_right_kind():
    # correlation breaks: PCA's residual sees them on 10 sensors sharing factors
    factors = make_family("factors", sensors=(10,)).entities[0]
    pca = make_detector("pca").fit(factors.train)
    assert roc_auc_score(factors.labels, pca.score(factors.test)) > 0.85
    # level shifts / variance / stuck on independent sensors: the z-score sees part of them
    regimes = make_family("regimes", sensors=(10,)).entities[0]
    z = make_detector("zscore").fit(regimes.train)
    assert roc_auc_score(regimes.labels, z.score(regimes.test)) > 0.7


def test_long_families_are_the_short_generators_with_long_anomalies():
    # the same kind of normal data (a regimes sensor's spread), other draws; the short
    # families' data are unchanged by the long option (their first values, pinned)
    short, long = make_family("regimes", sensors=(5,)), make_family("regimes-long", sensors=(5,))
    assert 0.5 < long.entities[0].train.std() / short.entities[0].train.std() < 2
    assert not np.array_equal(short.entities[0].train, long.entities[0].train)
    np.testing.assert_allclose(
        make_family("factors", sensors=(2,)).entities[0].train[0], [1.6964, 2.2673], atol=1e-4
    )


def test_unknown_family():
    with pytest.raises(ConfigError, match="family 'waves' is unknown; choose one of factors"):
        make_family("waves")


def test_later_families_leave_the_first_six_unchanged():
    # seasonal-long's first training step on 5 sensors, as before lagged and servers existed
    np.testing.assert_allclose(
        make_family("seasonal-long", sensors=(5,)).entities[0].train[0],
        [-0.3183, 0.6235, -0.4089, 0.8100, 0.5063],
        atol=1e-4,
    )


def test_lagged_sensors_follow_the_driver_late_and_pca_sees_the_faults():
    two = make_family("lagged", sensors=(2,)).entities[0].train.astype(np.float64)
    driver, follower = two[:, 0], two[:, 1]
    lags = np.arange(0, 120)
    corr = [abs(np.corrcoef(driver[: len(driver) - k], follower[k:])[0, 1]) for k in lags]
    assert 5 <= lags[int(np.argmax(corr))] <= 80  # transport delay 5–40 plus the filter's lag
    ten = make_family("lagged", sensors=(10,)).entities[0]
    pca = make_detector("pca").fit(ten.train)
    assert roc_auc_score(ten.labels, pca.score(ten.test)) > 0.85


def test_server_metrics_look_like_server_metrics_and_their_faults_are_there():
    servers = make_family("servers", sensors=(10,)).entities[0]
    train = servers.train
    assert (train >= 0).all()
    integer = [j for j in range(10) if np.array_equal(train[:, j], np.round(train[:, j]))]
    assert integer  # request and error counts
    z = make_detector("zscore").fit(train)
    assert roc_auc_score(servers.labels, z.score(servers.test)) > 0.85
