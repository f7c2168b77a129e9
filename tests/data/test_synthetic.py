import numpy as np
import pytest

from mstad.data import load_dataset, make_synthetic
from mstad.data.synthetic import PAPER_ANOMALIES, load_synthetic, shock


def test_paper_layout_and_labels():
    entity = load_dataset("synthetic").entities[0]
    assert entity.train.shape == (10_000, 30) and entity.test.shape == (10_000, 30)
    assert [iv.length for iv in entity.intervals] == [10, 30, 90, 10, 30]
    assert [iv.end + 1 + 10_000 for iv in entity.intervals] == [r[0] for r in PAPER_ANOMALIES]
    assert [iv.causes for iv in entity.intervals][0] == (24, 15, 28)
    assert int(entity.labels.sum()) == 170


@pytest.mark.realdata
def test_positions_match_the_authors_label_file(real_data):
    rows = np.loadtxt(real_data / "mscred" / "test_anomaly.csv", delimiter=",", dtype=int)
    assert [tuple(r) for r in rows] == list(PAPER_ANOMALIES)


def test_anomalies_sit_only_in_root_cause_sensors():
    clean = make_synthetic(
        n_sensors=6, n_steps=3000, train_end=1500, n_anomalies=3, amplitude=0.0, seed=4
    )
    dirty = make_synthetic(n_sensors=6, n_steps=3000, train_end=1500, n_anomalies=3, seed=4)
    np.testing.assert_array_equal(clean.train, dirty.train)
    changed = np.abs(dirty.test - clean.test) > 1e-6
    for iv in dirty.intervals:
        assert changed[iv.start : iv.end + 1][:, list(iv.causes)].any(axis=0).all()
    expected = np.zeros_like(changed)
    for iv in dirty.intervals:
        expected[iv.start : iv.end + 1, list(iv.causes)] = True
    assert not (changed & ~expected).any()


def test_seeded_and_noise_level():
    a = make_synthetic(n_sensors=4, n_steps=4000, train_end=2000, seed=1)
    b = make_synthetic(n_sensors=4, n_steps=4000, train_end=2000, seed=1)
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.array_equal(
        a.test, make_synthetic(n_sensors=4, n_steps=4000, train_end=2000, seed=2).test
    )
    quiet = make_synthetic(n_sensors=4, n_steps=4000, train_end=2000, noise=0.0, seed=1)
    assert np.std(a.train - quiet.train) == pytest.approx(0.3, rel=0.05)
    assert shock(10)[0] == pytest.approx(1.0) and abs(shock(10)).max() <= 1.0


def test_shock_is_a_friedlander_positive_phase():
    s = shock(30, amplitude=2.0)
    assert s[0] == pytest.approx(2.0) and (s > 0).all() and (np.diff(s) < 0).all()
    u = np.arange(30) / 30
    np.testing.assert_allclose(s, 2.0 * (1 - u) * np.exp(-u))


def test_shocks_stand_out_of_the_noise_in_signature_matrices():
    """The anomalies must be visible in the representation itself, before any detector."""
    from mstad.features.signature import signature_matrices

    def matrices(entity):
        return signature_matrices(np.concatenate([entity.train, entity.test]).astype(float))

    noisy, ends = matrices(make_synthetic(amplitude=0.0))
    quiet, _ = matrices(make_synthetic(amplitude=0.0, noise=0.0))
    noise_p99 = np.percentile(np.abs(noisy - quiet)[:, 0], 99)
    entity = make_synthetic()
    dirty, _ = matrices(entity)
    for iv in entity.intervals:
        start, end = iv.start + 10_000, iv.end + 1 + 10_000
        near = (ends > start) & (ends <= end + 10)
        rows = np.abs(dirty - noisy)[near][:, 0][:, list(iv.causes)].max(axis=0)
        assert (rows > noise_p99).mean() > 0.4, iv


def test_several_entities_have_their_own_seeds_and_names():
    small = {"n_sensors": 4, "n_steps": 600, "train_end": 300, "n_anomalies": 1}
    dataset = load_synthetic(n_entities=3, seed=5, **small)
    assert [e.name for e in dataset.entities] == ["synthetic-0", "synthetic-1", "synthetic-2"]
    assert np.array_equal(dataset.entities[1].train, make_synthetic(seed=6, **small).train)
    assert not np.array_equal(dataset.entities[0].train, dataset.entities[1].train)
