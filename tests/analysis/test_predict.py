"""Tests of analysis/predict.py: the draws and the level a prediction's interval rests on
(the fit's own bootstrap by default), and a calibrated law's two intervals (the prediction
interval holds the confidence interval at the same level)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.analysis.predict import chinchilla_frontier, predict
from scalinglaws.uncertainty.calibrated import calibrate
from scalinglaws.uncertainty.delta import log_prediction_sd


@pytest.fixture(scope="module")
def sweep():
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    boot = sl.bootstrap(result, runs, 100, rng=0, confidence_level=0.8, progress=False)
    return runs, result, boot


def _percentiles(result, draws, level, *, log=False, **inputs):
    """Percentile interval of the loss over ``draws``, computed apart from the package
    (a calibrated law interpolates between draws in log loss: ``log=True``)."""
    names = result.form.param_names
    losses = np.array([result.form.predict(dict(zip(names, row)), **inputs) for row in draws])
    tail = 50 * (1 - level)
    if log:
        return np.exp(np.percentile(np.log(losses), [tail, 100 - tail], axis=0))
    return np.percentile(losses, [tail, 100 - tail], axis=0)


def test_the_bootstrap_saved_with_a_fit_gives_its_intervals_at_its_level(sweep, tmp_path):
    """A fit carrying a bootstrap (with_bootstrap, `fit --bootstrap`, a loaded fit.json)
    gives intervals without `draws=`, at the bootstrap's confidence_level (0.8 here)."""
    _, result, boot = sweep
    path = tmp_path / "fit.json"
    sl.save(result.with_bootstrap(boot), path)
    loaded = sl.load(path)
    assert loaded.bootstrap is not None and loaded.bootstrap.confidence_level == 0.8
    inputs = dict(N=np.array([8e9, 3e10]), D=np.array([1.6e11, 6e11]))
    expected = _percentiles(result, boot.draws, 0.8, **inputs)
    for fit in (result.with_bootstrap(boot), loaded):
        p = predict(fit, **inputs)
        assert p.n_draws == len(boot.draws) == 100 and p.confidence_level == 0.8
        assert p.interval == "confidence" and p.method == "bootstrap percentile"
        np.testing.assert_allclose([p.low, p.high], expected, rtol=1e-12)
        np.testing.assert_allclose([p.confidence_low, p.confidence_high], expected, rtol=1e-12)
    # an explicit level wins, over the same draws
    wide = predict(loaded, confidence_level=0.95, **inputs)
    assert wide.confidence_level == 0.95
    np.testing.assert_allclose([wide.low, wide.high],
                               _percentiles(result, boot.draws, 0.95, **inputs), rtol=1e-12)
    assert np.all(wide.low < p.low) and np.all(p.high < wide.high)


def test_explicit_draws_and_their_level(sweep):
    _, result, boot = sweep
    inputs = dict(N=3e10, D=6e11)
    # a bootstrap passed as draws brings its level; a bare array has none: 0.95
    assert predict(result, boot, **inputs).confidence_level == 0.8
    bare = predict(result, boot.draws, **inputs)
    assert bare.confidence_level == 0.95 and bare.n_draws == 100
    np.testing.assert_allclose([bare.low, bare.high],
                               _percentiles(result, boot.draws, 0.95, **inputs), rtol=1e-12)
    # explicit draws replace the attached bootstrap
    attached = result.with_bootstrap(boot)
    assert predict(attached, boot.draws[:10], **inputs).n_draws == 10
    # a fit without a bootstrap: no interval, level 0.95 recorded
    plain = predict(result, **inputs)
    assert plain.low is None and plain.n_draws == 0 and plain.confidence_level == 0.95


def test_draws_false_asks_for_no_interval(sweep):
    _, result, boot = sweep
    attached = result.with_bootstrap(boot)
    p = predict(attached, N=3e10, D=6e11, draws=False)
    assert p.low is None and p.high is None and p.intervals == {} and p.n_draws == 0
    assert p.interval is None and p.loss == pytest.approx(result.predict(N=3e10, D=6e11))
    assert chinchilla_frontier(attached, draws=False).intervals == {}
    assert chinchilla_frontier(attached).confidence_level == 0.8
    assert chinchilla_frontier(attached).n_draws == 100


