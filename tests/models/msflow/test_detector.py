"""The MSFlow detector (native 1-D route) end to end on tiny configurations."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mstad.data import make_synthetic
from mstad.errors import ConfigError
from mstad.models import Detector, make_detector
from mstad.models.calibration import KNEE

TINY = {
    "window": 32,
    "stride": 8,
    "dilations": (1, 2, 2),  # the default (1, 2, 4) reaches past a 32-step window
    "epochs": 5,
    "widths": (16, 16, 16),
    "blocks": (1, 1, 1),
}


@pytest.fixture(scope="module")
def entity():
    return make_synthetic(
        n_sensors=6, n_steps=2400, train_end=1200, n_anomalies=3, amplitude=3.0, seed=2
    )


@pytest.fixture(scope="module")
def fitted(entity):
    return make_detector("msflow", **TINY).fit(entity.train)


def test_auroc_floor_on_small_synthetic(fitted, entity):
    scores = fitted.score(entity.test)
    assert scores.shape == (1200,) and np.isfinite(scores).all()
    assert roc_auc_score(entity.labels, scores) > 0.8
    assert fitted.calibration_.fitted_on == "validation"


def test_early_stopping_is_on_validation_nll(fitted):
    history = fitted.history_
    assert 1 <= len(history) <= 5 and all(np.isfinite(h["val_loss"]) for h in history)


def test_the_default_pyramid_reaches_the_whole_window(entity):
    """Dilations 1 / 2 / 4 (MSFlow round 10) on the default 64-step window (their reach:
    ``test_extractor.py``)."""
    detector = make_detector("msflow", epochs=1, widths=(8, 8, 8), blocks=(1, 1, 1))
    detector = detector.fit(entity.train[:400], entity.flags)
    assert (detector.window, detector.dilations) == (64, (1, 2, 4))
    extractor = detector.extractor_
    assert [c.dilation[0] for c in extractor.levels] == [1, 2, 4]
    assert detector.score(entity.test[:300]).shape == (300,)


def test_a_folder_saved_before_dilations_existed_loads_undilated(entity, tmp_path):
    """The filters' weights do not show their dilation: a folder without the parameter must
    not be read with today's default (same weights, other features)."""
    import json

    params = {"epochs": 1, "widths": (8, 8, 8), "blocks": (1, 1, 1), "reference": "train"}
    old = make_detector("msflow", dilations=(1, 1, 1), **params).fit(entity.train)
    old.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "detector.json").read_text())
    del meta["params"]["kernel"], meta["params"]["dilations"]
    (tmp_path / "m" / "detector.json").write_text(json.dumps(meta))
    loaded = Detector.load(tmp_path / "m")
    assert (loaded.kernel, loaded.dilations) == (5, (1, 1, 1))
    np.testing.assert_allclose(loaded.score(entity.test), old.score(entity.test), rtol=1e-5)


@pytest.mark.parametrize("n_sensors", [25, 30, 38, 55])
def test_any_sensor_count(n_sensors):
    rng = np.random.default_rng(n_sensors)
    train = rng.normal(size=(300, n_sensors)).astype(np.float32)
    detector = make_detector("msflow", **{**TINY, "epochs": 1}).fit(train)
    assert detector.score(train[:100]).shape == (100,)


def test_continuous_inputs_ignore_command_flags(entity):
    rng = np.random.default_rng(0)
    flags = lambda n: (rng.random((n, 2)) < 0.1).astype(float)  # noqa: E731
    train = np.hstack([entity.train, flags(len(entity.train))])
    detector = make_detector("msflow", inputs="continuous", **TINY).fit(train)
    assert detector.columns_.tolist() == list(range(6))  # the two 0/1 columns are dropped
    test = np.hstack([entity.test, flags(len(entity.test))])
    flipped = test.copy()
    flipped[:, 6:] = 1 - flipped[:, 6:]  # a storm of commands changes nothing
    np.testing.assert_array_equal(detector.score(test), detector.score(flipped))
    assert roc_auc_score(entity.labels, detector.score(test)) > 0.8


