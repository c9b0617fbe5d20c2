"""The AR(1) sieve bootstrap of curve-law fits (``bootstrap_curves(method="ar1")``): the
pseudo-curves keep every curve's points and redraw their noise from an AR(1) fitted to
the curve's residuals. Fast checks of what it rests on, and the coverage simulation (the
bench's, `python bench/bench_curves.py --coverage --method ar1 ...`) on data sets the
README's figures did not use."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.analysis.curves import predict_curve
from scalinglaws.fitting.curves import CurveFitResult, fit_curves
from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves
from scalinglaws.uncertainty.curves import bootstrap_curves

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")


@pytest.fixture(scope="module")
def fitted():
    schedules = default_schedules()
    schedules.pop("wsd")
    curves, truth = synthetic_curves("momentum", schedules=schedules, rng=3, noise=0.001,
                                     autocorrelation=0.7)
    return curves, truth, fit_curves(curves, "momentum")


def test_same_seed_same_draws_and_the_method_is_said(fitted):
    curves, _, fit = fitted
    first = bootstrap_curves(fit, curves, 20, method="ar1", rng=4)
    again = bootstrap_curves(fit, curves, 20, method="ar1", rng=4)
    np.testing.assert_array_equal(first.draws, again.draws)
    assert not np.array_equal(first.draws,
                              bootstrap_curves(fit, curves, 20, method="ar1", rng=5).draws)
    assert first.method == "ar1" and first.n_failed == 0 and first.n_distinct == 20
    assert set(first.ar1_coefficients) == set(curves.runs) and first.block_lengths == {}
    text = first.describe()
    assert text.startswith("95% bootstrap percentile intervals (AR(1) sieve of each "
                           "curve's residuals, coefficients ")
    assert "distinct" not in text
    assert text.endswith("assumes the law is right and each curve's log residuals a "
                         "stationary AR(1)")
    for name, (low, high) in first.intervals.items():
        assert low <= fit.params[name] <= high, name


@pytest.mark.parametrize("rho", [0.0, 0.7])
def test_the_fitted_noise_coefficient_is_the_simulated_one(rho):
    # 3 curves of about 150 points: the bias-corrected lag-1 coefficient of each curve's
    # residuals has a standard error of about 0.06 (sqrt((1 - rho^2) / n)); the mean of
    # 3 curves x 3 data sets, 0.02-0.03: within 0.08 of the simulated coefficient
    schedules = default_schedules()
    schedules.pop("wsd")
    found = []
    for seed in range(3):
        curves, _ = synthetic_curves("momentum", schedules=schedules, rng=seed, noise=0.001,
                                     autocorrelation=rho)
        fit = fit_curves(curves, "momentum")
        draws = bootstrap_curves(fit, curves, 2, method="ar1", rng=seed)
        found += list(draws.ar1_coefficients.values())
    assert abs(np.mean(found) - rho) < 0.08, found


def test_the_sieve_is_the_default_and_block_length_alone_means_blocks(fitted):
    # the default changed from blocks to the sieve (README): a call that sized the blocks
    # still gets the blocks it sized, and a block length for the sieve is refused
    curves, _, fit = fitted
    default = bootstrap_curves(fit, curves, 5, rng=4)
    np.testing.assert_array_equal(default.draws,
                                  bootstrap_curves(fit, curves, 5, method="ar1", rng=4).draws)
    sized = bootstrap_curves(fit, curves, 5, block_length=9, rng=4)
    assert sized.method == "blocks" and set(sized.block_lengths.values()) == {9}
    np.testing.assert_array_equal(sized.draws, bootstrap_curves(
        fit, curves, 5, method="blocks", block_length=9, rng=4).draws)
    with pytest.raises(InputError, match="`block_length` sizes the blocks of "
                                         "method='blocks'; method='ar1'"):
        bootstrap_curves(fit, curves, 5, method="ar1", block_length=9, rng=4)


def test_short_curves_are_refused(fitted):
    curves, _, _ = fitted
    first = curves.frame.groupby("run_id").cumcount().to_numpy() < 5  # 5 points a curve
    short = curves.select(mask=first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fit of so few points is poorly determined
        fit = fit_curves(short, "momentum")
        with pytest.raises(InputError, match=r"method='ar1' needs at least \d+ points per "
                                             r"curve to estimate its noise; curve 'constant'"):
            bootstrap_curves(fit, short, 5, method="ar1", rng=0)


def sieve_coverage(law, first_seed, replicates, resamples, levels=(0.9, 0.95), rho=0.7):
    """Coverage counts of the AR(1) sieve's percentile intervals over data sets
    ``first_seed`` onwards of the bench's simulation (constant, cosine and two-stage
    curves, AR(1) log noise with coefficient ``rho`` and sd 0.1%): ``{level: {name: hits}}``
    for every parameter and ``"final"``, the held-out WSD run's final loss; and the
    actual spread of each fitted value over the data sets beside the draws' median sd."""
    schedules = default_schedules()
    held = schedules.pop("wsd")
    last = [held.total_steps - 1]
    hits = {level: {} for level in levels}
    errors, spreads = [], []
    for replicate in range(first_seed, first_seed + replicates):
        curves, truth = synthetic_curves(law, schedules=schedules, rng=replicate,
                                         noise=0.001, autocorrelation=rho)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bounds and failed refits: counted by the bench
            fit = fit_curves(curves, law)
            draws = bootstrap_curves(fit, curves, resamples, method="ar1", rng=replicate,
                                     max_iter=200)
        truth["final"] = CurveFitResult.from_params(law, truth).predict(held, last)[0]
        names = fit.law.param_names
        for level in levels:
            low, high = draws.percentile_ends(draws.draws, level)  # as draws.intervals
            band = predict_curve(fit, held, steps=last, draws=draws, confidence_level=level)
            for name, lo, hi in [*zip(names, low, high), ("final", band.low[0], band.high[0])]:
                hits[level][name] = hits[level].get(name, 0) + bool(lo <= truth[name] <= hi)
        errors.append([fit.params[n] - truth[n] for n in names])
        spreads.append(np.std(draws.draws, axis=0))
    ratio = np.median(np.array(spreads), axis=0) / np.std(errors, axis=0)
    return hits, dict(zip(names, ratio))


