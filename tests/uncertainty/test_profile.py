"""Profile-likelihood intervals: the end points against an independent profile scan,
the scale against its formula, and (slow) their coverage of a known truth."""

import functools
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.uncertainty.profile import (profile_interval, profile_intervals,
                                             profile_map, profile_scale)
from coverage_checks import band, check_readme_counts


def _independent_profile(runs, alpha, loss="huber"):
    """min over (e, a, b, beta) with alpha held, by scipy least_squares from several starts."""
    ln_n, ln_d, ln_l = np.log(runs.N), np.log(runs.D), np.log(runs.loss)

    def residuals(t):
        return np.logaddexp(np.logaddexp(t[1] - alpha * ln_n, t[2] - t[3] * ln_d), t[0]) - ln_l

    best = np.inf
    for x0 in ([0.6, 6.2, 7.6, 0.37], [0.5, 5.0, 5.0, 0.3], [0.7, 8.0, 9.0, 0.45]):
        kwargs = {"loss": "huber", "f_scale": 1e-3} if loss == "huber" else {}
        fit = optimize.least_squares(residuals, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                     max_nfev=5000, **kwargs)
        r = residuals(fit.x)
        value = (np.sum(np.where(np.abs(r) <= 1e-3, 0.5 * r**2, 1e-3 * (np.abs(r) - 0.5e-3)))
                 if loss == "huber" else 0.5 * np.sum(r**2))
        best = min(best, value)
    return best


@pytest.mark.parametrize("loss", ["squared", "huber"])
def test_end_points_are_where_an_independent_profile_crosses_the_threshold(loss):
    runs = sl.generate_sweep(noise=0.01, rng=5)
    result = sl.fit(runs, loss=loss)
    interval = profile_interval(result, runs, "alpha")
    # the scale from its formula: sum psi^2 / (n - p) over sum psi' / n
    r = np.log(result.predict(N=runs.N, D=runs.D)) - np.log(runs.loss)
    if loss == "huber":
        psi, curvature = np.clip(r, -1e-3, 1e-3), (np.abs(r) <= 1e-3).astype(float)
    else:
        psi, curvature = r, np.ones_like(r)
    scale = np.sum(psi**2) / (len(r) - 5) / np.mean(curvature)
    assert interval.scale == pytest.approx(scale, rel=1e-6)
    assert profile_scale(result, runs) == pytest.approx(scale, rel=1e-6)
    assert interval.threshold == pytest.approx(scale * stats.chi2.ppf(0.95, 1) / 2, rel=1e-9)
    rise = [_independent_profile(runs, v, loss) - result.objective
            for v in (interval.low, interval.high)]
    # at each end point the independent profile has risen by the threshold (to the
    # precision of the end point's root-finding, 1e-6 relative in alpha)
    np.testing.assert_allclose(rise, interval.threshold, rtol=1e-3)
    # ...and inside the interval it stays below
    mid = 0.5 * (interval.low + result.params["alpha"])
    assert _independent_profile(runs, mid, loss) - result.objective < interval.threshold
    assert interval.low < result.params["alpha"] < interval.high


def test_intervals_for_both_exponents_and_bad_arguments():
    runs = sl.generate_sweep(noise=0.01, rng=6)
    result = sl.fit(runs)
    both = profile_intervals(result, runs)
    assert set(both) == {"alpha", "beta"}
    for name, interval in both.items():
        assert interval.low < result.params[name] < interval.high
        assert not interval.open_low and not interval.open_high
        assert interval.method == "profile likelihood"  # the interval says what kind it is
        assert np.all(np.diff(interval.values) >= 0)
    narrow = profile_interval(result, runs, "beta", confidence_level=0.5)
    assert both["beta"].low < narrow.low < narrow.high < both["beta"].high
    with pytest.raises(InputError, match="`parameter`"):
        profile_interval(result, runs, "gamma")
    with pytest.raises(InputError, match="`confidence_level`"):
        profile_interval(result, runs, "alpha", confidence_level=95)
    with pytest.raises(InputError, match="fingerprints differ"):
        profile_interval(result, sl.generate_sweep(noise=0.01, rng=7), "alpha")