@pytest.mark.parametrize("draws, match", [
    (True, "`draws` must be None .*False .*got True"),
    (np.empty((0, 5)), r"`draws` must have shape \(n_draws, 5\).*draws=False"),
    ("boot.json", "`draws` must be a numeric"),
])
def test_bad_draws_are_refused_naming_draws(sweep, draws, match):
    _, result, _ = sweep
    with pytest.raises(sl.InputError, match=match):
        predict(result, draws, N=3e10, D=6e11)
    with pytest.raises(sl.InputError, match="`draws`"):
        sl.compute_optimal(result, 1e22, draws=draws)


def test_an_interval_and_no_draws_contradict(sweep):
    _, result, boot = sweep
    with pytest.raises(sl.InputError, match="`interval='confidence'`.*`draws=False`"):
        predict(result.with_bootstrap(boot), N=3e10, D=6e11, draws=False,
                interval="confidence")
    with pytest.raises(sl.InputError, match="`confidence_level`"):
        predict(result.with_bootstrap(boot), N=3e10, D=6e11, confidence_level=1.5)


# ----------------------------------------------------------------- calibrated laws
# Over a grid from inside the fitted sweep (<= 3e21 FLOP) to ~1e4 times beyond it.
GRID_N = np.geomspace(1e8, 1e12, 9)[:, None]
GRID_D = 20 * GRID_N * np.geomspace(0.1, 10, 5)[None, :]