def test_past_median_baseline_is_causal_and_kept_on_reload(fitted, entity, tmp_path):
    params = {**fitted.get_params(), "baseline": "past_median"}
    detector = make_detector("msflow", **params).fit(entity.train)
    plain, causal = fitted.raw_score(entity.test), detector.raw_score(entity.test)
    np.testing.assert_allclose(causal[:100], plain[:100], rtol=1e-6)  # nothing before step 100
    np.testing.assert_allclose(causal[100:200], plain[100:200] - np.median(plain[:100]), rtol=1e-5)
    detector.save(tmp_path / "m")
    np.testing.assert_array_equal(
        Detector.load(tmp_path / "m").score(entity.test), detector.score(entity.test)
    )


def test_past_reference_learns_a_new_level_once_and_never_changes_the_fit(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(2200)
    x = np.sin(t / 15)[:, None] + 0.2 * rng.normal(size=(2200, 3))
    train, test = x[:1000], x[1000:].copy()
    test[400:, 0] += 2.0  # a new operating level from step 400 on
    scores = {}
    for reference in ("train", "train+past"):
        detector = make_detector("msflow", reference=reference, adapt_every=200, **TINY)
        scores[reference] = detector.fit(train).score(test)
    onset, late = slice(400, 600), slice(1000, 1200)
    assert scores["train"][late].mean() > 0.5 * scores["train"][onset].mean()  # alarms forever
    online, before = scores["train+past"], slice(100, 400)
    assert online[onset].mean() > 5 * online[before].mean()  # alarms when the change starts …
    assert online[late].mean() < 2 * online[before].mean()  # … and is back near normal later
    state = {k: v.clone() for k, v in detector.flows_[0].state_dict().items()}
    np.testing.assert_array_equal(detector.score(test), online)  # scoring is repeatable …
    assert all(torch.equal(v, state[k]) for k, v in detector.flows_[0].state_dict().items())
    detector.save(tmp_path / "m")  # … and the training windows it adapts from are saved
    np.testing.assert_allclose(Detector.load(tmp_path / "m").score(test), online, rtol=1e-5)


def test_both_views_keep_part_of_the_alarm_while_a_new_level_persists(tmp_path):
    """reference="both": the online flow's and the fitted flow's NLL, each calibrated on its own
    validation scores, averaged — the onset alarms as online, the late steps stay above normal
    (the fitted flow's half) where the online view alone falls silent."""
    rng = np.random.default_rng(0)
    t = np.arange(2200)
    x = np.sin(t / 15)[:, None] + 0.2 * rng.normal(size=(2200, 3))
    train, test = x[:1000], x[1000:].copy()
    test[400:, 0] += 2.0
    train, test = train.astype(np.float32), test.astype(np.float32)  # as scoring reads them
    both = make_detector("msflow", reference="both", adapt_every=200, **TINY).fit(train)
    online = make_detector("msflow", adapt_every=200, **TINY).fit(train)
    alone = make_detector("msflow", reference="train", adapt_every=200, **TINY).fit(train)
    views = both._view_scores(test)
    np.testing.assert_allclose(views[0], online.raw_score(test), rtol=1e-5)
    np.testing.assert_allclose(views[1], alone.raw_score(test), rtol=1e-5)
    calibrated = [c.apply(v) for c, v in zip(both.view_calibrations_, views, strict=True)]
    np.testing.assert_allclose(both.raw_score(test), np.mean(calibrated, axis=0), rtol=1e-9)
    scores, quiet = both.score(test), online.score(test)
    onset, late, before = slice(400, 600), slice(1000, 1200), slice(0, 380)
    assert scores[onset].mean() > 3 * scores[before].mean()
    assert np.median(scores[late]) > 2 * np.median(quiet[late])  # still flagged, unlike online
    assert np.median(scores[late]) > np.quantile(scores[before], 0.9)
    both.save(tmp_path / "m")  # the view calibrations travel with the model
    np.testing.assert_allclose(Detector.load(tmp_path / "m").score(test), scores, rtol=1e-5)


def test_past_scaling_lets_a_huge_new_level_stop_alarming():
    """Fine-tuning alone cannot absorb a shift of 250 training standard deviations (its
    likelihood stays astronomically low); re-standardising the features on train + past before
    each block can, so the new level alarms at its onset and not for the rest of the series."""
    rng = np.random.default_rng(0)
    t = np.arange(2200)
    x = np.sin(t / 15)[:, None] + 0.2 * rng.normal(size=(2200, 3))
    train, test = x[:1000], x[1000:].copy()
    test[400:, 0] += 50.0
    scores = {}
    for scaling in (False, True):  # 2 epochs per block: one adapts less (late median 1.8)
        detector = make_detector(
            "msflow", adapt_every=200, adapt_epochs=2, adapt_scaling=scaling, **TINY
        )
        scores[scaling] = detector.fit(train).score(test)
    onset, late = slice(400, 600), slice(1000, 1200)
    # calibrated scores are surprises (decades, bounded below 10): above KNEE = p < 1e-6
    assert np.median(scores[False][late]) > KNEE  # alarms on and on (normal: ~0.3)
    assert scores[True][onset].mean() > KNEE  # the onset is as loud as before …
    assert np.median(scores[True][late]) < 1.0  # … later steps are back among normal scores


@pytest.mark.parametrize("reference", ["train+past", "both"])
def test_an_entity_constant_in_training_scores_its_constant_as_validation_did(reference, tmp_path):
    """Every input constant in training (NASA telemetry that never moves once the command flags
    are left out): fine-tuning a flow on one value moved its score of that same value between
    blocks (calibrated 3–9 on normal steps), so such an entity is scored by the fitted flow
    alone — data identical to training score as the validation tail did, a departure far out."""
    x = np.full((2200, 2), 0.5, dtype=np.float32)
    x[1000 + 600 : 1000 + 620, 1] = 1.5  # one departure, in the test part
    train, test = x[:1000], x[1000:]
    detector = make_detector("msflow", reference=reference, adapt_every=200, **TINY).fit(train)
    assert not detector._adapts
    scores = detector.score(test)
    normal = np.r_[scores[:560], scores[660:1150]]  # away from the departure and the last window
    assert np.median(normal) < 0.5 and normal.max() < 2.0  # fine-tuned: medians of 3-9
    assert scores[600:620].min() > KNEE
    views = detector._view_scores(test)
    alone = make_detector("msflow", reference="train", **TINY).fit(train).raw_score(test)
    for view in views:  # the fitted flow's, whatever the reference
        np.testing.assert_allclose(view, alone, rtol=1e-6)
    detector.save(tmp_path / "m")  # the rule is read off the saved training windows
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(test), scores, rtol=1e-6)
    assert not loaded._adapts
    moving = x.copy()
    moving[:, 0] += np.sin(np.arange(2200) / 15)  # one input moves: fine-tuned as before
    assert make_detector("msflow", reference=reference, **TINY).fit(moving[:1000])._adapts