def within_three_mc_errors(count, n, level):
    return abs(count - n * level) <= 3 * np.sqrt(n * level * (1 - level))


def _assert_covers_and_spreads(hits, n_sets, ratio, spread_band):
    """Every parameter's count within 3 Monte Carlo errors of nominal at both levels, and
    the draws' spread within ``spread_band`` of the actual one."""
    for level in (0.9, 0.95):
        for name, count in hits[level].items():
            assert within_three_mc_errors(count, n_sets, level), (level, name, count)
    for name, value in ratio.items():
        assert spread_band[0] < value < spread_band[1], (name, value)


@pytest.mark.slow
def test_momentum_sieve_intervals_cover_at_90_and_95_percent():
    # Every parameter and the held-out WSD final loss, data sets 100-159, 60 resamples
    # (the README's rows: `python bench/bench_curves.py --coverage --method ar1 --quantity
    # params`, data sets 0-99, 100 resamples). Moving blocks covered C 82 and lambda 81 of
    # 100 at 90% there; the sieve must be within 3 Monte Carlo errors of nominal at both
    # levels (at 90%: 47-60 of 60; at 95%: 52-60), and not far wider than the estimates'
    # actual spread (the draws' median sd / the sd of the fitted values over the data
    # sets; about 1.13 of it comes from the simulation's noise, which starts every curve
    # at 0 rather than stationary, so its first points are quieter than the AR(1) the
    # sieve fits). Measured with the sieve's (B + 1) a-th ordered ends (2-core VM): at 90%
    # L0 57, A 57, alpha 58, C 54, lambda 55, final 56 of 60; at 95% 59, 58, 59, 58, 57,
    # 58; spread 1.42, 1.44, 1.42, 1.17, 1.19 of the actual (numpy's interpolated ends
    # gave 57, 57, 58, 53, 55, 56 and 58, 58, 58, 56, 56, 58).
    hits, ratio = sieve_coverage("momentum", 100, 60, 60)
    _assert_covers_and_spreads(hits, 60, ratio, (0.9, 1.6))


