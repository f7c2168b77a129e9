"""The MSCRED detector end to end on tiny configurations."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mstad.data import make_synthetic
from mstad.errors import ConfigError
from mstad.evaluation.rootcause import recall_at_k
from mstad.models import Detector, make_detector
from mstad.models.mscred.samples import scale_windows_to_steps

TINY = {
    "windows": (5, 10),
    "gap": 5,
    "steps": 3,
    "epochs": 4,
    "batch_size": 8,
    "lstm_kernels": (3, 3, 2, 2),
}


@pytest.fixture(scope="module")
def entity():
    return make_synthetic(
        n_sensors=6, n_steps=2400, train_end=1200, n_anomalies=3, amplitude=3.0, seed=2
    )


@pytest.fixture(scope="module")
def fitted(entity):
    return make_detector("mscred", **TINY).fit(entity.train)


def test_scores_explain_and_scale_scores(fitted, entity):
    scores = fitted.score(entity.test)
    assert scores.shape == (1200,) and np.isfinite(scores).all()
    assert fitted.explain(entity.test).shape == (1200, 6)
    assert fitted.scale_scores(entity.test).shape == (1200, 2)
    assert fitted.calibration_.fitted_on == "validation"
    assert len(fitted.history_) >= 1 and fitted.history_[0]["val_loss"] > 0


def test_auroc_floor_on_small_synthetic(fitted, entity):
    assert roc_auc_score(entity.labels, fitted.score(entity.test)) > 0.7


def test_heatmap_is_the_residual_matrix_of_the_covering_sample(fitted, entity):
    residual, ends = fitted._residual(fitted._check_input(entity.test))
    t = 700
    k = int(np.flatnonzero(ends > t)[0])  # sample covering [ends[k] - gap, ends[k]) ∋ t
    assert ends[k] - fitted.gap <= t < ends[k]
    np.testing.assert_allclose(fitted.heatmap(entity.test, t), residual[k, 0], rtol=1e-3, atol=1e-8)
    assert fitted.heatmap(entity.test, t).shape == (6, 6)
    assert make_detector("zscore").fit(entity.train).heatmap(entity.test, t) is None


def test_save_load_round_trip(fitted, entity, tmp_path):
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / "network.pt").is_file()
    loaded = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(entity.test), fitted.score(entity.test), rtol=1e-5)
    np.testing.assert_allclose(loaded.validation_scale_scores_, fitted.validation_scale_scores_)


@pytest.mark.parametrize("mode", ["count", "count_upper"])
def test_count_scores_are_integers_in_range(fitted, entity, mode):
    detector = make_detector("mscred", **{**TINY, "score_mode": mode})
    detector.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    detector._cache = None
    raw = detector.raw_score(entity.test)
    assert np.all(raw == np.round(raw)) and raw.min() >= 0 and raw.max() <= 36


def test_sensor_score_is_the_largest_sensor_explanation(fitted, entity):
    """``score_mode="sensor"``: per step, the largest of the per-sensor parts that
    ``explain_mode="relative"`` explains with (the same residuals, the same step mapping)."""
    detector = make_detector(
        "mscred", **{**TINY, "score_mode": "sensor", "explain_mode": "relative"}
    )
    detector.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    detector._cache = None
    raw = detector.raw_score(entity.test)
    explained = detector.explain(entity.test)
    assert raw.shape == (len(entity.test),)
    np.testing.assert_allclose(raw, explained.max(axis=1), rtol=1e-12)
    assert raw.min() > 0


def test_relative_score_divides_each_entry_by_its_validation_median(fitted, entity):
    detector = make_detector("mscred", **{**TINY, "score_mode": "relative"})
    detector.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    detector._cache = None
    residual, _ = detector._residual(detector._check_input(entity.test))
    scale = detector.residual_scale_
    assert scale.shape == residual.shape[1:] and (scale > 0).all()
    expected = (residual / scale).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(detector._sample_scores(residual), expected)


def test_forecast_target_ranks_the_causes_of_shocks_on_independent_sensors(entity):
    """Root causes: 3 of 6 sensors, so a random ranking's recall@3 is 0.5 on average. The
    synthetic sensors are independent sinusoids: the masked default cannot tell a row from the
    other sensors there (recall@3 0.56 here; ``mscred_log.md`` §6), the forecast can."""
    forecast = make_detector("mscred", **{**TINY, "target": "next"}).fit(entity.train)
    assert recall_at_k(forecast.explain(entity.test), entity.intervals, 3) > 0.75


def test_window_step_scores_are_the_sample_parts_spread_and_calibrated_on_steps(entity):
    detector = make_detector(
        "mscred", **{**TINY, "epochs": 1, "step_scores": "window", "score_mode": "relative"}
    )
    detector.fit(entity.train)
    residual, ends = detector._residual(entity.test)
    parts = detector._scale_parts(residual)
    np.testing.assert_allclose(parts.sum(axis=1), detector._sample_scores(residual))
    expected = scale_windows_to_steps(parts, ends, detector.windows, len(entity.test))
    np.testing.assert_allclose(detector.raw_score(entity.test), expected)
    # calibrated on the steps the validation samples cover: one score per step, not per sample
    n_val = len(entity.train) - int(0.8 * len(entity.train))  # the 20 % tail, whole samples
    assert abs(detector.calibration_.n_scores - n_val) <= detector.gap + max(detector.windows)
    explain = detector.explain(entity.test)
    assert explain.shape == (len(entity.test), 6) and np.isfinite(explain).all()


def test_forecast_target_cannot_see_the_matrix_it_scores(entity):
    detector = make_detector("mscred", **{**TINY, "epochs": 1, "target": "next"})
    detector.fit(entity.train)
    assert detector.min_steps == 10 + 3 * 5  # h = 3 inputs + 1 forecast matrix
    assert detector.score(entity.test).shape == (1200,)
    stacks, _ = detector._samples(entity.test)
    batch = torch.from_numpy(np.ascontiguousarray(stacks[:4]))
    changed = batch.clone()
    changed[:, -1] += 1.0  # only the matrix to forecast
    inputs, target = detector._split_runs(batch)  # four runs of one sample each
    inputs_after, target_after = detector._split_runs(changed)
    assert inputs.shape[1] == 3 and torch.equal(inputs, inputs_after)
    assert not torch.equal(target, target_after)
    with torch.no_grad():
        assert torch.equal(detector.network_(inputs), detector.network_(inputs_after))
    # one run of 4 samples (7 matrices): sample j reads matrices j..j+2 and forecasts j+3
    run = detector._runs(stacks, [(0, 4)])
    inputs, target = detector._split_runs(run)
    assert inputs.shape[1] == 6 and torch.equal(target[2], run[0, 5])
    assert torch.equal(target, batch[:, -1])


def test_bad_parameters():
    with pytest.raises(ConfigError, match="score_mode='max' is not valid.*one of 'relative'"):
        make_detector("mscred", score_mode="max")
    with pytest.raises(ConfigError, match="target='previous' is not valid.*one of 'last', 'next'"):
        make_detector("mscred", target="previous")
    with pytest.raises(ConfigError, match="use it with target='last'"):
        make_detector("mscred", target="next", loss_steps="all")
    with pytest.raises(
        ConfigError, match="lstm_kernels=.* is not valid.*at least 4 long, at most 4 long"
    ):
        make_detector("mscred", lstm_kernels=(3, 3))


def _decoupled(seed: int = 0):
    """Six sensors on two shared sinusoids; in the test, sensors 2 and 4 follow sinusoids of
    their own with the same range for 100 steps each (a correlation break, no new values)."""
    rng = np.random.default_rng(seed)
    t = np.arange(2400)
    shared = np.stack([np.sin(2 * np.pi * t / 70), np.sin(2 * np.pi * t / 170 + 1)], 1)
    own = np.stack([np.sin(2 * np.pi * t / 90 + 2), np.sin(2 * np.pi * t / 130)], 1)
    loadings = rng.normal(size=(6, 2))
    x = shared @ loadings.T + 0.1 * rng.standard_normal((2400, 6))
    test, labels = x[1200:].copy(), np.zeros(1200, dtype=bool)
    for start, sensor in ((300, 2), (800, 4)):
        rows = slice(1200 + start, 1300 + start)
        test[start : start + 100, sensor] = own[rows] @ loadings[sensor]
        labels[start : start + 100] = True
    return x[:1200].astype(np.float32), test.astype(np.float32), labels


def test_masked_target_finds_a_correlation_break_and_its_sensor():
    train, test, labels = _decoupled()
    detector = make_detector("mscred", **{**TINY, "epochs": 10, "target": "masked"})
    detector.fit(train)
    groups = detector.mask_groups()
    assert sorted(np.concatenate(groups).tolist()) == list(range(6))  # a partition
    assert all(len(g) == 1 for g in groups)  # 20 % of 6 sensors, rounded, at least one
    assert roc_auc_score(labels, detector.score(test)) > 0.9
    explain = detector.explain(test)
    # the broken sensor among the top two of six (the paper-width network ranks both first;
    # the default width 16, after 10 tiny epochs, ranks the second one second)
    assert 2 in np.argsort(explain[300:400].sum(0))[-2:]
    assert 4 in np.argsort(explain[800:900].sum(0))[-2:]


def test_auto_target_masks_where_sensors_share_structure_and_forecasts_where_not(entity, tmp_path):
    """target="auto" decides at fit, from the training data alone: the decoupled plant-like
    sensors share two sinusoids (masked), the synthetic sinusoids are independent (next) — and
    then trains and scores exactly as that target does; the decision is saved."""
    train, test, _ = _decoupled()
    shared = make_detector("mscred", **{**TINY, "epochs": 1, "target": "auto"}).fit(train)
    masked = make_detector("mscred", **{**TINY, "epochs": 1, "target": "masked"}).fit(train)
    assert shared.target_ == "masked" and shared.target == "auto"
    np.testing.assert_array_equal(shared.score(test), masked.score(test))
    independent = make_detector("mscred", **{**TINY, "epochs": 1, "target": "auto"})
    independent.fit(entity.train)
    forecast = make_detector("mscred", **{**TINY, "epochs": 1, "target": "next"})
    forecast.fit(entity.train)
    assert independent.target_ == "next"
    np.testing.assert_array_equal(independent.score(entity.test), forecast.score(entity.test))
    independent.save(tmp_path / "m")
    loaded = Detector.load(tmp_path / "m")
    assert loaded.target_ == "next"
    np.testing.assert_allclose(loaded.score(entity.test), independent.score(entity.test))


def test_continuous_inputs_leave_command_flags_out_of_the_matrices(entity, tmp_path):
    rng = np.random.default_rng(0)
    flags = lambda n: (rng.random((n, 2)) < 0.1).astype(np.float32)  # noqa: E731
    train = np.hstack([entity.train, flags(len(entity.train))])
    test = np.hstack([entity.test, flags(len(entity.test))])
    detector = make_detector("mscred", **{**TINY, "epochs": 2, "inputs": "continuous"})
    detector.fit(train)
    assert detector.columns_.tolist() == list(range(6)) and detector.network_.sizes[0] == 6
    flipped = test.copy()
    flipped[:, 6:] = 1 - flipped[:, 6:]  # a storm of commands changes nothing
    np.testing.assert_array_equal(detector.score(test), detector.score(flipped))
    explain = detector.explain(test)
    assert explain.shape == (1200, 8) and not explain[:, 6:].any() and explain[:, :6].any()
    heat = detector.heatmap(test, 600)
    assert heat.shape == (8, 8) and not heat[6:].any() and not heat[:, 6:].any()
    detector.save(tmp_path / "m")
    np.testing.assert_allclose(Detector.load(tmp_path / "m").score(test), detector.score(test))


def test_masked_groups_on_few_and_many_sensors():
    for n, fraction, sizes in ((2, 0.2, [1, 1]), (30, 0.1, [3] * 10), (38, 0.2, [8, 8, 8, 7, 7])):
        detector = make_detector("mscred", target="masked", mask_fraction=fraction)
        detector.n_sensors_, detector.columns_ = n, np.arange(n)
        assert [len(g) for g in detector.mask_groups()] == sizes


def test_bfloat16_precision_runs_the_network_in_bfloat16_and_stays_close(fitted, entity):
    from mstad.models.device import autocast

    inputs = torch.rand(2, 3, 2, 6, 6)
    with autocast(torch.device("cpu"), "bfloat16"):
        assert fitted.network_(inputs).dtype == torch.bfloat16
    half = make_detector("mscred", **{**TINY, "precision": "bfloat16"})
    half.network_, half.n_sensors_, half.device_ = (
        fitted.network_,
        fitted.n_sensors_,
        fitted.device_,
    )
    stacks, _ = fitted._samples(entity.test)
    full, reduced = fitted._residual_of(stacks[:64]), half._residual_of(stacks[:64])
    assert reduced.dtype == np.float64 and np.isfinite(reduced).all()
    # bfloat16 keeps 8 bits of mantissa: residuals agree to a few per cent of their spread
    assert np.abs(full - reduced).mean() < 0.05 * full.std()
    with pytest.raises(ConfigError, match="precision='float16' is not valid"):
        make_detector("mscred", precision="float16")


def test_duration_class_is_the_longest_scale_an_event_breaks(fitted, entity):
    detector = make_detector("mscred", **TINY)
    detector.windows = (10, 30, 60)
    detector.validation_scale_scores_ = np.array([[4.0, 3.0, 2.0], [5.0, 1.0, 0.0]])
    counts = np.zeros((100, 3))
    counts[20:30] = [9.0, 0.0, 0.0]  # only the short window's matrices break
    counts[50:80] = [9.0, 9.0, 1.0]  # short and medium
    counts[90:] = [9.0, 9.0, 9.0]
    detector.scale_scores = lambda series: counts
    assert detector.duration_class(None, 20, 29) == "short (window 10)"
    assert detector.duration_class(None, 50, 79) == "medium (window 30)"
    assert detector.duration_class(None, 90, 99) == "long (window 60)"
    assert detector.duration_class(None, 0, 10) == "below every scale's validation maximum"
    # the real method on the fitted detector: one of the classes, from its own counts
    assert fitted.duration_class(entity.test, 0, 50).split(" ")[0] in ("short", "long", "below")


def test_masked_validation_loss_is_one_fixed_pass_per_sample(entity):
    detector = make_detector("mscred", **{**TINY, "epochs": 1, "target": "masked"})
    detector.fit(entity.train)
    stacks, _ = detector._samples(entity.train)
    index = np.arange(20)
    groups = detector.mask_groups()
    calls = []
    original = detector._net
    detector._net = lambda inputs: calls.append(len(inputs)) or original(inputs)
    loss = detector._mean_loss(stacks, index)
    assert sum(calls) == len(index)  # one pass per sample, not one per group
    assert loss == detector._mean_loss(stacks, index)  # fixed masks: epochs compare
    detector._net = original
    by_hand = []
    for i in index:
        masks = detector._group_masks(groups[i % len(groups)], 1)
        by_hand.append(detector._loss(detector._batch(stacks, np.array([i])), masks).item())
    # masked_mse averages over the hidden entries of a batch; groups here are equal in size
    assert {len(g) for g in groups} == {1}
    assert loss == pytest.approx(np.mean(by_hand), rel=1e-5)


def test_a_sensor_constant_in_training_is_scaled_by_a_span_of_one():
    detector = make_detector("mscred", **TINY)
    train = np.zeros((300, 3), dtype=np.float32)
    train[:, 0] = np.sin(np.arange(300) / 7.0)
    train[:, 1] = 5.0  # a command flag or a sensor that never moved in training
    detector.min_, detector.max_ = train.min(axis=0), train.max(axis=0)
    test = train.copy()
    test[100:, 1] = 6.5
    scaled = detector._scale(test)
    assert np.all(scaled[:100, 1] == 0) and np.allclose(scaled[100:, 1], 1.5)  # no 1e6 blow-up
    assert scaled[:, 0].min() == pytest.approx(0) and scaled[:, 0].max() == pytest.approx(1)


def test_both_views_score_with_their_own_scales_and_survive_save_load(entity, tmp_path):
    detector = make_detector(
        "mscred", **{**TINY, "epochs": 2, "target": "masked", "mask_steps": "both"}
    )
    detector.fit(entity.train)
    assert detector.view_scale_.shape == (2,) and (detector.view_scale_ > 0).all()
    assert detector.view_scale_[0] != detector.view_scale_[1]  # each view its own median
    scores = detector.score(entity.test)
    assert np.isfinite(scores).all()
    detector.save(tmp_path / "m")
    again = Detector.load(tmp_path / "m")
    np.testing.assert_allclose(again.view_scale_, detector.view_scale_)
    np.testing.assert_allclose(again.score(entity.test), scores, rtol=1e-5)


def test_a_folder_saved_before_width_existed_loads_at_the_paper_width(entity, tmp_path):
    import json

    params = {**TINY, "epochs": 1, "width": 32, "step_scores": "sample"}
    params |= {"run_length": 4, "augment": ()}  # trained in runs, before augment existed
    params |= {"linear_forecast": False}  # and before the forecast's linear part
    old = make_detector("mscred", **params).fit(entity.train)
    old.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "detector.json").read_text())
    for key in ("width", "step_scores", "inputs", "augment", "linear_forecast"):  # not yet then
        del meta["params"][key]
    (tmp_path / "m" / "detector.json").write_text(json.dumps(meta))
    with np.load(tmp_path / "m" / "state.npz") as state:
        arrays = {k: v for k, v in state.items() if k != "columns"}
    np.savez(tmp_path / "m" / "state.npz", **arrays)
    loaded = Detector.load(tmp_path / "m")
    assert loaded.width == 32 and loaded.step_scores == "sample" and loaded.inputs == "all"
    assert loaded.augment == () and loaded.run_length == 4  # not the default that would clash
    assert loaded.linear_forecast is False and loaded.network_.linear is None
    assert loaded.columns_.tolist() == list(range(6))
    np.testing.assert_allclose(loaded.score(entity.test), old.score(entity.test), rtol=1e-5)


@pytest.mark.parametrize("target", ["next", "masked"])
def test_the_linear_part_is_trained_with_the_forecast_only_and_saved(entity, target, tmp_path):
    options = {**TINY, "epochs": 2, "augment": (), "target": target, "linear_forecast": True}
    detector = make_detector("mscred", **options).fit(entity.train)
    linear = detector.network_.linear
    if target == "masked":  # hidden rows are zeros in the input: nothing to extrapolate
        assert linear is None
        return
    assert linear.weight.shape == (2, 3 * 2, 1, 1) and linear.weight.abs().sum() > 0  # trained
    scores = detector.score(entity.test)
    detector.save(tmp_path / "m")
    again = Detector.load(tmp_path / "m")
    assert again.linear_forecast is True and torch.equal(
        again.network_.linear.weight, linear.weight
    )
    np.testing.assert_allclose(again.score(entity.test), scores, rtol=1e-5)


def test_run_batches_cover_every_training_sample_once_per_epoch():
    detector = make_detector("mscred", **{**TINY, "run_length": 4, "augment": ()})
    rng = np.random.default_rng(0)
    for _ in range(3):  # a fresh random offset each epoch
        batches = detector._run_batches(np.arange(10, 60), rng)
        covered = [
            i for runs in batches for first, count in runs for i in range(first, first + count)
        ]
        assert sorted(covered) == list(range(10, 60))
        for runs in batches:  # two full runs of 4 (batch 8), or one shorter edge run alone
            counts = [count for _, count in runs]
            assert counts in ([4, 4], [4]) or (len(counts) == 1 and counts[0] < 4)


@pytest.mark.parametrize("target", ["next", "last", "masked", "last-all"])
def test_run_loss_is_the_loss_of_its_samples_one_by_one(entity, target):
    """A run's loss (shared convolutions, one mask per run) = the per-sample loss of the same
    samples with the same masks (``last-all``: the paper's loss over every input step)."""
    target, _, steps = target.partition("-")
    options = {"target": target, "loss_steps": steps or "last", "run_length": 4, "augment": ()}
    detector = make_detector("mscred", **{**TINY, "epochs": 1, **options})
    detector.fit(entity.train)
    stacks, _ = detector._samples(entity.train)
    runs = [(3, 4), (20, 4)]
    state = detector._mask_generator.get_state()
    shared = detector._run_loss(detector._runs(stacks, runs)).item()
    batch = detector._batch(stacks, np.r_[3:7, 20:24])
    if target == "masked":
        detector._mask_generator.set_state(state)
        masks = detector._random_masks(2).repeat_interleave(4, dim=0)
        alone = detector._loss(batch, masks).item()
    else:
        alone = detector._loss(batch).item()
    assert shared == pytest.approx(alone, rel=1e-5)


def test_training_in_runs_still_finds_the_anomalies(entity):
    options = {**TINY, "run_length": 8, "augment": ()}
    detector = make_detector("mscred", **options).fit(entity.train)
    assert roc_auc_score(entity.labels, detector.score(entity.test)) > 0.7
    assert len(detector.history_) >= 1
    with pytest.raises(ConfigError, match="run_length > 1 .* use run_length=1"):
        make_detector("mscred", run_length=4, mask_steps="both")


@pytest.mark.parametrize("target", ["next", "masked"])
def test_scoring_in_runs_gives_each_sample_its_own_residual(entity, target):
    """Scores come from chunks of consecutive samples sharing their convolutions: the same
    residuals as scoring every sample alone."""
    detector = make_detector("mscred", **{**TINY, "epochs": 1, "target": target})
    detector.fit(entity.test)
    stacks, _ = detector._samples(entity.test)
    shared = detector._residual_of(stacks[10:30])  # chunks of 8: runs of 8, 8 and 4 samples
    alone = np.concatenate([detector._residual_of(stacks[i : i + 1]) for i in range(10, 30)])
    np.testing.assert_allclose(shared, alone, rtol=1e-4, atol=1e-8)  # float32 summation order


def test_augmented_training_draws_as_many_samples_from_every_speed(entity, monkeypatch):
    """augment adds the training part at other speeds; an epoch still trains on as many samples
    as the series alone gives (the same time), drawn from the original and warped ones."""
    from mstad.models.mscred import detector as module

    drawn, real_batch = {}, module.MSCRED._batch
    plain = make_detector("mscred", **{**TINY, "epochs": 1, "augment": ()})
    augmented = make_detector("mscred", **{**TINY, "epochs": 1, "augment": (0.8, 1.25)})
    for name, detector in (("plain", plain), ("augmented", augmented)):
        batches = []

        def spy(self, stacks, index, batches=batches):
            batches.append((stacks, np.asarray(index).copy()))
            return real_batch(self, stacks, index)

        monkeypatch.setattr(module.MSCRED, "_batch", spy)
        detector.fit(entity.train)
        drawn[name] = batches
    pooled = [(s, i) for s, i in drawn["augmented"] if isinstance(s, module.PooledStacks)]
    # the rest (validation loss and scales) is the same in both fits: training draws as many
    own = sum(len(i) for _, i in drawn["plain"])
    rest = sum(len(i) for s, i in drawn["augmented"] if not isinstance(s, module.PooledStacks))
    assert sum(len(i) for _, i in pooled) == own - rest > 0
    pool = pooled[0][0]
    assert len(pool.parts) == 3
    # the 0.8× copy is longer, the 1.25× copy shorter than the training part (80 % of train)
    assert len(pool.parts[1]) > len(pool.parts[0]) * 0.8 > len(pool.parts[2])
    used = np.concatenate([i for _, i in pooled])
    assert (used >= pool.offsets[1]).any() and (used < pool.offsets[1]).any()
    assert np.isfinite(augmented.score(entity.test)).all()
    # a copy too short for one sample is left out, not an error
    short = make_detector("mscred", **{**TINY, "epochs": 1, "augment": (3.0, 0.5)})
    assert np.isfinite(short.fit(entity.train[:75]).score(entity.test[:200])).all()
    head = entity.train[: short.min_steps + 5]  # 3x faster: shorter than one sample
    stacks = short._samples(head)[0]
    pool, index = short._augmented(stacks, np.arange(len(stacks)), head)
    assert len(pool.parts) == 2 and len(index) == len(pool)  # the 0.5x copy only
    with pytest.raises(ConfigError, match=r"run_length > 1 set augment=\[\] \(-p augment=\[\]\)"):
        make_detector("mscred", augment=(0.8,), run_length=4)
    with pytest.raises(ConfigError, match="augment=.* is not valid"):
        make_detector("mscred", augment=(0.0,))


def test_validation_loss_builds_no_autograd_graph(fitted, entity, monkeypatch):
    """The per-epoch validation loss is inference: no graph, no gradients kept."""
    from mstad.models.mscred import detector as module

    seen, real_loss = [], module.MSCRED._loss

    def spy(self, *args, **kwargs):
        seen.append(torch.is_grad_enabled())
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(module.MSCRED, "_loss", spy)
    stacks = fitted._samples(entity.train)[0]
    loss = fitted._mean_loss(stacks, np.arange(min(20, len(stacks))))
    assert np.isfinite(loss) and seen and not any(seen)
