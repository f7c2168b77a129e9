"""The ensemble behind ``--model best``: members on calibrated scores, each catching what the
other misses; persistence; bad parameters."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mstad.errors import ConfigError
from mstad.models import make_detector
from mstad.models.base import Detector, validation_split
from mstad.models.calibration import CAP
from mstad.models.ensemble import (
    EnsembleDetector,
    combine_scores,
    expected_gain,
    injected_validation,
    judge_spread,
)
from mstad.models.smoothing import smoothed
from mstad.models.streaming import stream_scores


def factor_data(n: int, seed: int) -> np.ndarray:
    """5 sensors driven by one shared slow factor plus small independent noise."""
    rng = np.random.default_rng(seed)
    factor = np.sin(2 * np.pi * np.arange(n) / 97) + 0.3 * np.sin(2 * np.pi * np.arange(n) / 31)
    gains = np.array([1.0, -0.8, 0.6, 1.2, -0.5])
    return factor[:, None] * gains + 0.05 * rng.normal(size=(n, 5))


def test_best_is_discord_and_structural_pca_by_mean():
    best = make_detector("best")
    assert isinstance(best, EnsembleDetector)
    assert best.members == ("discord", "pca") and best.combine == "mean"
    assert best.weighting == "structure+injected"


def test_structure_gate_keeps_pca_only_where_sensors_share_structure():
    shared = make_detector("best", weighting="structure").fit(factor_data(2000, 7))
    assert shared.weights_.tolist() == [0.5, 0.5]
    rng = np.random.default_rng(8)
    for weighting in ("structure", "structure+injected"):  # best's default gates first too
        independent = make_detector("best", weighting=weighting).fit(rng.normal(size=(2000, 6)))
        assert independent.weights_.tolist() == [1.0, 0.0]
        single = make_detector("best", weighting=weighting).fit(rng.normal(size=(2000, 1)))
        assert single.weights_.tolist() == [1.0, 0.0]


def test_catches_a_correlation_break_and_a_shape_change():
    train, test = factor_data(3000, 0), factor_data(2000, 1)
    labels = np.zeros(len(test), bool)
    # a correlation break: sensor 1 follows the factor with the wrong sign, within its range
    test[600:700, 1] = -test[600:700, 1]
    labels[600:700] = True
    # a shape change on every sensor: the factor frozen (all sensors stuck together)
    test[1400:1500] = test[1400]
    labels[1400:1500] = True
    ensemble = make_detector("ensemble", weighting="none").fit(train)  # the plain mean
    scores = ensemble.score(test)
    assert roc_auc_score(labels, scores) > 0.9
    assert roc_auc_score(labels[:1000], scores[:1000]) > 0.9  # the break alone
    contributions = ensemble.explain(test)
    assert contributions.shape == (2000, 5)
    assert (contributions[610:690].argmax(axis=1) == 1).mean() > 0.8


def test_save_load_round_trip(tmp_path):
    train, test = factor_data(1200, 2), factor_data(500, 3)
    detector = make_detector("best").fit(train)
    detector.save(tmp_path / "best")
    loaded = Detector.load(tmp_path / "best")
    np.testing.assert_allclose(loaded.score(test), detector.score(test))


def test_the_discord_member_takes_the_ensembles_reference_and_old_saves_keep_the_past(tmp_path):
    """best's discord member scores against training and training + past ("both", rounds 15
    and 22) and the judged members' weights are squared (rounds 21-22); an ensemble saved
    before either parameter existed is rebuilt with the past reference and the first power."""
    train = factor_data(1200, 2)
    best = make_detector("best").fit(train)
    assert best.discord_reference == "both" and best.power == 2
    assert best.discord_scales == "distance"  # rounds 27-28: "surprise" tied, an option
    assert best.members_[0].reference == "both" and best.members_[0].views == 2
    assert make_detector("best", discord_reference="train")._member("discord").reference == "train"
    surprise = make_detector("best", discord_scales="surprise")._member("discord")
    assert surprise.scales == "surprise" and surprise.reference == "both"
    best.save(tmp_path / "best")
    meta_file = tmp_path / "best" / "detector.json"
    meta = json.loads(meta_file.read_text())
    del meta["params"]["discord_reference"], meta["params"]["power"]
    del meta["params"]["discord_scales"], meta["params"]["judge_span"]
    meta_file.write_text(json.dumps(meta))
    member_file = tmp_path / "best" / "member_0" / "detector.json"  # discord had no `scales`
    member = json.loads(member_file.read_text())
    del member["params"]["scales"]
    member_file.write_text(json.dumps(member))
    old = Detector.load(tmp_path / "best")
    assert old.discord_reference == "train+past" and old.power == 1
    assert old.discord_scales == "distance" and old.members_[0].scales == "distance"
    assert old.judge_span == (10, 100)


def test_judged_members_drop_the_one_that_sees_nothing():
    """One telemetry-like sensor with shape anomalies: PCA's residual of a single sensor is
    noise, so judging the members on injected validation anomalies keeps discord alone."""
    rng = np.random.default_rng(4)
    t = np.arange(5000)
    x = (np.sin(2 * np.pi * t / 50) + 0.05 * rng.normal(size=5000))[:, None]
    train, test = x[:3000], x[3000:].copy()
    labels = np.zeros(2000, bool)
    for start in (400, 1100, 1700):
        test[start : start + 40, 0] = test[start, 0]  # stuck
        labels[start : start + 40] = True
    judged = make_detector("ensemble", weighting="injected", selection="close", combine="mean").fit(
        train
    )
    assert judged.member_auroc_[0] > judged.member_auroc_[1] + judged.margin
    assert judged.weights_.tolist() == [1.0, 0.0]
    discord = make_detector("discord", reference=judged.discord_reference).fit(train)
    np.testing.assert_allclose(
        roc_auc_score(labels, judged.score(test)),
        roc_auc_score(labels, discord.score(test)),
        atol=0.01,
    )


def test_judged_members_keep_pca_for_a_correlation_break():
    train, test = factor_data(3000, 0), factor_data(2000, 1)
    labels = np.zeros(len(test), bool)
    test[600:700, 1] = -test[600:700, 1]  # the wrong sign, within the sensor's range
    labels[600:700] = True
    judged = make_detector("ensemble", weighting="injected", combine="mean").fit(train)
    assert judged.weights_[1] > 0  # pca
    assert roc_auc_score(labels, judged.score(test)) > 0.9


def test_judging_repeats_and_is_saved(tmp_path):
    train, test = factor_data(1500, 5), factor_data(600, 6)
    a, b = (make_detector("ensemble", weighting="injected").fit(train) for _ in range(2))
    np.testing.assert_array_equal(a.member_auroc_, b.member_auroc_)
    a.save(tmp_path / "e")
    loaded = Detector.load(tmp_path / "e")
    np.testing.assert_array_equal(loaded.weights_, a.weights_)
    np.testing.assert_allclose(loaded.score(test), a.score(test))


def test_smoothing_averages_score_and_explanation_and_streams_as_the_batch():
    train, test = factor_data(1200, 2), factor_data(600, 3)
    test[300:310, 1] += 1.5  # a short break of one sensor
    plain = make_detector("best", shape_view=False).fit(train)
    smooth = make_detector("best", smoothing=10, shape_view=False).fit(train)
    # the combined member surprises (before the entity calibration) are the plain ones smoothed
    np.testing.assert_allclose(smooth.raw_score(test), smoothed(plain.raw_score(test), 10))
    assert smooth.validation_scores_.max() < CAP
    assert 300 <= int(np.argmax(smooth.score(test))) < 330
    np.testing.assert_allclose(smooth.explain(test), smoothed(plain.explain(test), 10), atol=1e-9)
    assert int(np.argmax(smooth.explain(test)[300:320].sum(axis=0))) == 1
    for chunk in (1, 7, 250):
        np.testing.assert_allclose(
            stream_scores(smooth, test, chunk), smooth.score(test), atol=1e-9
        )
    # with the shape view (the default) the smoothed members are averaged with it: streams too
    viewed = make_detector("best", smoothing=10).fit(train)
    members = viewed._combine([m.score(test) for m in viewed.members_])
    expected = viewed._with_shape(smoothed(members, 10), viewed.shape_.raw_score(test))
    np.testing.assert_allclose(viewed.raw_score(test), expected)
    np.testing.assert_allclose(stream_scores(viewed, test, 7), viewed.score(test), atol=1e-6)


def test_bad_parameters():
    for bad in (
        dict(members=()),
        dict(members=("ensemble",)),
        dict(combine="sum"),
        dict(weighting="oracle"),
        dict(selection="best"),
        dict(margin=2.0),
        dict(power=0),
        dict(copies=0),
        dict(smoothing=0.5),
        dict(judge_span=(100, 10)),
        dict(judge_span=(10,)),
        dict(judge_span=(0, 10)),
    ):
        field = next(iter(bad))
        with pytest.raises(ConfigError, match=f"model ensemble: (parameter )?{field}"):
            make_detector("ensemble", **bad)


def test_gate_then_judge_judges_only_the_members_the_structure_gate_lets_through():
    """weighting="structure+injected": independent sensors keep discord alone, unjudged;
    sensors on shared factors get both members judged, each weighed by the square of its
    AUROC - 0.5 (the default since round 21; the first power since round 19), or kept only
    within the margin of the best (the close rule)."""
    rng = np.random.default_rng(9)
    alone = make_detector("best").fit(rng.normal(size=(3000, 4)))
    assert alone.weights_.tolist() == [1.0, 0.0] and np.isnan(alone.member_auroc_).all()
    shared = make_detector("best").fit(factor_data(3000, 10))
    aurocs = shared.member_auroc_
    assert np.isfinite(aurocs).all() and aurocs.min() > 0.8
    gain = (aurocs - 0.5) ** 2
    np.testing.assert_allclose(shared.weights_, gain / gain.sum())
    linear = make_detector("best", power=1).fit(factor_data(3000, 10))  # the same judgement
    np.testing.assert_allclose(linear.member_auroc_, aurocs)
    np.testing.assert_allclose(linear.weights_, (aurocs - 0.5) / (aurocs - 0.5).sum())
    assert shared.weights_[1] > linear.weights_[1] > 0.5  # leans harder on the better member
    close = make_detector("best", selection="close").fit(factor_data(3000, 10))
    keep = aurocs >= aurocs.max() - close.margin
    assert keep.tolist() == [False, True]  # discord more than 0.05 below pca: dropped
    np.testing.assert_allclose(close.weights_, keep / keep.sum())


def test_gate_then_judge_falls_back_to_the_gate_where_the_tail_is_too_short_to_judge():
    """500 training steps leave no validation tail long enough for injected anomalies: both
    members the gate lets through stay, equally weighted, and nothing is marked as judged."""
    short = make_detector("best").fit(factor_data(500, 3))
    assert short.weights_.tolist() == [0.5, 0.5] and np.isnan(short.member_auroc_).all()
    longer = make_detector("best").fit(factor_data(1500, 3))
    aurocs = longer.member_auroc_
    assert np.isfinite(aurocs).all()
    np.testing.assert_allclose(longer.weights_, (aurocs - 0.5) ** 2 / ((aurocs - 0.5) ** 2).sum())


def test_subset_selection_keeps_the_combination_the_injected_copies_rank_best():
    """selection="subset" scores each member alone and both together on the injected copies:
    on sensors sharing one factor the pair beats `pca` alone, which the close rule keeps."""
    x = factor_data(3000, 10).astype(np.float32)  # as fit sees it (the injection seed)
    close = make_detector("best", selection="close").fit(x)
    subset = make_detector("best", selection="subset").fit(x)
    assert close.weights_.tolist() == [0.0, 1.0]  # discord more than 0.05 below pca
    assert subset.weights_.tolist() == [0.5, 0.5]
    np.testing.assert_allclose(subset.member_auroc_, close.member_auroc_)
    head = validation_split(len(x), subset.min_steps)
    labels, scores = subset._injected_scores(x, head, np.arange(2))
    pair = roc_auc_score(labels, combine_scores(subset.weights_, scores, "mean"))
    assert pair > subset.member_auroc_.max()


def test_the_judge_plants_anomalies_of_its_span_capped_by_the_tails_room():
    rng = np.random.default_rng(3)
    head, tail = rng.normal(size=(2000, 4)), rng.normal(size=(1500, 4))
    lengths = {}
    for span in ((10, 100), (200, 400)):
        series, labels = injected_validation(head, tail, 5, span)
        starts = np.flatnonzero(np.diff(np.concatenate([[0], labels.astype(int)])) == 1)
        ends = np.flatnonzero(np.diff(np.concatenate([labels.astype(int), [0]])) == -1)
        lengths[span] = ends - starts + 1
        assert not np.array_equal(series, tail)
    assert lengths[(10, 100)].max() < 100 and lengths[(200, 400)].max() >= 200
    # a tail with room for 3 anomalies of at most 90 steps: longer ones are capped to it, and
    # where even the shortest would not fit there is nothing to judge on
    _, labels = injected_validation(head, tail[:300], 5, (10, 400))
    assert 0 < labels.sum() <= 3 * 90
    assert injected_validation(head, tail[:300], 5, (200, 400)) is None
    best = make_detector("best", judge_span=[20, 300])
    assert best.judge_span == (20, 300) and make_detector("best").judge_span == (10, 100)


def test_judge_spread_is_hanley_mcneil_counted_in_anomalies():
    labels = np.zeros(1000, bool)
    for start in (100, 400, 700, 900):  # four anomalies of 25 steps: n1 = 4, n0 = 900 / 25
        labels[start : start + 25] = True
    n1, n0 = 4, 900 / 25
    assert judge_spread(labels) == pytest.approx(np.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))


def test_expected_gain_matches_the_closed_form_and_shrinks_only_what_is_noise():
    """E[max(g, 0)²] for g ~ N(mu, s²) is (mu² + s²) Φ(mu/s) + mu s φ(mu/s)."""
    from scipy.stats import norm

    mu, s = np.array([-0.1, 0.0, 0.05, 0.3]), 0.1
    closed = (mu**2 + s**2) * norm.cdf(mu / s) + mu * s * norm.pdf(mu / s)
    np.testing.assert_allclose(expected_gain(mu, s, 2.0), closed, rtol=1e-6)
    np.testing.assert_allclose(expected_gain(mu, 0.0, 1.0), np.maximum(mu, 0))  # no error
    np.testing.assert_allclose(expected_gain(mu, 1e-3, 1.0), np.maximum(mu, 0), atol=1e-3)
    noise = expected_gain(np.array([0.015, 0.048]), 0.1, 2.0)
    assert 0.35 < noise[0] / noise.sum() < 0.45  # observed squares give 0.09: a ratio of noise
    clear = expected_gain(np.array([0.45, 0.0]), 0.05, 2.0)
    assert clear[0] / clear.sum() > 0.99


def test_expected_selection_weighs_by_the_expected_gain_of_the_judged_aurocs():
    x = factor_data(3000, 10).astype(np.float32)
    plain = make_detector("best").fit(x)
    expected = make_detector("best", selection="expected").fit(x)
    np.testing.assert_allclose(expected.member_auroc_, plain.member_auroc_)
    head = validation_split(len(x), expected.min_steps)
    labels, _ = expected._injected_scores(x, head, np.arange(2))
    gain = expected_gain(expected.member_auroc_ - 0.5, judge_spread(labels), 2.0)
    np.testing.assert_allclose(expected.weights_, gain / gain.sum())


def test_the_ensemble_chooses_the_columns_and_its_members_read_them_all():
    """Declared flags are left out once, by the ensemble; with inputs="all" every column reaches
    the members too — a telemetry value stuck at 0 and 0/1 columns included, which a member's
    own guess would drop."""
    rng = np.random.default_rng(0)
    flags, stuck = rng.random((800, 2)) < 0.1, np.zeros((800, 1))
    x = np.column_stack([flags, stuck, factor_data(800, 1)[:, :2]]).astype(float)
    declared = make_detector("best").fit(x, flags=(0, 1))
    assert declared.columns_.tolist() == [2, 3, 4]
    assert declared.members_[0].columns_.tolist() == [0, 1, 2]  # of those three: all
    guessed = make_detector("best").fit(x)
    assert guessed.columns_.tolist() == [3, 4]  # the stuck value guessed a flag
    everything = make_detector("best", inputs="all").fit(x, flags=(0, 1))
    assert everything.members_[0].columns_.tolist() == [0, 1, 2, 3, 4]


def test_the_explanation_shares_the_combined_surprise_as_its_unit_says():
    rng = np.random.default_rng(3)
    t = np.arange(2600)
    x = np.column_stack([np.sin(t / 7), np.cos(t / 11)]) + 0.05 * rng.normal(size=(2600, 2))
    x[2300:2340, 1] *= 0.1
    ensemble = make_detector("best").fit(x[:2000])
    assert "combined surprise" in ensemble.explain_unit
    np.testing.assert_allclose(
        ensemble.explain(x[2000:]).sum(axis=1), ensemble.raw_score(x[2000:]), atol=1e-9
    )