@pytest.mark.slow
def test_mpl_sieve_intervals_of_a_held_out_final_loss_cover():
    # The README example's law, whose loss-drop term the three curves pin down so weakly
    # that some fits end on a bound (their refits stay there). Moving blocks covered the
    # held-out WSD final loss in 76 of 100 data sets at 90% (`--law mpl --method blocks
    # --resamples 40`); here the sieve on data sets 100-129, 40 resamples: within 3 Monte
    # Carlo errors of nominal at both levels (at 90%: 23-30 of 30; at 95%: 26-30). The
    # README's 100 data sets (0-99): 92 and 93 of 100 (89 and 92 with numpy's interpolated
    # ends). Here 29 and 30 of 30 (2-core VM).
    hits, _ = sieve_coverage("mpl", 100, 30, 40)
    for level in (0.9, 0.95):
        assert within_three_mc_errors(hits[level]["final"], 30, level), (level, hits[level])


@pytest.mark.slow
def test_momentum_sieve_intervals_cover_with_independent_noise():
    # An earlier review read "79 / 84 / 86" (README: predict_final's 95% part-way intervals
    # with independent noise, the law's draws by moving blocks and the run's own noise left
    # out of the interval) as the curve bootstrap under-covering with independent noise.
    # The default sieve's own intervals do not: with AR(1) coefficient 0 the fitted
    # coefficient is near 0 and every parameter and the held-out WSD final loss cover
    # within 3 Monte Carlo errors of nominal (README: `python bench/bench_curves.py
    # --coverage --method ar1 --quantity params --rho 0 --level 0.9 --level 0.95
    # --replicates 200`, data sets 0-199). Here data sets 1000-1099, 60 resamples (at 90%:
    # 81-99 of 100; at 95%: 89-100). With white noise the simulation's curves start
    # stationary, so the draws' spread should match the actual one (1.05-1.08 of it in the
    # README's run), not exceed it as at coefficient 0.7. Measured: at 90% L0 89, A 88,
    # alpha 91, C 90, lambda 89, final 90 of 100; at 95% 93, 93, 93, 96, 97, 96; spread
    # 0.97-1.00 (2-core VM).
    hits, ratio = sieve_coverage("momentum", 1000, 100, 60, rho=0.0)
    _assert_covers_and_spreads(hits, 100, ratio, (0.85, 1.3))


@pytest.mark.slow
def test_mpl_sieve_intervals_with_independent_noise_cover():
    # The bench's own data sets 0-199 (`python bench/bench_curves.py --coverage --law mpl
    # --method ar1 --quantity params --rho 0 --level 0.9 --level 0.95 --replicates 200
    # --resamples 40`): every parameter and the held-out WSD final loss within 3 Monte
    # Carlo errors of nominal (at 90%: 168-192 of 200; at 95%: 181-199). Was a strict xfail:
    # with numpy's interpolated percentiles of 40 draws the final loss was covered 167 and
    # 179 times, beta and gamma 164 and 163 at 90%: those ends hold on average only
    # level x 39/41 of the draws' distribution (85.6 and 90.4%), and the draws' spread of
    # the final loss is a median 0.90 of the actual one. With the sieve's ends at the
    # (B + 1) a-th ordered draw (CurveBootstrap.percentile_ends) the bench counted, at 90%,
    # L0 191, A 188, alpha 185, B 174, C 175, beta 173, gamma 179, final 178; at 95% 197,
    # 193, 193, 186, 187, 186, 189, 188 (2-core VM). Tried and worse (README): a bootstrap-t
    # with the delta-method standard error at each draw (final 165 / 169, C 151, gamma 149
    # at 90%); leverage-adjusted residuals change nothing here (the sieve's innovations are
    # standardised and their sd is already corrected for the refit's projection: the
    # residual sd is 0.000999 against the simulated 0.001).
    hits, _ = sieve_coverage("mpl", 0, 200, 40, rho=0.0)
    for level in (0.9, 0.95):
        for name, count in hits[level].items():
            assert within_three_mc_errors(count, 200, level), (level, name, count)