@pytest.mark.parametrize("reference", ["train", "both"])
def test_a_small_move_of_a_training_constant_is_not_scored_at_the_cap(reference):
    """A sensor constant in training has feature channels that never vary: they get their
    spread on unit-variance noise (one input unit counts as one standard deviation), not
    std + 1e-6 — a move of 0.01 units scored 9.8 of 10 on normal steps before."""
    rng = np.random.default_rng(4)
    x = np.zeros((2200, 2), dtype=np.float32)
    x[:, 0] = 0.3
    x[:, 1] = np.sin(np.arange(2200) / 9) + 0.1 * rng.normal(size=2200)
    x[1000:, 0] = 0.31  # test: a hundredth of a unit off the training constant
    x[1600:1650, 0] = 3.3  # and a three-unit departure
    detector = make_detector("msflow", reference=reference, adapt_every=200, **TINY)
    scores = detector.fit(x[:1000]).score(x[1000:])
    # below the fixed alarm threshold of 3 (the online view, fine-tuned on 0.3 and 0.31 alike,
    # keeps a near-constant channel of spread 0.005: 2.5 there; the fitted flow alone: < 2)
    assert np.median(scores[:500]) < 3.0 and scores[610:640].min() > 6.0
    assert (
        roc_auc_score(np.r_[np.zeros(500), np.ones(30)], np.r_[scores[:500], scores[610:640]]) == 1
    )


@pytest.mark.parametrize("reference", ["train", "both"])
def test_a_thousandth_off_a_flat_training_split_is_not_news_and_two_units_are(reference):
    """Every input constant in training (NASA telemetry at 0.999 in training, 1.0 in test): the
    validation scores are one value, and the calibration's relative floor made the thousandth
    a surprise of 7 decades; its floor is now the rise a move of a tenth of a unit causes."""
    x = np.full((2200, 1), 0.999)
    x[1000:, 0] = 1.0
    x[1600:1700, 0] = -1.0
    detector = make_detector("msflow", reference=reference, **TINY).fit(x[:1000])
    scores = detector.score(x[1000:])
    assert np.median(scores[:500]) < 2.0 and np.median(scores[620:680]) > 6.0