@pytest.fixture(scope="module")
def calibrated():
    """generate_sweep(rng=1): its rollout's conformal 95% multiplier (1.57) is below the
    normal quantile, and its bootstrap percentiles beyond the sweep are wider than the
    delta method: before the fix, 11 of these 45 prediction intervals did not contain
    the confidence interval."""
    runs = sl.generate_sweep(rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
        return (calibrate(result, runs, n_resamples=200, rng=0, progress=False),
                calibrate(result, runs, n_resamples=0, progress=False))


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_a_prediction_interval_contains_the_confidence_interval(calibrated, level):
    """A new run's loss varies more than the mean's: at every point of the grid, at the
    same level, prediction_low <= confidence_low and confidence_high <= prediction_high,
    whether the confidence interval is bootstrap percentiles, explicit draws or the
    delta method."""
    booted, delta = calibrated
    assert booted.calibration.multiplier(0.95) < 1.96  # the case that broke it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ExtrapolationWarning)
        cases = [predict(booted, N=GRID_N, D=GRID_D, confidence_level=level),
                 predict(booted, booted.bootstrap.draws[:50], N=GRID_N, D=GRID_D,
                         confidence_level=level),
                 predict(delta, N=GRID_N, D=GRID_D, confidence_level=level)]
    for p in cases:
        assert p.confidence_low.shape == (9, 5)
        assert np.all(p.prediction_low <= p.confidence_low)
        assert np.all(p.confidence_high <= p.prediction_high)
        assert np.all(p.prediction_low < p.loss) and np.all(p.loss < p.prediction_high)
        assert p.confidence_level == level and p.interval == "prediction"
    assert [p.n_draws for p in cases] == [200, 50, 0]
    # the confidence interval is what its method says: the draws' percentiles
    explicit = _percentiles(booted.fit, booted.bootstrap.draws[:50], level, log=True,
                            N=GRID_N, D=GRID_D)
    np.testing.assert_allclose([cases[1].confidence_low, cases[1].confidence_high],
                               explicit, rtol=1e-10)


def test_the_prediction_interval_is_unchanged_where_it_was_already_wider(calibrated):
    """Inside the fitted range, without a bootstrap, the t multiplier exceeds the normal
    one, so the interval is the documented log L -+ q sqrt(s_theta^2 + s_eps^2) exactly
    (the coverage the README reports rests on it)."""
    from scipy import stats

    _, delta = calibrated
    N, D = np.array([1e8, 3e8, 1e9]), np.array([4e9, 6e9, 2e10])
    p = predict(delta, N=N, D=D)
    assert not np.any(p.beyond_calibration) and np.all(p.extrapolation_factor < 1)
    X = {"N": N, "D": D}
    s_theta = log_prediction_sd(delta.fit, delta.covariance, X)
    s_eps = delta.scatter.sd({**X, "C": delta.flops_per_token * N * D})
    q = stats.t.ppf(0.975, df=delta.scatter.dof)
    half = q * np.sqrt(s_theta**2 + s_eps**2)
    np.testing.assert_allclose(np.log(p.prediction_high / p.loss), half, rtol=1e-10)
    np.testing.assert_allclose(np.log(p.loss / p.prediction_low), half, rtol=1e-10)


def test_a_calibrated_law_takes_draws_false_and_its_bootstraps_level(calibrated):
    booted, _ = calibrated
    p = predict(booted, N=7e10, D=1.4e12, draws=False)
    assert p.low is None and p.prediction_low is None and p.n_draws == 0
    assert p.loss == pytest.approx(booted.fit.predict(N=7e10, D=1.4e12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ExtrapolationWarning)
        full = predict(booted, N=7e10, D=1.4e12)
    assert full.confidence_level == booted.bootstrap.confidence_level == 0.95
    assert full.n_draws == 200 and full.method.startswith("t")


def test_a_plain_fit_warns_far_beyond_its_runs(sweep):
    # the reviewer's case: a fit up to 8e8 parameters asked for 70B/1.4T printed nothing.
    # Far is measured in compute, run by run: in an IsoFLOP sweep the largest N and the
    # largest D belong to different runs (N_max D_max is about 100x the largest N D)
    runs, result = sweep[0], sweep[1]
    largest = float(np.max(runs.N * runs.D))
    assert result.fitted_range["N*D"][1] == largest
    assert result.fitted_range["N"] == (runs.N.min(), runs.N.max())
    assert 6 * largest == pytest.approx(runs.C.max(), rel=1e-12)
    n = runs.N[np.argmax(runs.N * runs.D)]
    d = largest / n
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(result, N=[n, 9 * n], D=[d, 10 * d])  # 90x the largest compute: quiet
    with pytest.warns(sl.ExtrapolationWarning, match=r"at up to 120x the largest compute "
                                                     r"\(C = k N D\) of the fitted runs"):
        predict(result, N=[n, 12 * n], D=[d, 10 * d])
    with pytest.warns(sl.ExtrapolationWarning, match="up to 1e\\+04x"):
        predict(result, N=runs.N.max() * 100, D=runs.D.max())  # N_max D_max is not the mark
    # compute_optimal and diagnose ask the law as far out: they warn alike (a reviewer's
    # `optimal --C 1e24` and `diagnose --N 70B --D 1.4T` on a 1e20 sweep printed nothing)
    from scalinglaws.analysis.allocation import compute_optimal
    from scalinglaws.analysis.diagnose import diagnose

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_optimal(result, 90 * runs.C.max(), draws=False)
        diagnose(result, n, 9 * d, draws=False)
    with pytest.warns(sl.ExtrapolationWarning, match=r"at up to 1\.2e\+03x the largest") as caught:
        compute_optimal(result, 1200 * runs.C.max(), draws=False)
    assert caught[0].filename == __file__  # the caller's line, not the package's
    with pytest.warns(sl.ExtrapolationWarning, match=r"at up to 120x the largest") as caught:
        diagnose(result, 12 * n, 10 * d, draws=False)
    assert caught[0].filename == __file__
    # a fit without a recorded range (given parameters, older files) cannot tell: no warning
    given = sl.FitResult.from_params("chinchilla", result.params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(given, N=1e15, D=1e16)


def test_a_fixed_fits_percentiles_say_they_take_the_fixed_value_as_exact():
    # every refit holds E at its fixed value, so the percentiles carry none of its error
    # (README, "Fixed parameters, simulated": 60.8% in range with E 0.10 too high)
    runs = sl.generate_sweep(rng=0)
    for fixed, method in (({"E": 1.9}, "bootstrap percentile (fixed-parameter bias excluded)"),
                          ({}, "bootstrap percentile")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            law = sl.fit(runs, fixed=fixed)
            law = law.with_bootstrap(sl.bootstrap(law, runs, 30, rng=0, progress=False))
            p = predict(law, N=3e10, D=6e11)
        assert p.method == method and p.n_draws == 30


def test_a_calibrated_law_takes_compute_with_one_of_n_and_d(calibrated):
    """C with N stands for D = C / (k N), k the law's flops_per_token (6 for generate_sweep):
    the same prediction and intervals as with that D written out here."""
    _, delta = calibrated
    n, c = np.array([3e8, 1e9]), 1e21
    d = c / (delta.flops_per_token * n)
    by_compute, by_tokens = predict(delta, N=n, C=c), predict(delta, N=n, D=d)
    np.testing.assert_allclose(by_compute.inputs["D"], d, rtol=1e-14)
    for name in ("loss", "confidence_low", "prediction_low", "prediction_high"):
        np.testing.assert_allclose(getattr(by_compute, name), getattr(by_tokens, name),
                                   rtol=1e-12)
    bounds = delta.interval("prediction", N=n, C=c)
    np.testing.assert_allclose([bounds.low, bounds.high], [by_tokens.prediction_low,
                                             by_tokens.prediction_high], rtol=1e-12)


def test_each_interval_says_its_kind_and_method(calibrated, sweep, tmp_path, capsys):
    """A calibrated prediction carries both intervals and said one method, the prediction
    interval's: the confidence interval's (bootstrap percentiles, or the delta method
    without draws, with the tie's bias allowance for a tied fit) appeared nowhere."""
    from scalinglaws.outputs.cli import main

    booted, delta = calibrated
    p = predict(booted, N=3e10, D=6e11)
    assert (p.interval, p.method) == ("prediction", p.prediction_method)
    assert p.confidence_method == "bootstrap percentile"
    assert p.prediction_method == "t inside the fitted range, conformal beyond"
    doc, attrs = p.to_dict(), p.to_frame().attrs
    for holder in (doc, attrs):  # the old keys stay, each kind's method is added
        assert holder["method"] == p.prediction_method
        assert holder["confidence_method"] == "bootstrap percentile"
        assert holder["prediction_method"] == p.prediction_method
    confidence = predict(booted, N=3e10, D=6e11, interval="confidence")
    assert (confidence.method, confidence.confidence_method) == ("bootstrap percentile",) * 2
    assert confidence.prediction_method == p.prediction_method
    assert predict(delta, N=3e10, D=6e11).confidence_method == "delta method"
    runs = sl.generate_sweep(rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        tied = calibrate(sl.fit(runs, preset="extrapolate"), runs, n_resamples=0,
                         progress=False)
    assert predict(tied, N=3e10, D=6e11).confidence_method == "delta method + tie bias"
    # a plain fit's one interval is a confidence interval: said under both names
    runs, result, boot = sweep
    plain = predict(result.with_bootstrap(boot), N=3e10, D=6e11)
    assert plain.method == plain.confidence_method == "bootstrap percentile"
    assert plain.prediction_method == "" and "prediction_method" not in plain.to_frame().attrs
    # the command line's JSON document: the table's attrs
    booted.save(tmp_path / "law.json")
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "law.json"), "--N", "7B", "--D", "140B",
                 "--json"]) == 0
    import json

    printed = json.loads(capsys.readouterr().out)
    assert printed["interval"] == "prediction"
    assert printed["confidence_method"] == "bootstrap percentile"
    assert printed["prediction_method"] == "t inside the fitted range, conformal beyond"
