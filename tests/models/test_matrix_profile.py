"""The exact k-th-neighbour profiles against a plain loop and against stumpy.aamp."""

import numpy as np
import pytest

import mstad.models.matrix_profile as mp
from mstad.models.matrix_profile import knn_profiles


def plain(q, r, w, k=1, past=True, max_ref=None, max_past=None):
    """The definition, step by step: the nearest training window, or the k-th past window taken
    greedily (each at least w from the ones before), whichever is nearer."""
    n, m = q.shape[1], r.shape[1]
    out = np.full(n, np.inf)
    for i in range(n - w + 1):
        window = q[:, i : i + w]
        train = list(range(m - w + 1))[-(max_ref or m) :]
        best = min(((window - r[:, j : j + w]) ** 2).sum() for j in train)
        earlier = list(range(max(0, i - w + 1)))
        earlier = earlier[-max_past:] if max_past and earlier else earlier
        found = []
        for d, j in sorted((((window - q[:, j : j + w]) ** 2).sum(), j) for j in earlier):
            if past and len(found) < k and all(abs(j - f) >= w for _, f in found):
                found.append((d, j))
        kth = found[k - 1][0] if len(found) == k else np.inf  # seen fewer than k times
        out[i] = min(best, kth)
    return out


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks and chunks far smaller than the series, so their seams are crossed."""
    monkeypatch.setattr(mp, "BLOCK", 37)
    monkeypatch.setattr(mp, "CHUNK", 23)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    ("k", "past", "max_ref", "max_past"),
    [(1, True, None, None), (1, False, None, None), (1, True, 40, 25), (2, True, None, None),
     (3, True, 40, 25), (2, False, None, None)],
)  # fmt: skip
def test_profiles_equal_the_definition(small_blocks, channels, k, past, max_ref, max_past):
    rng = np.random.default_rng(channels + 10 * k)
    q = np.cumsum(rng.normal(size=(channels, 260)), axis=1)
    r = np.cumsum(rng.normal(size=(channels, 150)), axis=1)
    windows = [5, 12, 30]
    got = knn_profiles(q, r, windows, k=k, past=past, max_reference=max_ref, max_past=max_past)
    assert got.shape == (3, 260)
    for row, w in zip(got, windows, strict=True):
        expected = plain(q, r, w, k, past, max_ref, max_past)
        assert np.isinf(row[260 - w + 1 :]).all()
        np.testing.assert_allclose(
            row[: 260 - w + 1], expected[: 260 - w + 1], rtol=1e-9, atol=1e-9
        )


def test_a_range_of_queries_equals_the_whole_series():
    rng = np.random.default_rng(3)
    q, r = rng.normal(size=(2, 500)), rng.normal(size=(2, 300))
    for k in (1, 2):
        whole = knn_profiles(q, r, [8, 20], k=k, max_past=100)
        part = knn_profiles(q, r, [8, 20], k=k, max_past=100, start=170, stop=260)
        np.testing.assert_allclose(part, whole[:, 170:260], rtol=1e-12, atol=1e-12)


def test_huge_offsets_do_not_swamp_later_distances():
    """A stretch 1e4 standard deviations away, then normal data again: the later distances are
    differences of running sums that passed through 50 × 1e8; their rounding stays within
    1e-14 of that sum (sums restart per block, so it never grows past one block's)."""
    rng = np.random.default_rng(4)
    r = rng.normal(size=(1, 400))
    q = rng.normal(size=(1, 600))
    q[0, 100:150] += 1e4
    got = knn_profiles(q, r, [10], past=False)[0]
    expected = plain(q, r, 10, past=False)
    fin = np.isfinite(expected)
    bound = 1e-14 * 50 * 1e8
    assert np.abs(got[fin] - expected[fin]).max() <= bound
    after = np.arange(len(q[0])) >= 150  # windows past the stretch: small distances again
    assert expected[fin & after].max() < 100


def test_bad_arguments_are_refused():
    x = np.zeros((1, 50))
    with pytest.raises(ValueError, match="windows"):
        knn_profiles(x, x, [60])
    with pytest.raises(ValueError, match="equal C"):
        knn_profiles(x, np.zeros((2, 50)), [5])
    with pytest.raises(ValueError, match="k=0"):
        knn_profiles(x, x, [5], k=0)


def test_equals_stumpy_aamp():
    """The AB-join against training data and the left profile of the series itself are
    stumpy's non-normalised matrix profile (``stumpy.aamp``) to 1e-6."""
    stumpy = pytest.importorskip("stumpy")
    rng = np.random.default_rng(5)
    train, test = np.cumsum(rng.normal(size=1500)), np.cumsum(rng.normal(size=1200))
    w = 50
    ab = stumpy.aamp(test, w, train, ignore_trivial=False)[:, 0].astype(float)
    got = np.sqrt(knn_profiles(test[None], train[None], [w], past=False)[0][: len(ab)])
    np.testing.assert_allclose(got, ab, atol=1e-6)
    # left profile: stumpy's left neighbours exclude only w/4 around the query; ours must end
    # before it begins, so compare to the direct left minimum over starts <= i - w
    both = np.sqrt(knn_profiles(test[None], train[None], [w])[0][: len(ab)])
    self_join = stumpy.aamp(test, w)
    left = np.full(len(ab), np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(test, w)
    for i in range(w, len(ab)):
        left[i] = np.sqrt(((windows[: i - w + 1] - windows[i]) ** 2).sum(axis=1).min())
    np.testing.assert_allclose(both, np.minimum(ab, left), atol=1e-6)
    assert self_join.shape[0] == len(ab)


@pytest.mark.parametrize(
    ("channels", "k", "past", "max_ref", "max_past"),
    [(1, 1, True, None, None), (2, 2, True, 40, 30), (1, 1, False, None, None), (1, 3, True, None, 25)],
)  # fmt: skip
def test_row_by_row_profiles_equal_the_batch(monkeypatch, channels, k, past, max_ref, max_past):
    """A stream's rows (each from the previous one, a direct row every BLOCK rows, the kept rows
    trimmed as a stream trims them) give the batch pass's distances."""
    monkeypatch.setattr(mp, "BLOCK", 29)
    rng = np.random.default_rng(channels + k)
    q = np.cumsum(rng.normal(size=(channels, 400)), axis=1)
    r = np.cumsum(rng.normal(size=(channels, 150)), axis=1)
    w = 9
    kw = dict(k=k, past=past, max_reference=max_ref, max_past=max_past)
    expected = knn_profiles(q, r, [w], **kw)[0][: 400 - w + 1]
    rows = mp.RowProfiles(r, w, **kw)
    got, offset = [], 0
    for lo in range(0, 400 - w + 1, 11):
        hi = min(lo + 11, 400 - w + 1)
        got.append(rows.advance(q[:, offset:], lo - offset, hi - offset))
        if max_past is not None:  # keep only what the next queries' past needs
            keep = max(0, hi - w + 1 - max_past)
            rows.shift(keep - offset)
            offset = keep
    np.testing.assert_allclose(np.concatenate(got), expected, rtol=1e-9, atol=1e-9)


def test_tiny_distances_keep_their_own_rounding(small_blocks):
    """A channel constant in training: test values of 1e-5 beside a stretch of 2. A distance is
    a difference of running sums along its own diagonal from its block's start, so its error is
    ~1e-16 of that diagonal's sum (here ≤ (37 + 20) × 4) — and windows before the stretch are
    exact to 1e-6 relative."""
    rng = np.random.default_rng(6)
    r = np.zeros((1, 120))
    q = 1e-5 * rng.normal(size=(1, 300))
    q[0, 100:140] = 2.0
    got = knn_profiles(q, r, [8, 20])
    for row, w in zip(got, [8, 20], strict=True):
        n = 300 - w + 1
        expected = plain(q, r, w)[:n]
        before = np.arange(n) + w <= 100
        np.testing.assert_allclose(row[:n][before], expected[before], rtol=1e-6, atol=0)
        assert np.abs(row[:n] - expected).max() <= 1e-15 * (37 + 20) * 4.0


@pytest.mark.realdata
def test_smap_d12_distances_equal_a_direct_computation(real_data):
    """SMAP D-12 is constant in training and moves in test: its nearest-window distances are
    ~1e-9 beside ~1. They equal a direct float64 computation to 1e-12 — a stale start of the
    running sums (since fixed) made them 4.5e-11 off, enough to move D-12's AUROC by 0.15."""
    import torch

    from mstad.data import load_dataset
    from mstad.models.discord import DiscordDetector

    entity = next(iter(load_dataset("smap", real_data, entities=["D-12"])))
    d = DiscordDetector(calibrate_sensors=False).fit(entity.train)
    x, r, w = d.standardized(entity.test)[0], d.train_[:, 0].astype(float), 25
    got = knn_profiles(x[None], r[None], [w])[0][: len(x) - w + 1]
    queries = torch.from_numpy(np.lib.stride_tricks.sliding_window_view(x, w).copy())
    train = torch.from_numpy(np.lib.stride_tricks.sliding_window_view(r, w).copy())
    expected = torch.cdist(queries, train).min(dim=1).values.numpy() ** 2
    for lo in range(0, len(queries), 1000):  # the past: windows that end before each begins
        block = torch.cdist(queries[lo : lo + 1000], queries).numpy() ** 2
        for i in range(lo, min(lo + 1000, len(queries))):
            if i >= w:
                expected[i] = min(expected[i], block[i - lo, : i - w + 1].min())
    assert np.abs(got - expected).max() < 1e-12


def test_vectorised_minima_equal_numpy_at_every_length():
    """The folds over ``llvm.minnum`` (vectorised, with a remainder loop) give numpy's minimum
    exactly at every length around the vector widths, inf when empty, and keep an inf."""
    rng = np.random.default_rng(0)
    for n in range(0, 70):
        a, b = rng.normal(size=n + 3), rng.normal(size=n + 3)
        a[1 + n // 2] = np.inf if n % 5 == 0 else a[1 + n // 2]
        want = np.min(a[1 : n + 1] - b[1 : n + 1]) if n else np.inf
        assert mp._min_diff(a, b, 1, n + 1) == want
        assert mp._min_of(a[1 : n + 1]) == (np.min(a[1 : n + 1]) if n else np.inf)
