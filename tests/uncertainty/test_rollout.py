"""Rollout back-tests: expanding windows along C, N or D."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.estimator import LawFitter
from scalinglaws.laws.losses import AsymmetricHuber
from scalinglaws.uncertainty.backtest import backtest
from scalinglaws.uncertainty.rollout import RolloutResult, rollout, rollout_cuts

# A small start grid keeps the many fits quick; noise-free sweeps are fitted exactly from it.
FEW_STARTS = {"E": [1.0, 2.0], "A": [100.0, 1e3], "B": [100.0, 1e3], "alpha": [0.3],
              "beta": [0.3]}
TRUTH = sl.synthetic.DEFAULT_TRUTH["chinchilla"]


@pytest.fixture(scope="module")
def clean():
    return sl.generate_sweep(rng=0, noise=0.0)


@pytest.fixture(scope="module")
def tiny():
    """Nine runs on five compute levels, C = 1, 1, 2, 2, 4, 4, 8, 8, 16 (x 1e18),
    following kaplan_c exactly (L = (C_c / C)^0.1)."""
    C = np.array([1, 1, 2, 2, 4, 4, 8, 8, 16]) * 1e18
    return sl.Runs.from_arrays(C=C, loss=(1e22 / C) ** 0.1)


def test_fold_assignment_by_hand(tiny):
    # min_train=4: levels 1, 2, 4, 8, 16 have 2, 4, 6, 8, 9 runs at or below them, so
    # the admissible cuts (>= 4 to fit, >= 1 to predict) are 2, 4 and 8 (x 1e18).
    result = rollout(tiny, "kaplan_c", axis="C", min_train=4, n_cuts=5)
    assert result.cuts == (2e18, 4e18, 8e18)
    assert result.n_train == (4, 6, 8)
    # fold 0 predicts rows 4..8, fold 1 rows 6..8, fold 2 row 8
    np.testing.assert_array_equal(result.fold, [0] * 5 + [1] * 3 + [2])
    np.testing.assert_array_equal(result.row, [4, 5, 6, 7, 8, 6, 7, 8, 8])
    # factor = C / largest fitted C: 4/2, 4/2, 8/2, 8/2, 16/2 | 8/4, 8/4, 16/4 | 16/8
    np.testing.assert_allclose(result.factor, [2, 2, 4, 4, 8, 2, 2, 4, 2])
    np.testing.assert_allclose(result.inputs["C"], np.array([4, 4, 8, 8, 16, 8, 8, 16, 16]) * 1e18)
    # the law is exact, so every prediction is
    np.testing.assert_allclose(result.predicted, result.loss, rtol=1e-8)
    assert result.max_relative_error < 1e-8
    # n_cuts=2 keeps the two ends of the admissible range
    assert rollout(tiny, "kaplan_c", axis="C", min_train=4, n_cuts=2).cuts == (2e18, 8e18)


def test_explicit_cuts_and_the_level_tolerance(tiny):
    result = rollout(tiny, "kaplan_c", cuts=[4e18], fit_options={})
    assert result.cuts == (4e18,) and result.n_train == (6,)
    np.testing.assert_array_equal(result.row, [6, 7, 8])
    # values within rtol of each other are one level: 1.0000001e18 joins 1e18
    values = np.array([1e18, 1.0000001e18, 2e18, 3e18])
    np.testing.assert_array_equal(rollout_cuts(values, min_train=2, rtol=1e-6), [1.0000001e18, 2e18])
    np.testing.assert_array_equal(rollout_cuts(values, min_train=1, rtol=0), [1e18, 1.0000001e18,
                                                                              2e18])


def test_rollout_cuts_spread_evenly_in_log():
    values = np.geomspace(1, 1e6, 61)  # one run per 0.1 decade
    cuts = rollout_cuts(values, n_cuts=4, min_train=11, min_test=10)
    # admissible levels run from 1e1 (11 runs at or below) to 1e5 (10 above);
    # four cuts evenly spaced in log between them are 1e1, 10^(7/3), 10^(11/3), 1e5
    np.testing.assert_allclose(np.log10(cuts), [1.0, 2.3, 3.7, 5.0], atol=0.051)


def test_noise_free_rollout_is_exact_and_factors_are_right(clean):
    result = rollout(clean, axis="N", n_cuts=3, starts=FEW_STARTS)
    assert len(result.cuts) == 3 and result.max_relative_error < 1e-6
    N = clean.N
    for k, cut in enumerate(result.cuts):
        inside = result.fold == k
        largest_fitted = N[N <= cut].max()
        np.testing.assert_allclose(result.factor[inside], result.inputs["N"][inside] / largest_fitted)
        assert set(result.row[inside]) == set(np.flatnonzero(N > cut))
        assert result.n_train[k] == (N <= cut).sum() == result.fits[k].n_runs
    assert np.all(result.factor > 1)
    truth = sl.Chinchilla().predict(TRUTH, N=result.inputs["N"], D=result.inputs["D"])
    np.testing.assert_allclose(result.predicted, truth, rtol=1e-6)


def test_rollout_errors_on_a_known_law_with_noise_are_centred():
    """Ten sweeps from the known law with 1% log-normal noise: the mean signed error of
    the rollout predictions is within 3 standard errors (from the spread between sweeps)
    of 0, and the mean |error| sits just above the noise floor sigma sqrt(2/pi) = 0.80%."""
    biases, errors, log_errors = [], [], []
    for seed in range(10):
        runs = sl.generate_sweep(rng=100 + seed, noise=0.01)
        result = rollout(runs, axis="C", n_cuts=3, starts=FEW_STARTS)
        biases.append(result.bias)
        errors.append(result.mean_relative_error)
        log_errors.append(np.mean(result.log_error))
    standard_error = np.std(biases, ddof=1) / np.sqrt(len(biases))
    assert abs(np.mean(biases)) < 3 * standard_error + 1e-4
    assert abs(np.mean(log_errors)) < 3 * np.std(log_errors, ddof=1) / np.sqrt(10) + 1e-4
    assert 0.0075 < np.mean(errors) < 0.015


def test_fit_options_and_weights_pass_through(clean):
    noisy = sl.generate_sweep(rng=5, noise=0.01)
    tied_starts = {k: v for k, v in FEW_STARTS.items() if k != "beta"}
    tied = rollout(noisy, n_cuts=2, starts=tied_starts, tied={"beta": "alpha"})
    for fit in tied.fits:
        assert fit.params["alpha"] == fit.params["beta"] and fit.tied == {"beta": "alpha"}
    asym = rollout(noisy, n_cuts=2, fit_options={"starts": FEW_STARTS,
                                                 "loss": AsymmetricHuber(1e-3, 3.0)})
    assert asym.fits[0].options["loss"] == "asymmetric_huber"
    assert "ratio=3" in asym.label

    def by_compute(train):
        return train.C / train.C.max()

    weighted = rollout(noisy, n_cuts=2, starts=FEW_STARTS, weights=by_compute)
    cut = weighted.cuts[0]
    train = noisy.select(noisy.C <= cut)
    direct = LawFitter("chinchilla", starts=FEW_STARTS).fit(train, weights=train.C / train.C.max())
    assert weighted.fits[0].params == direct.params
    as_array = rollout(noisy, n_cuts=2, starts=FEW_STARTS, weights=noisy.C / noisy.C.max())
    # the same weights up to a constant factor per fold: the same optimum
    for a, b in zip(as_array.fits, weighted.fits):
        for name in ("E", "alpha", "beta"):
            assert a.params[name] == pytest.approx(b.params[name], rel=1e-6)
    assert "weights=by_compute" in weighted.label


def test_interval_hooks_give_coverage_per_kind(clean):
    noisy = sl.generate_sweep(rng=3, noise=0.01)
    calls = []

    def band(width):
        def hook(fit, runs_train, inputs):
            calls.append((width, fit.n_runs, len(runs_train), sorted(inputs)))
            centre = fit.predict(**inputs)
            return centre * (1 - width), centre * (1 + width)
        return hook

    result = rollout(noisy, n_cuts=3, starts=FEW_STARTS,
                     intervals={"narrow": band(0.005), "wide": band(0.05)})
    assert len(calls) == 6 and all(c[1] == c[2] and c[3] == ["D", "N"] for c in calls)
    for kind, width in (("narrow", 0.005), ("wide", 0.05)):
        expected = np.abs(result.loss - result.predicted) <= width * result.predicted + 1e-12
        np.testing.assert_array_equal(result.covered(kind), expected)
        assert result.coverage[kind] == pytest.approx(expected.mean())
    assert result.coverage["narrow"] < result.coverage["wide"]
    bins = result.by_factor()
    assert {"coverage_narrow", "coverage_wide"} <= set(bins.columns)
    assert bins["n"].sum() == result.n_records
    frame = result.to_frame()
    assert {"narrow_low", "narrow_high", "narrow_covered", "wide_covered"} <= set(frame.columns)
    with pytest.raises(InputError, match="no interval kind 'other'"):
        result.covered("other")


def test_a_hook_returning_a_prediction_records_its_interval_s_kind_and_level():
    """The hooks' intervals had no kind or level in the result (a figure could only name the
    hook's key): a hook returning a result that says what its interval is (a bootstrap
    Prediction, a CalibratedFit's IntervalBounds) has it recorded; bare bounds record none."""
    import pickle

    from scalinglaws.uncertainty.calibrated import IntervalBounds

    noisy = sl.generate_sweep(rng=3, noise=0.01)

    def bootstrap_prediction(fit, runs_train, inputs):
        draws = sl.bootstrap(fit, runs_train, n_resamples=20, rng=0).draws
        return sl.predict(fit, draws=draws, confidence_level=0.9, **inputs)

    def bare(fit, runs_train, inputs):
        prediction = bootstrap_prediction(fit, runs_train, inputs)
        return prediction.low, prediction.high

    def delta(fit, runs_train, inputs):
        centre = fit.predict(**inputs)
        return IntervalBounds(kind="prediction", low=0.98 * centre, high=1.02 * centre,
                              confidence_level=0.8, method="delta method",
                              log_factor=np.zeros_like(centre),
                              beyond_calibration=np.zeros(centre.shape, bool))

    result = rollout(noisy, n_cuts=2, starts=FEW_STARTS,
                     intervals={"boot": bootstrap_prediction, "bare": bare, "delta": delta})
    assert dict(result.interval_descriptions["boot"]) == {
        "interval": "confidence", "confidence_level": 0.9, "method": "bootstrap percentile"}
    assert result.describe_interval("boot") == "90% bootstrap percentile confidence interval"
    assert result.describe_interval("delta") == "80% delta method prediction interval"
    assert "bare" not in result.interval_descriptions
    assert result.describe_interval("bare") is None
    # the bounds are the prediction's, as when the hook returned them bare
    for side in (0, 1):
        np.testing.assert_array_equal(result.intervals["boot"][side],
                                      result.intervals["bare"][side])
    assert result.coverage["boot"] == result.coverage["bare"]
    with pytest.raises(InputError, match="no interval kind 'other'"):
        result.describe_interval("other")
    text = result.summary()
    assert "boot interval (90% bootstrap percentile confidence interval) coverage" in text
    assert "bare interval coverage" in text
    doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert doc["interval_descriptions"] == {
        "boot": {"interval": "confidence", "confidence_level": 0.9,
                 "method": "bootstrap percentile"},
        "delta": {"interval": "prediction", "confidence_level": 0.8, "method": "delta method"}}
    with pytest.raises(TypeError):
        result.interval_descriptions["boot"]["confidence_level"] = 0.5
    # a rollout pickled before the field existed reads back with no description
    state = dict(result.__dict__)
    del state["interval_descriptions"]
    old = RolloutResult.__new__(RolloutResult)
    old.__setstate__(state)
    assert old.interval_descriptions == {} and old.describe_interval("boot") is None
    assert pickle.loads(pickle.dumps(result)).describe_interval("boot") == \
        result.describe_interval("boot")