def test_feature_channels_that_vary_in_training_keep_their_spread(entity, monkeypatch):
    """The floor touches only channels that do not vary: on varying data the standardisation
    is the one without the floor."""
    import mstad.models.msflow.detector as module

    floored = make_detector("msflow", **TINY).fit(entity.train)
    monkeypatch.setattr(module, "FLAT_FEATURE", 0.0)  # no channel below 0 × its unit
    plain = make_detector("msflow", **TINY).fit(entity.train)
    for (_, std), (_, plain_std) in zip(floored.feat_stats_, plain.feat_stats_, strict=True):
        np.testing.assert_array_equal(std, plain_std)
    np.testing.assert_array_equal(floored.score(entity.test), plain.score(entity.test))


def test_online_fine_tuning_trains_on_a_bounded_replay_set(monkeypatch):
    """Each block's fine-tuning sees at most ``replay`` windows — the most recent past ones (at
    most half) and a fixed sample of training ones — so every block costs the same once the
    past is long; ``replay=None`` trains on every training and past window (growing)."""
    from mstad.models.msflow.detector import MSFlow

    rng = np.random.default_rng(1)
    x = np.sin(np.arange(3000) / 15)[:, None] + 0.2 * rng.normal(size=(3000, 2))
    sizes = []
    original = MSFlow._train_epoch

    def counting(self, flow, optimiser, features, generator):
        sizes.append(len(features[0]))
        return original(self, flow, optimiser, features, generator)

    for replay in (20, None):
        detector = make_detector("msflow", adapt_every=100, replay=replay, **TINY).fit(x[:1000])
        monkeypatch.setattr(MSFlow, "_train_epoch", counting)
        sizes.clear()
        detector.score(x[1000:])
        monkeypatch.setattr(MSFlow, "_train_epoch", original)
        if replay is not None:
            assert max(sizes) == 20 and sizes[-5:] == [20] * 5  # bounded and constant
        else:
            n_train = len(detector.reference_windows_)
            assert sizes[0] > n_train and sizes == sorted(sizes) and sizes[-1] > sizes[0] + 150


def test_running_feature_moments_equal_the_moments_of_everything_at_once():
    from mstad.models.msflow.detector import _Moments

    rng = np.random.default_rng(2)
    parts = [
        [torch.from_numpy(rng.normal(3, 2, size=(n, 4, 7)).astype(np.float32))] for n in (5, 9, 1)
    ]
    moments = _Moments(parts[0])
    for p in parts[1:]:
        moments.add(p)
    whole = torch.cat([p[0] for p in parts]).double().numpy()  # [15, 4, 7]
    ((mean, std),) = moments.stats()
    np.testing.assert_allclose(mean.numpy(), whole.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(std.numpy(), whole.std(axis=(0, 2)) + 1e-6, rtol=1e-5)


def test_save_load_round_trip(fitted, entity, tmp_path):
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / "flow.pt").is_file()
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(entity.test), fitted.score(entity.test), rtol=1e-5)


def test_several_flows_average_their_nll_and_round_trip(entity, tmp_path):
    """flows=2: two flows from seeds 0 and 1, the first the single-flow model's; the score is
    their mean NLL; both histories and both weight files are kept."""
    one = make_detector("msflow", **TINY).fit(entity.train)
    two = make_detector("msflow", flows=2, **TINY).fit(entity.train)
    first, second = two.flows_
    assert all(torch.equal(v, one.flows_[0].state_dict()[k]) for k, v in first.state_dict().items())
    assert not all(torch.equal(v, second.state_dict()[k]) for k, v in first.state_dict().items())
    windows, _ = two._windows(entity.test)
    features = two._features(windows[:40])
    with torch.no_grad():
        each = [two._position_maps(f(features)[0], windows.shape[1]) for f in two.flows_]
    mean = two._window_maps(windows[:40])
    torch.testing.assert_close(mean, (each[0] + each[1]) / 2)
    assert (each[0] - each[1]).abs().max() > 1e-3  # the flows differ
    history = two.history_
    assert {"train_loss", "val_loss", "train_loss (flow 2)", "val_loss (flow 2)"} <= set(history[0])
    firsts = [h["train_loss"] for h in history if np.isfinite(h["train_loss"])]
    assert firsts == [h["train_loss"] for h in one.history_]  # flow 1's own, unsuffixed
    scores = two.score(entity.test)
    assert roc_auc_score(entity.labels, scores) > 0.8
    two.save(tmp_path / "m")
    assert (tmp_path / "m" / "flow.pt").is_file() and (tmp_path / "m" / "flow_2.pt").is_file()
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(entity.test), scores, rtol=1e-5)


