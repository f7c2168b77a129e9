"""Streaming (mstad.models.streaming): chunked scores equal the batch scores, memory is bounded,
and what cannot be streamed says so in one line."""

import numpy as np
import pytest

from mstad.errors import DataError, MstadError
from mstad.features.windows import window_starts, windows_to_steps
from mstad.models import make_detector
from mstad.models.streaming import Monitor, stream_scores
from tests.models.test_contract import FAST, NAMES, data

CHUNKS = (1, 7, 500)


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    train, test = data()
    return make_detector(request.param, **FAST.get(request.param, {})).fit(train), test


def test_every_detector_streams_as_the_batch_scores_or_says_why_not(fitted):
    detector, test = fitted
    batch = detector.score(test)
    # end-aligned samples / whole-past tuning / telemanom's EWMA over every earlier error
    if detector.name in ("mscred", "msflow", "lstm_ad"):
        with pytest.raises(MstadError, match="cannot be streamed.*mstad score"):
            Monitor(detector)
        return
    monitor = Monitor(detector)
    assert monitor.delay >= 0
    # float32 networks round differently when a batch holds other windows (a few ulps of float32)
    rtol = 1e-5 if "device" in detector.param_names() else 0.0
    for chunk in CHUNKS:
        np.testing.assert_allclose(
            stream_scores(detector, test, chunk), batch, atol=1e-6, rtol=rtol
        )


def test_msflow_with_the_fitted_flow_streams_as_the_batch():
    train, test = data()
    params = {**FAST["msflow"], "reference": "train"}
    detector = make_detector("msflow", **params).fit(train)
    batch = detector.score(test)
    for chunk in (7, 500):
        np.testing.assert_allclose(stream_scores(detector, test, chunk), batch, atol=1e-6)


def test_scores_are_emitted_once_final_and_the_rest_at_flush():
    train, test = data()
    detector = make_detector("knn", window=20).fit(train)
    monitor = Monitor(detector, threshold=1.0)
    assert monitor.delay == 19
    out = monitor.update(test[:100])
    assert len(out) == 100 - 19 and monitor.steps_out == 81
    rest = monitor.flush()
    assert len(rest) == 19 and monitor.flush().size == 0
    np.testing.assert_allclose(np.concatenate([out, rest]), detector.score(test[:100]), atol=1e-9)
    assert monitor.alarms(np.array([0.5, 1.5])).tolist() == [False, True]
    with pytest.raises(MstadError, match="flushed"):
        monitor.update(test[:1])


def test_a_chunk_with_the_wrong_sensors_or_values_is_refused():
    train, test = data()
    monitor = Monitor(make_detector("zscore").fit(train))
    with pytest.raises(DataError, match="4 sensors"):
        monitor.update(test[:5, :3])
    bad = test[:5].copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="chunk at step 0"):
        monitor.update(bad)


def test_discord_memory_is_bounded_and_the_past_beyond_the_budget_is_the_most_recent():
    rng = np.random.default_rng(3)
    train = np.cumsum(rng.normal(size=(300, 1)), axis=0).astype(np.float32)
    test = np.cumsum(rng.normal(size=(600, 1)), axis=0).astype(np.float32)
    w, budget = 10, 40
    detector = make_detector(
        "discord",
        windows=(w,),
        reference="train+past",
        max_train_windows=100,
        max_past_windows=budget,
    ).fit(train)
    monitor = Monitor(detector)  # the detector's own budget
    parts = [monitor.update(test[lo : lo + 7]) for lo in range(0, len(test), 7)]
    streamed = np.concatenate([*parts, monitor.flush()])
    assert monitor.streamer.x.shape[1] <= budget + 2 * w + 7  # rows kept, not the series
    # direct computation of the documented rule: past windows p with s-w+1-budget <= p <= s-w
    z = detector.scaler_.transform(test[:, detector.columns_])[:, 0].astype(np.float32)
    ref = detector.train_[:, 0].astype(np.float64)
    starts_train = range(len(ref) - w + 1 - 100, len(ref) - w + 1)  # the most recent 100
    train_windows = np.stack([ref[s : s + w] for s in starts_train])
    windows = np.stack([z[s : s + w] for s in range(len(z) - w + 1)]).astype(np.float64)
    dist = np.empty(len(windows))
    for s, q in enumerate(windows):
        cands = [train_windows, windows[max(0, s - w + 1 - budget) : max(0, s - w + 1)]]
        dist[s] = np.sqrt(((np.concatenate(cands) - q) ** 2).sum(axis=1).min())
    steps = windows_to_steps(dist / np.sqrt(w), window_starts(len(z), w), w, len(z))
    expected = detector.calibration_.apply(detector._combine(steps[:, None]))
    np.testing.assert_allclose(streamed, expected, atol=1e-6)
    # the batch with the same budget follows the same rule: batch = stream at any length
    np.testing.assert_allclose(detector.score(test), streamed, rtol=1e-9, atol=1e-9)
    unbounded = make_detector("discord", windows=(w,), max_train_windows=100).fit(train)
    assert not np.allclose(unbounded.score(test), streamed)  # the budget does bind here


def test_a_streamed_series_shorter_than_the_longest_window_matches_the_batch():
    train, test = data()
    detector = make_detector("discord", windows=(10, 120)).fit(train)
    short = test[:80]  # the batch shortens the 120-step window to the series
    np.testing.assert_allclose(stream_scores(detector, short, 7), detector.score(short), atol=1e-9)


@pytest.mark.parametrize("scales", ["distance", "surprise"])
def test_discord_with_both_views_streams_as_the_batch(scales):
    train, test = data()
    detector = make_detector("discord", windows=(10, 40), reference="both", scales=scales)
    detector.fit(train)
    batch = detector.score(test)
    for chunk in (1, 7, 500):
        np.testing.assert_allclose(stream_scores(detector, test, chunk), batch, atol=1e-9)


@pytest.mark.parametrize("reference", ["train", "both"])
def test_a_discord_stream_updates_each_window_from_the_one_before(reference):
    """O(reference) per row: every length's next window follows from the previous one's
    distances (the kept rows include the row before it), not a direct recomputation — with
    training alone as reference too, where no past rows are kept otherwise."""
    train, test = data()
    monitor = Monitor(make_detector("discord", windows=(10, 40), reference=reference).fit(train))
    for row in test[:300]:
        monitor.update(row)
    states = [rows.state for scale in monitor.streamer.scales for rows in scale.rows]
    assert all(state[0] >= 0 and state[3] > 100 for state in states)