def test_a_hook_must_keep_one_kind_and_level_and_give_bounds(clean):
    levels = iter([0.9, 0.8, 0.8])

    def drifting(fit, runs_train, inputs):
        return sl.predict(fit, draws=np.array([list(fit.params.values())] * 3),
                          confidence_level=next(levels), **inputs)

    with pytest.raises(InputError, match=r"`intervals\['drift'\]` returned .*confidence_level "
                                         r"0.8.* for fold 1 .* but .*confidence_level 0.9.* "
                                         r"before: coverage needs one kind and level"):
        rollout(clean, n_cuts=2, starts=FEW_STARTS, intervals={"drift": drifting})

    def no_draws(fit, runs_train, inputs):
        return sl.predict(fit, **inputs)  # a point prediction: no interval

    with pytest.raises(InputError, match=r"`intervals\['point'\]` returned no interval"):
        rollout(clean, n_cuts=2, starts=FEW_STARTS, intervals={"point": no_draws})


def test_result_is_frozen_and_exports(clean):
    result = rollout(clean, n_cuts=2, starts=FEW_STARTS, label="default")
    assert isinstance(result, RolloutResult) and result.label == "default"
    with pytest.raises(AttributeError):
        result.axis = "N"
    for array in (result.loss, result.predicted, result.factor, result.relative_error,
                  result.fold, result.inputs["C"]):
        with pytest.raises(ValueError):
            array[0] = 0
    with pytest.raises(TypeError):
        result.inputs["C"] = None
    frame = result.to_frame()
    assert list(frame.columns) == ["fold", "cut", "row", "N", "D", "C", "loss", "predicted",
                                   "relative_error", "signed_relative_error", "log_error",
                                   "factor", "label"]
    # noise-free fits: errors are ~1e-16, so compare absolutely
    np.testing.assert_allclose(frame["signed_relative_error"],
                               (frame["predicted"] - frame["loss"]) / frame["loss"], atol=1e-12)
    np.testing.assert_allclose(frame["log_error"], np.log(frame["predicted"] / frame["loss"]),
                               atol=1e-12)
    frame.loc[0, "loss"] = -1.0
    assert result.loss[0] > 0
    doc = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert doc["summary"]["n_records"] == result.n_records
    assert len(doc["folds"]) == 2 and len(doc["records"]["factor"]) == result.n_records
    text = result.summary()
    assert "rollout of chinchilla (default) along C: 2 folds" in text
    assert "[2, 4)" in text or "[1, 2)" in text