@functools.cache
def profile_coverage(loss):
    """Of 60 simulated sweeps (1% noise, ``rng=2000 + seed``), how many nominal 95% profile
    intervals of alpha and beta, and how many joint 95% regions of (alpha, beta) (the one
    ``plot.profile`` draws), hold the truth."""
    truth = DEFAULT_TRUTH["chinchilla"]
    hits = {"alpha": 0, "beta": 0, "joint": 0}
    for seed in range(N_PROFILE_SWEEPS):
        runs = sl.generate_sweep(noise=0.01, rng=2000 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            result = sl.fit(runs, loss=loss)
            intervals = profile_intervals(result, runs)
            at_truth = profile_map(result, runs, [truth["alpha"]], [truth["beta"]])
        for name in ("alpha", "beta"):
            hits[name] += bool(intervals[name].low <= truth[name] <= intervals[name].high)
        hits["joint"] += bool(at_truth.statistic[0, 0] <= stats.chi2.ppf(0.95, 2))
    return hits


N_PROFILE_SWEEPS = 60


@pytest.mark.slow
def test_coverage_on_simulated_sweeps_is_what_the_readme_states():
    """The counts the README quotes (Huber delta = 1e-3: alpha and beta 54 and 54 of 60,
    the joint region 51; squared loss: 56, 57 and 56), each within the counts a CPU's
    rounding may move (a few end points sit within rounding of the truth)."""
    low, high = band(N_PROFILE_SWEEPS)
    huber, squared = profile_coverage("huber"), profile_coverage("squared")
    check_readme_counts(
        r"the nominal 95% intervals covered the truth \d+% of the time for both α and β "
        r"under Huber δ = 1e-3 \((\d+) and (\d+) of 60\), and \d+% and \d+% with squared "
        r"loss \((\d+) and (\d+)\); the joint 95% region of \(α, β\) that `plot.profile` "
        r"draws covered the true pair in \d+% \((\d+)\) and \d+% \((\d+)\)\. Within 3 Monte "
        r"Carlo errors of 95% lie (\d+) to (\d+) of 60",
        [huber["alpha"], huber["beta"], squared["alpha"], squared["beta"], huber["joint"],
         squared["joint"]], (low, high))


@pytest.mark.slow
@pytest.mark.parametrize("loss, name", [
    ("huber", "alpha"), ("huber", "beta"),
    pytest.param("huber", "joint", marks=pytest.mark.xfail(
        strict=True, reason="the joint 95% region under Huber covered 51 of 60 (85%), below "
                            "the 52-60 of band(60): an asymptotic region whose scale rests on "
                            "the ~10 runs in Huber's quadratic zone (README, plot label)")),
    ("squared", "alpha"), ("squared", "beta"), ("squared", "joint")])
def test_coverage_on_simulated_sweeps_is_nominal(loss, name):
    """Each count within 3 Monte Carlo errors of the nominal 95%, both sides (``band(60)``:
    52 to 60 of 60). The interval is asymptotic and, under Huber, its scale rests on the
    runs in the quadratic zone (about 10 of 108 here), so it covers somewhat less than
    nominal: the joint region under Huber falls below the band (strict xfail)."""
    low, high = band(N_PROFILE_SWEEPS)
    count = profile_coverage(loss)[name]
    assert low <= count <= high, (loss, name, count)


def test_epoch_profile_intervals_as_the_readme_states(epoch_csv):
    runs = sl.load_runs(epoch_csv).exclude_top_loss(5)
    result = sl.fit(runs)
    intervals = profile_intervals(result, runs)
    # README, "Profile-likelihood intervals": alpha [0.323, 0.369], beta [0.346, 0.388]
    assert (round(intervals["alpha"].low, 3), round(intervals["alpha"].high, 3)) == (0.323, 0.369)
    assert (round(intervals["beta"].low, 3), round(intervals["beta"].high, 3)) == (0.346, 0.388)


def test_profile_map_is_the_scaled_rise_of_the_profile_objective():
    from scalinglaws.uncertainty.profile import profile_map

    runs = sl.generate_sweep(noise=0.01, rng=5)
    result = sl.fit(runs)
    alpha, beta = result.params["alpha"], result.params["beta"]
    grid = profile_map(result, runs, [alpha - 0.02, alpha, alpha + 0.02], [beta])
    assert grid.minimum == pytest.approx(result.objective, rel=1e-12)
    assert grid.scale == pytest.approx(profile_scale(result, runs), rel=1e-12)
    assert grid.statistic[1, 0] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(grid.statistic, 2 * (grid.objective - grid.minimum) / grid.scale,
                               rtol=1e-12, atol=1e-12)
    # the rise off the optimum matches the independent profile over (e, a, b) at alpha +- 0.02
    # with beta free there, so the 2-D cell (beta held) is at least as high
    for row, value in ((0, alpha - 0.02), (2, alpha + 0.02)):
        assert grid.objective[row, 0] >= _independent_profile(runs, value) * (1 - 1e-9)


def test_a_profile_interval_names_its_kind_frozen_and_in_old_pickles():
    import dataclasses
    import pickle

    from scalinglaws.uncertainty.profile import ProfileInterval

    interval = ProfileInterval(parameter="alpha", estimate=0.34, low=0.32, high=0.37,
                               confidence_level=0.95, threshold=1e-4, scale=2e-5,
                               values=np.array([0.32, 0.34, 0.37]),
                               objectives=np.array([1.0, 0.9, 1.0]))
    assert interval.method == "profile likelihood"
    assert "method='profile likelihood'" in repr(interval)
    with pytest.raises(dataclasses.FrozenInstanceError):
        interval.method = "bootstrap percentile"
    assert pickle.loads(pickle.dumps(interval)).method == "profile likelihood"
    # an interval pickled before the field existed has no "method" in its state: unpickling
    # (FrozenOnUnpickle.__setstate__) restores it, and it reads the one kind this module
    # has ever made
    state = {k: v for k, v in vars(interval).items() if k != "method"}
    restored = ProfileInterval.__new__(ProfileInterval)
    restored.__setstate__(state)
    assert "method" not in vars(restored) and restored.method == "profile likelihood"
    assert not restored.values.flags.writeable


def test_an_exact_fit_is_refused_for_its_degrees_of_freedom():
    # it used to say "no run is in Huber's quadratic zone", false here: all 5 runs are
    runs = sl.load_runs(sl.generate_sweep(rng=0).to_frame().iloc[[0, 20, 40, 60, 80]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
    with pytest.raises(InputError, match="5 runs for 5 free parameters: no residual"):
        profile_interval(result, runs, "alpha")
