"""Bootstrap intervals of curve-law fits: the resampling schemes, reproducibility, the
warnings of the weak schemes, and coverage simulations with autocorrelated noise for every
interval the package prints (the README quotes their figures; `python bench/bench_curves.py
--coverage ...` runs the README's longer versions)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.analysis.curves import predict_curve
from scalinglaws.fitting.curves import CurveFitResult, fit_curves
from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves
from scalinglaws.uncertainty.curves import (
    CurveResamplingWarning,
    block_counts,
    bootstrap_curves,
    distinct_curve_resamples,
    residual_block_length,
)

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")


def test_block_counts_are_runs_of_consecutive_points():
    rng = np.random.default_rng(0)
    counts = block_counts(50, 7, 200, rng)
    assert counts.shape == (200, 50) and np.all(counts.sum(axis=1) == 50)
    one = block_counts(20, 5, 1, np.random.default_rng(3))[0]
    covered = np.flatnonzero(one)
    # every point drawn belongs to a drawn block: runs of covered points are >= 5 long,
    # except where a block was cut at the end of the resample
    edges = np.flatnonzero(np.diff(np.r_[-2, covered]) > 1)
    lengths = np.diff(np.r_[edges, len(covered)])
    assert np.sum(lengths < 5) <= 1
    assert np.all(block_counts(10, 1, 3, rng).sum(axis=1) == 10)


def test_block_length_follows_the_residual_autocorrelation():
    rng = np.random.default_rng(1)
    for rho, low, high in ((0.0, 7, 9), (0.8, 24, 80)):
        noise = np.empty(500)
        state = 0.0
        for i in range(500):
            state = rho * state + rng.normal()
            noise[i] = state
        # integrated autocorrelation time of AR(1): (1 + rho) / (1 - rho) (9 at 0.8); 4x
        # of it, at least n^(1/3) = 8
        assert low <= residual_block_length(noise, 500) <= high


@pytest.fixture(scope="module")
def fitted():
    curves, truth = synthetic_curves("momentum", rng=5, noise=0.001, autocorrelation=0.7,
                                     every=256)
    return curves, truth, fit_curves(curves, "momentum")


def test_same_seed_same_draws_and_intervals_contain_the_estimate(fitted):
    curves, _, fit = fitted
    first = bootstrap_curves(fit, curves, 30, method="blocks", rng=7)
    again = bootstrap_curves(fit, curves, 30, method="blocks", rng=7)
    np.testing.assert_array_equal(first.draws, again.draws)
    assert not np.array_equal(first.draws, bootstrap_curves(fit, curves, 30, method="blocks",
                                                            rng=8).draws)
    assert first.n_failed == 0 and first.draws.shape == (30, 5) and not first.draws.flags.writeable
    assert not fit.residuals.flags.writeable
    for name, (low, high) in first.intervals.items():
        assert low <= fit.params[name] <= high, name
    low, high = first.interval(lambda p: p["L0"] + p["A"])
    assert low < fit.params["L0"] + fit.params["A"] < high
    assert set(first.block_lengths) == set(curves.runs)


def test_every_method_runs_and_blocks_are_wider_than_points(fitted):
    curves, _, fit = fitted
    widths = {}
    for method in ("points", "blocks", "curves"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CurveResamplingWarning)  # tested below
            draws = bootstrap_curves(fit, curves, 40, method=method, rng=1)
        low, high = draws.intervals["alpha"]
        widths[method] = high - low
    assert widths["blocks"] > widths["points"]  # correlated points carry less information


def test_refuses_other_data_and_bad_options(fitted):
    curves, _, fit = fitted
    other, _ = synthetic_curves("momentum", rng=6, noise=0.001, every=256)
    with pytest.raises(InputError, match="fingerprints differ"):
        bootstrap_curves(fit, other, 10)
    with pytest.raises(InputError, match="`method` must be one of"):
        bootstrap_curves(fit, curves, 10, method="residuals")
    with pytest.raises(InputError, match="`n_resamples` must be an integer >= 2"):
        bootstrap_curves(fit, curves, 1)
    with pytest.raises(InputError, match="must be a CurveFitResult"):
        bootstrap_curves(None, curves, 10)


def test_distinct_curve_resamples_counts_multisets():
    # brute force: every ordered draw of k curves with replacement, as a multiset
    for k in range(1, 6):
        draws = {tuple(sorted(d)) for d in itertools.product(range(k), repeat=k)}
        assert distinct_curve_resamples(k) == len(draws)
    assert distinct_curve_resamples(3) == 10


def test_few_curves_and_single_points_warn(fitted):
    curves, _, fit = fitted  # 4 curves
    with pytest.warns(CurveResamplingWarning, match=r"only 4 curves \(35 distinct"):
        draws = bootstrap_curves(fit, curves, 40, method="curves", rng=0)
    assert draws.n_curves == 4 and draws.n_distinct <= 35
    assert "only 4 curves" in draws.describe()
    three = curves.select(mask=(curves.frame["run_id"] != "wsd").to_numpy())
    fit3 = fit_curves(three, "momentum")
    with pytest.warns(CurveResamplingWarning, match=r"only 3 curves \(10 distinct"):
        draws = bootstrap_curves(fit3, three, 40, method="curves", rng=0)
    assert draws.n_distinct <= 10 and f"{draws.n_distinct} distinct" in draws.describe()
    with pytest.warns(CurveResamplingWarning, match="correlated, so the interval is too narrow"):
        draws = bootstrap_curves(fit, curves, 10, method="points", rng=0)
    assert "too narrow" in draws.describe()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurveResamplingWarning)
        warnings.filterwarnings("ignore", "curve bootstrap.*too few", CurveResamplingWarning)
        bootstrap_curves(fit, curves, 10, method="blocks", rng=0)


def test_eight_curves_resample_without_warning():
    schedules = {f"{name}_{steps}": schedule
                 for steps in (24000, 12000)
                 for name, schedule in default_schedules(total_steps=steps).items()}
    curves, _ = synthetic_curves("momentum", schedules=schedules, rng=2, noise=0.001,
                                 every=512)
    fit = fit_curves(curves, "momentum")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurveResamplingWarning)
        warnings.filterwarnings("ignore", "curve bootstrap.*too few", CurveResamplingWarning)
        draws = bootstrap_curves(fit, curves, 10, method="curves", rng=0)
    assert draws.n_curves == 8 and "distinct resamples possible" not in draws.describe()


def test_failed_resamples_are_counted_left_out_and_said():
    # The Multi-Power Law on constant + cosine + two-stage curves: 2 of these 40 refits run
    # along a ridge (log C growing to 15-37 from 0.9) with no finite optimum; polishing
    # them again from the full-data optimum does not help. They must be counted, announced
    # and named in the text printed with the intervals, not silently dropped.
    schedules = default_schedules()
    schedules.pop("wsd")
    curves, _ = synthetic_curves("mpl", schedules=schedules, rng=2, noise=0.001,
                                 autocorrelation=0.7)
    fit = fit_curves(curves, "mpl")
    with pytest.warns(ConvergenceWarning, match="of 40 resamples did not converge"):
        draws = bootstrap_curves(fit, curves, 40, method="blocks", rng=2, max_iter=200)
    assert draws.n_failed >= 1
    assert draws.n_draws == draws.draws.shape[0] == 40 - draws.n_failed
    assert (f"40 resamples, {draws.n_failed} failed): percentiles of the fitted law "
            f"over the {draws.n_draws} converged refits") in draws.describe()


def test_a_fit_on_a_bound_is_said():
    # The first Multi-Power Law data set of the coverage simulation whose fit converges
    # with gamma on its bound (the constant, cosine and two-stage curves do not pin the
    # loss-drop term down); its refits all start there. Data set 0 did on one machine and,
    # with C running to 1e130, stopped short of converging on another (numpy's AVX-512
    # exp/log round differently), so the test looks for one instead of naming it.
    schedules = default_schedules()
    schedules.pop("wsd")
    for seed in range(6):
        curves, _ = synthetic_curves("mpl", schedules=schedules, rng=seed, noise=0.001,
                                     autocorrelation=0.7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit's own bound and identifiability warnings
            fit = fit_curves(curves, "mpl")
        if fit.status == 1 and "gamma" in fit.at_bounds:
            break
    assert fit.status == 1 and "gamma" in fit.at_bounds
    with pytest.warns(CurveResamplingWarning, match="the fit is on a bound for .*gamma"):
        draws = bootstrap_curves(fit, curves, 20, rng=0, max_iter=200)
    assert draws.at_bounds == fit.at_bounds
    assert f"on a bound for {', '.join(fit.at_bounds)}" in draws.describe()


def _coverage(method, replicates, resamples, rho=0.7, level=0.9, *, law="momentum",
              quantity="final", first_seed=0):
    """How often the bootstrap interval of a held-out schedule's final loss (WSD, fitted on
    constant, cosine and two-stage curves of ~170 points with AR(1) log noise of standard
    deviation 0.1%) contains the true final loss; with ``quantity="params"``, how often each
    parameter's interval contains the true parameter (a dict). The same simulation as
    `python bench/bench_curves.py --coverage`, on data sets ``first_seed`` onwards."""
    schedules = default_schedules()
    held = schedules.pop("wsd")
    last = [held.total_steps - 1]
    hits = 0 if quantity == "final" else {}
    for replicate in range(first_seed, first_seed + replicates):
        curves, truth = synthetic_curves(law, schedules=schedules, rng=replicate,
                                         noise=0.001, autocorrelation=rho)
        with warnings.catch_warnings():
            # bounds, failed resamples and the weak schemes are announced; counted here
            warnings.simplefilter("ignore")
            fit = fit_curves(curves, law)
            draws = bootstrap_curves(fit, curves, resamples, method=method, rng=replicate,
                                     max_iter=200, confidence_level=level)
        if quantity == "final":
            band = predict_curve(fit, held, steps=last, draws=draws, confidence_level=level)
            true_final = CurveFitResult.from_params(law, truth).predict(held, last)[0]
            hits += band.low[0] <= true_final <= band.high[0]
        else:
            for name, (low, high) in draws.intervals.items():
                hits[name] = hits.get(name, 0) + (low <= truth[name] <= high)
    if quantity == "final":
        return hits / replicates
    return {name: count / replicates for name, count in hits.items()}


def _band(p, n_test, n_readme=100, z=2.5):
    """Half-width of a Monte Carlo band for a coverage measured on ``n_test`` data sets
    against the README's figure ``p`` measured on ``n_readme`` other ones: both are
    binomial proportions, so their difference has standard error
    sqrt(p (1 - p) (1/n_test + 1/n_readme)); 2.5 of them keep a 5-parameter check at a
    false-alarm rate near 6% (1.2% each)."""
    return z * np.sqrt(p * (1 - p) * (1 / n_test + 1 / n_readme))


@pytest.mark.slow
def test_momentum_parameter_intervals_cover_as_the_readme_says():
    # The intervals `scalinglaws curves fit --bootstrap` prints (momentum law, blocks): the
    # README's 100-data-set run (`python bench/bench_curves.py --coverage --method blocks
    # --quantity params`, data sets 0-99) covered L0 91, A 92, alpha 88, C 82, lambda 81 of
    # 100 at 90% nominal. Here 100 other data sets (100-199): each within its Monte Carlo
    # band of the README's figure; C and lambda, fixed by the short annealing stretches
    # where the noise's correlation is longest, below nominal.
    readme = {"L0": 0.91, "A": 0.92, "alpha": 0.88, "C": 0.82, "lambda": 0.81}
    covered = _coverage("blocks", 100, 100, quantity="params", first_seed=100)
    for name, p in readme.items():
        assert abs(covered[name] - p) <= _band(p, 100), (name, covered[name])
    assert max(covered["C"], covered["lambda"]) < 0.9


@pytest.mark.slow
def test_block_intervals_cover_and_point_intervals_do_not():
    # 60 simulated data sets, AR(1) log noise with coefficient 0.7 (the lag-1 autocorrelation
    # of the residuals of fits to Luo et al.'s curves ranges 0 to 0.8), nominal 90%:
    # resampling blocks covers the true final loss of the held-out schedule at about the
    # nominal rate (89% in the README's 100-replicate run, `python bench/bench_curves.py
    # --coverage`); resampling single points covers far less (56% there).
    blocks = _coverage("blocks", 60, 80)
    points = _coverage("points", 60, 80)
    assert blocks >= 0.80  # binomial standard error at 0.9 with 60 replicates: 0.039
    assert points <= 0.75
    assert blocks - points >= 0.15


@pytest.mark.slow
def test_mpl_block_intervals_of_a_held_out_final_loss_cover_as_the_readme_says():
    # The README example's law. `python bench/bench_curves.py --coverage --law mpl --method
    # blocks --replicates 100 --resamples 40` (data sets 0-99) covered 76 of 100 at 90%
    # nominal (22 fits on a bound: 12 covered; the others 64 of 78). Here 30 other data sets
    # (100-129), 60 resamples each (about 5 minutes; 28 of 30 when written): within 2
    # standard errors of the difference of the two binomial proportions (0.58 to 0.94).
    readme = 76 / 100
    covered = _coverage("blocks", 30, 60, law="mpl", first_seed=100)
    assert abs(covered - readme) <= _band(readme, 30, 100, z=2.0), covered


@pytest.mark.slow
def test_whole_curve_intervals_with_three_curves_cover_less_than_nominal():
    # 3 curves give 10 distinct resamples: `python bench/bench_curves.py --coverage --method
    # curves` (data sets 0-99) covered 72 of 100 at 90% nominal. Here 60 other data sets.
    covered = _coverage("curves", 60, 80, first_seed=100)
    assert abs(covered - 0.72) <= _band(0.72, 60, z=2.0), covered
    assert covered < 0.85  # at 72%, 51 or more of 60 has probability 1.4%