def test_rollout_result_pickles_and_keeps_its_mappings_read_only(clean):
    """Its mappings are FrozenDicts (a MappingProxyType cannot be pickled): a pickled or
    deep-copied rollout gives the same document, its mappings still refuse changes."""
    import copy
    import pickle

    result = rollout(clean, n_cuts=2, starts=FEW_STARTS, label="default")
    for twin in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert json.dumps(twin.to_dict()) == json.dumps(result.to_dict())
        for mapping in (twin.inputs, twin.options, twin.options["fit_options"]):
            with pytest.raises(TypeError):
                mapping["C"] = None


def test_backtest_rollout_is_the_rollout(clean):
    noisy = sl.generate_sweep(rng=3, noise=0.01)

    def band(fit, runs_train, inputs):
        centre = fit.predict(**inputs)
        return centre * 0.98, centre * 1.02

    via_backtest = backtest(noisy, "chinchilla", rollout=True, axis="D", n_cuts=2,
                            fit_options={"starts": FEW_STARTS}, interval=band)
    direct = rollout(noisy, axis="D", n_cuts=2, starts=FEW_STARTS, intervals={"interval": band})
    assert isinstance(via_backtest, RolloutResult) and via_backtest.axis == "D"
    np.testing.assert_array_equal(via_backtest.predicted, direct.predicted)
    assert via_backtest.coverage == direct.coverage
    # holdout= names the axis when axis= is not given
    assert backtest(clean, holdout="N", rollout=True, n_cuts=1,
                    fit_options={"starts": FEW_STARTS}).axis == "N"