def test_fitting_does_not_touch_numpys_global_random_state(entity):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    make_detector("msflow", **{**TINY, "epochs": 1}).fit(entity.train[:300])
    assert np.random.random() == expected


def test_image_route_detects_and_round_trips(entity, tmp_path):
    detector = make_detector(
        "msflow",
        route="image",
        encoder="strip",
        image_size=32,
        window=32,
        stride=8,
        epochs=3,
        blocks=(1, 1, 1),
    ).fit(entity.train)
    scores = detector.score(entity.test)
    assert scores.shape == (1200,) and roc_auc_score(entity.labels, scores) > 0.7
    assert detector.heatmap(entity.test, 600).shape == (32, 32)  # −log p per pixel
    detector.save(tmp_path / "m")
    np.testing.assert_allclose(Detector.load(tmp_path / "m").score(entity.test), scores, rtol=1e-5)


@pytest.mark.parametrize("encoder", ["resize", "gaf", "gadf", "mtf", "signature"])
def test_every_encoder_scores_every_step(entity, encoder):
    detector = make_detector(
        "msflow",
        route="image",
        encoder=encoder,
        image_size=32,
        window=32,
        stride=16,
        epochs=1,
        blocks=(1, 1, 1),
    ).fit(entity.train[:600])
    scores = detector.score(entity.test[:200])
    assert scores.shape == (200,) and np.isfinite(scores).all()


def test_whole_series_as_one_image_the_seed_protocol(entity):
    detector = make_detector(
        "msflow",
        route="image",
        encoder="resize",
        window=0,
        image_size=32,
        epochs=2,
        blocks=(1, 1, 1),
    ).fit(entity.train)
    scores = detector.score(entity.test)  # longer than train: still one image, exact columns
    assert scores.shape == (1200,) and np.isfinite(scores).all()


def test_bad_parameters():
    with pytest.raises(ConfigError, match="parameter route=.* is not valid"):
        make_detector("msflow", route="video")
    with pytest.raises(ConfigError, match="one block count and one width per scale"):
        make_detector("msflow", widths=(8, 8), blocks=(1, 1, 1))
    with pytest.raises(ConfigError, match="window 4 must be >= 8"):
        make_detector("msflow", window=4)
    with pytest.raises(ConfigError, match="parameter encoder=.* is not valid"):
        make_detector("msflow", route="image", encoder="jpeg")
    with pytest.raises(ConfigError, match="parameter inputs=.* is not valid"):
        make_detector("msflow", inputs="some")
    with pytest.raises(ConfigError, match="parameter baseline=.* is not valid"):
        make_detector("msflow", baseline="mean")
    with pytest.raises(ConfigError, match="parameter reference=.* is not valid"):
        make_detector("msflow", reference="test")
    with pytest.raises(ConfigError, match="parameter adapt_from=.* is not valid"):
        make_detector("msflow", adapt_from="scratch")
    with pytest.raises(ConfigError, match="adapt_every=0 is not valid.*integer >= 1"):
        make_detector("msflow", adapt_every=0)
    with pytest.raises(ConfigError, match="kernel 4 must be odd"):
        make_detector("msflow", kernel=4)
    with pytest.raises(
        ConfigError, match="dilation 8 reaches past a level-3 input of 8 steps; use window >= 65"
    ):
        make_detector("msflow", window=32, stride=8, dilations=(1, 2, 8))


def test_heatmap_is_the_likelihood_map_of_the_window_around_t(fitted, entity):
    native = fitted.heatmap(entity.test, 600)
    assert native.shape == (3, 32) and (native >= 0).all()  # scales × steps of the window
    assert "per scale" in fitted.heatmap_kind