@pytest.mark.parametrize("kwargs, message", [
    ({"rollout": True, "threshold": 1e20}, "do not apply with rollout=True"),
    ({"rollout": True, "holdout": "group"}, "needs an axis"),
    ({"rollout": True, "axis": "loss"}, "`axis` must be one of"),
    ({"axis": "N"}, "apply only with rollout=True"),
    ({"n_cuts": 3}, "apply only with rollout=True"),
    ({"rollout": True, "interval": 3}, "`interval` must be callable"),
])
def test_backtest_rollout_arguments(clean, kwargs, message):
    with pytest.raises(InputError, match=message):
        backtest(clean, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": "U"}, "`axis` must be one of"),
    ({"fit_options": [1]}, "`fit_options` must be a dict"),
    ({"fit_options": {"form": "kaplan_n"}}, "must not contain 'form'"),
    ({"fit_options": {"weights": "C"}}, "pass `weights` to rollout"),
    ({"space": "cubic"}, "`space`"),
    ({"intervals": [1]}, "`intervals` must be a dict"),
    ({"intervals": {"x": 3}}, r"`intervals\['x'\]` must be callable"),
    ({"intervals": {"x": lambda f, t, i: (2.0, 1.0)}}, r"`intervals\['x'\]` returned low > high"),
    ({"intervals": {"x": lambda f, t, i: (np.zeros(2), np.ones(2))}}, "shapes"),
    ({"weights": "nope"}, "`weights` names column 'nope'"),
    ({"weights": [1.0, 2.0]}, "one value per run"),
    ({"min_train": 3}, "`min_train` must be an integer > 5"),
    ({"min_train": 200}, "no cut leaves 200 runs to fit"),
    ({"n_cuts": 0}, "`n_cuts` must be an integer >= 1"),
    ({"cuts": [1e15]}, "leaves 0 runs"),
    ({"cuts": [1e30]}, "holds out no run"),
    ({"cuts": ["a"]}, "`cuts` must be numbers"),
    ({"rtol": 2.0}, r"`rtol` must be a number in \[0, 1\)"),
])
def test_bad_arguments_raise_naming_them(clean, kwargs, message):
    kwargs = {"starts": FEW_STARTS, "n_cuts": kwargs.pop("n_cuts", 1), **kwargs}
    with pytest.raises(InputError, match=message):
        rollout(clean, **kwargs)


def test_a_form_needing_a_missing_column_is_named(tiny):
    with pytest.raises(InputError, match="'N'"):
        rollout(tiny, "chinchilla", axis="C")


def test_a_bootstrap_interval_tuple_keeps_its_description(clean):
    # the bootstrap's Interval/Estimate are tuples that say what they are: a hook returning
    # one is read as described bounds, not as a bare (low, high) pair (nor refused for its
    # three fields)
    def estimate(fit, runs_train, inputs):
        boot = sl.bootstrap(fit, runs_train, n_resamples=20, rng=0)
        n = np.asarray(inputs["N"], dtype=float)
        return boot.interval(lambda p: np.asarray(p["E"])[..., None] + 0 * n)

    def interval(fit, runs_train, inputs):
        return estimate(fit, runs_train, inputs).bounds()

    result = rollout(clean, n_cuts=2, starts=FEW_STARTS,
                     intervals={"estimate": estimate, "interval": interval})
    for kind in ("estimate", "interval"):
        assert result.describe_interval(kind) == "95% bootstrap percentile confidence interval"
    for side in (0, 1):
        np.testing.assert_array_equal(result.intervals["estimate"][side],
                                      result.intervals["interval"][side])
