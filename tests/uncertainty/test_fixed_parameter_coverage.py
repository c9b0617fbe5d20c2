"""Coverage of a fixed-parameter fit's delta-method confidence interval, with and without
the fixed value's squared-bias allowance (``uncertainty/delta.py``), on sweeps of known
truth.

The truth is the Chinchilla law of Besiroglu et al. (E = 1.8172); the fit holds E fixed
at the truth plus ``OFFSETS`` (0: the restriction is right, the allowance should leave
the interval alone; 0.05 and 0.10 away: it is wrong and the plain interval misses the
true mean). ``N_SWEEPS`` times, from one generator (``SEED``) in this order: a sweep
(``generate_sweep``'s 9 budgets 6e18-3e21 FLOP, 12 sizes, 1% log-normal noise), 108 new
runs of the same design (in range) and 5 at 3e22 FLOP (10x the largest budget); every
offset is fitted on the same sweeps (common random numbers), calibrated without bootstrap
or rollout (the confidence interval uses neither), and its 95% confidence interval, with
the allowance and without it, is scored against the true mean loss of the new runs.

A sweep's coverage is the fraction of its new runs inside; the Monte Carlo error is the
standard deviation of those fractions over sweeps divided by sqrt(N_SWEEPS). The cases
that miss 95% by more than 3 Monte Carlo errors are strict xfails carrying the measured
numbers (the README states them); every count is pinned to the measured one.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.uncertainty.calibrated import calibrate

TRUTH = DEFAULT_TRUTH["chinchilla"]
N_SWEEPS, LEVEL, SEED = 100, 0.95, 11
OFFSETS = (0.0, 0.05, -0.05, 0.10)
PLACES = {"in range": 108, "10x": 5}  # new runs per sweep
WAYS = ("with the allowance", "delta method alone")

# Covered of 100 x 108 true means in range and 100 x 5 at 10x (seed 11), measured
# (load 8-9, 2-core machine, about 45 s per offset)
MEASURED = {
    (0.0, "with the allowance"): (10437, 488), (0.0, "delta method alone"): (10366, 479),
    (0.05, "with the allowance"): (9954, 335), (0.05, "delta method alone"): (8891, 20),
    (-0.05, "with the allowance"): (10035, 351), (-0.05, "delta method alone"): (9014, 52),
    (0.10, "with the allowance"): (10395, 487), (0.10, "delta method alone"): (6471, 0),
}
# with the allowance, the cases more than 3 Monte Carlo errors below 95% (measured; README)
BELOW = {(0.05, "10x"): "67.0% (Monte Carlo error 4.3%): a bias of about the free fit's "
                        "own spread at 10x is often within its noise, and clipped to zero",
         (-0.05, "10x"): "70.2% (4.3%): as for +0.05"}


def _mean_loss(N, D):
    return TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]


@functools.cache
def _simulation():
    """``{(offset, way, place): covered per sweep}`` and ``{(offset, place): width ratios}``
    (the interval with the allowance over the one without, every new run); offset
    ``None`` is the free fit (E not fixed), its ratios over the plain interval with E
    fixed at the truth."""
    rng = np.random.default_rng(SEED)
    covered = {(o, w, p): [] for o in OFFSETS for w in WAYS for p in PLACES}
    covered.update({(None, "free fit", p): [] for p in PLACES})
    ratios = {(o, p): [] for o in (*OFFSETS, None) for p in PLACES}
    for _ in range(N_SWEEPS):
        runs = sl.generate_sweep(params=TRUTH, rng=rng)
        new = {"in range": sl.generate_sweep(params=TRUTH, rng=rng),
               "10x": sl.generate_sweep(params=TRUTH, budgets=[3e22], n_sizes=5, span=3.0,
                                        rng=rng)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            free = calibrate(sl.fit(runs), runs, n_resamples=0, rollout=False, progress=False)
            exact = calibrate(sl.fit(runs, fixed={"E": TRUTH["E"]}), runs, n_resamples=0,
                              rollout=False, progress=False)
            for place, t in new.items():
                target = _mean_loss(np.asarray(t.N), np.asarray(t.D))
                bounds, plain = (m.interval("confidence", LEVEL, N=t.N, D=t.D) for m in
                                 (free, dataclasses.replace(exact, unrestricted=None)))
                covered[None, "free fit", place].append(
                    int(np.sum((bounds.low <= target) & (target <= bounds.high))))
                ratios[None, place].append(np.log(bounds.high / bounds.low)
                                           / np.log(plain.high / plain.low))
        for offset in OFFSETS:
            with warnings.catch_warnings():  # 10x is beyond the sweep: ExtrapolationWarning
                warnings.simplefilter("ignore", sl.ScalingLawsWarning)
                law = calibrate(sl.fit(runs, fixed={"E": TRUTH["E"] + offset}), runs,
                                n_resamples=0, rollout=False, progress=False)
                assert law.unrestricted is not None  # E is estimable on these sweeps
                plain = dataclasses.replace(law, unrestricted=None)
                for place, t in new.items():
                    target = _mean_loss(np.asarray(t.N), np.asarray(t.D))
                    both = [m.interval("confidence", LEVEL, N=t.N, D=t.D) for m in (law, plain)]
                    for way, bounds in zip(WAYS, both):
                        covered[offset, way, place].append(
                            int(np.sum((bounds.low <= target) & (target <= bounds.high))))
                    ratios[offset, place].append(np.log(both[0].high / both[0].low)
                                                 / np.log(both[1].high / both[1].low))
    return ({k: np.array(v) for k, v in covered.items()},
            {k: np.concatenate(v) for k, v in ratios.items()})


def _coverage(offset, way, place):
    fractions = _simulation()[0][offset, way, place] / PLACES[place]
    return fractions.mean(), fractions.std(ddof=1) / np.sqrt(N_SWEEPS)


def test_readme_states_the_measured_coverage():
    text = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    for (offset, way), counts in MEASURED.items():
        for place, count in zip(PLACES, counts):
            total = N_SWEEPS * PLACES[place]
            assert f"{100 * count / total:.1f}%" in text, (offset, way, place)
    for phrase in ("mean width 1.10 times the plain one in range and 1.54 times at 10x",
                   "2.47 times at 3e22 FLOP", "60.8% in range and 0% at 10x, 40 sweeps",
                   "bootstrap percentile + fixed-parameter bias",
                   "95.3% in range and 100% at 10x", "92.1% and 94.7% in range",
                   "65.0% and 74.5% at 10x", "96.5% in range and 98.0% at 10x",
                   "mean width 1.10 and 1.60 times",
                   "delta method + fixed-parameter bias",
                   "(95.5% in range, 94.4% at 10x), at 1.15 and 2.35 times the width",
                   "delta method (fixed-parameter bias excluded)"):
        assert phrase in text, phrase


@pytest.mark.slow
def test_counts_are_the_measured_ones():
    covered = _simulation()[0]
    got = {(o, w): tuple(int(covered[o, w, p].sum()) for p in PLACES)
           for o in OFFSETS for w in WAYS}
    assert got == MEASURED


def _cases(below):
    """``(offset, place)`` for every offset and place; those in ``below`` as strict xfails."""
    for offset in OFFSETS:
        for place in PLACES:
            if (offset, place) in below:
                yield pytest.param(offset, place, marks=pytest.mark.xfail(
                    strict=True, raises=AssertionError, reason=below[offset, place]))
            else:
                yield offset, place


@pytest.mark.slow
@pytest.mark.parametrize("offset, place", list(_cases(BELOW)))
def test_the_allowance_holds_the_true_mean(offset, place):
    """Within 3 Monte Carlo errors of 95% on both sides, with E fixed at the truth and
    0.05 or 0.10 away (the xfails: a smaller error at 10x)."""
    mean, error = _coverage(offset, "with the allowance", place)
    assert error < 0.05
    assert abs(mean - LEVEL) <= 3 * error, f"{mean:.4f} (Monte Carlo error {error:.4f})"


@pytest.mark.slow
@pytest.mark.parametrize("offset", [o for o in OFFSETS if o])
def test_without_it_a_wrong_fixed_value_misses_the_true_mean(offset):
    for place in PLACES:
        mean, error = _coverage(offset, "delta method alone", place)
        assert mean < LEVEL - 3 * error - 0.05, (place, mean)
        assert mean < _coverage(offset, "with the allowance", place)[0] - 0.05


# the free fit (E estimated, no allowance needed): covered true means of the same sweeps,
# and its mean width over the plain interval with E fixed at the truth
FREE_MEASURED, FREE_WIDTH = (10316, 472), {"in range": "1.15", "10x": "2.35"}


@pytest.mark.slow
def test_the_free_fit_covers_wherever_e_is_at_a_price_in_width():
    """What the allowance is weighed against: not fixing E. The free fit's interval holds
    the true mean within 3 Monte Carlo errors of 95% at every offset (it has none), at
    1.15 times the width of a right fixed value's in range and 2.35 times at 10x."""
    covered, ratios = _simulation()
    assert tuple(int(covered[None, "free fit", p].sum()) for p in PLACES) == FREE_MEASURED
    for place in PLACES:
        mean, error = _coverage(None, "free fit", place)
        assert abs(mean - LEVEL) <= 3 * error, (place, mean, error)
    assert {p: f"{np.mean(ratios[None, p]):.2f}" for p in PLACES} == FREE_WIDTH


@pytest.mark.slow
def test_at_the_truth_the_allowance_leaves_the_typical_interval_alone():
    """E fixed at the truth: the median interval is as wide as without the allowance
    (Hausman's contrast is clipped to zero in most sweeps); where d^2 exceeds its
    expected noise, a third of sweeps, the interval widens, which leaves the mean width
    1.10x in range and 1.54x at 10x (measured: the price of testing the restriction
    with the data)."""
    ratios = _simulation()[1]
    for place, mean_ratio in (("in range", "1.10"), ("10x", "1.54")):
        r = ratios[0.0, place]
        assert np.all(r >= 1 - 1e-12)  # an allowance never narrows
        assert np.median(r) == pytest.approx(1.0, abs=1e-9)
        assert f"{np.mean(r):.2f}" == mean_ratio, place


@pytest.mark.slow
def test_where_the_runs_barely_estimate_e_the_allowance_costs_about_freeing_it():
    """3 budgets (6e18-2.4e19 FLOP) and a prediction at 3e22 FLOP: the free fit's spread
    there is 6.6 times the fixed fit's (median over 60 sweeps, seed 5). With E fixed at
    the truth, the contrast is clipped to zero in most sweeps (median interval unchanged),
    but its noise is the free fit's, so where it is positive (28% of sweeps) the interval
    widens to about the free fit's: mean width 2.47 times. Measured, pinned."""
    from scalinglaws.uncertainty.delta import _log_value_and_variance, log_prediction_sd

    rng = np.random.default_rng(5)
    X = {"N": np.array([2.2e10]), "D": np.array([2.3e11])}
    spread, growth = [], []
    for _ in range(60):
        runs = sl.generate_sweep(params=TRUTH, budgets=[6e18, 1.2e19, 2.4e19], rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            law = calibrate(sl.fit(runs, fixed={"E": TRUTH["E"]}), runs, n_resamples=0,
                            rollout=False, progress=False)
        free = law.unrestricted
        s_t = log_prediction_sd(law.fit, law.covariance, X)[0]
        s_u = np.sqrt(_log_value_and_variance(law.form, free.params, free.covariance, X)[1][0])
        spread.append(s_u / s_t)
        growth.append(np.sqrt(1 + free.bias_variance(law.fit, law.covariance, X)[0] / s_t**2))
    growth = np.array(growth)
    assert f"{np.median(spread):.1f}" == "6.6"
    assert np.median(growth) == pytest.approx(1.0, abs=1e-9)
    assert f"{np.mean(growth > 1):.2f}" == "0.28" and f"{np.mean(growth):.2f}" == "2.47"


# the same first 40 sweeps (seed 11), E fixed at each offset, calibrated with a bootstrap
# of 200 resamples (seed = sweep index): covered true means (in range, 10x) of its
# percentile interval with the allowance on each side and without it, measured (load 1.5,
# 2-core machine, 35 s for the four offsets)
BOOTSTRAP_SWEEPS = 40
BOOTSTRAP_MEASURED = {
    (0.10, "with the allowance"): (4118, 200), (0.10, "percentiles alone"): (2625, 0),
    (0.0, "with the allowance"): (4169, 196), (0.0, "percentiles alone"): (4143, 193),
    (0.05, "with the allowance"): (3979, 130), (0.05, "percentiles alone"): (3574, 5),
    (-0.05, "with the allowance"): (4093, 149), (-0.05, "percentiles alone"): (3762, 31),
}
#: with the allowance, below 95% by more than 3 Monte Carlo errors (as the delta method's)
BOOTSTRAP_BELOW = {(0.05, "10x"): "65.0% (Monte Carlo error 7.2%): a bias of about the free "
                                  "fit's own spread at 10x is often clipped to zero",
                   (-0.05, "10x"): "74.5% (6.4%): as for +0.05"}


@functools.cache
def _bootstrap_simulation():
    """``{(offset, way): covered per sweep, (in range, 10x)}`` and ``{(offset, place):
    width ratios}`` (with the allowance over the percentiles alone)."""
    rng = np.random.default_rng(SEED)
    covered = {(o, w): [] for o in OFFSETS for w in ("with the allowance", "percentiles alone")}
    ratios = {(o, p): [] for o in OFFSETS for p in PLACES}
    for i in range(BOOTSTRAP_SWEEPS):
        runs = sl.generate_sweep(params=TRUTH, rng=rng)
        new = (sl.generate_sweep(params=TRUTH, rng=rng),
               sl.generate_sweep(params=TRUTH, budgets=[3e22], n_sizes=5, span=3.0, rng=rng))
        for offset in OFFSETS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sl.ScalingLawsWarning)
                law = calibrate(sl.fit(runs, fixed={"E": TRUTH["E"] + offset}), runs,
                                n_resamples=200, rng=i, rollout=False, progress=False)
                plain = dataclasses.replace(law, unrestricted=None)
                rows = {"with the allowance": [], "percentiles alone": []}
                for place, t in zip(PLACES, new):
                    target = _mean_loss(np.asarray(t.N), np.asarray(t.D))
                    both = [m.interval("confidence", LEVEL, N=t.N, D=t.D) for m in (law, plain)]
                    assert both[0].method == "bootstrap percentile + fixed-parameter bias"
                    assert both[1].method == "bootstrap percentile (fixed-parameter bias excluded)"
                    for way, bounds in zip(rows, both):
                        rows[way].append(
                            int(np.sum((bounds.low <= target) & (target <= bounds.high))))
                    ratios[offset, place].append(np.log(both[0].high / both[0].low)
                                                 / np.log(both[1].high / both[1].low))
            for way, counts in rows.items():
                covered[offset, way].append(counts)
    return ({k: np.array(v) for k, v in covered.items()},
            {k: np.concatenate(v) for k, v in ratios.items()})


@pytest.mark.slow
def test_a_bootstraps_counts_are_the_measured_ones():
    covered = _bootstrap_simulation()[0]
    got = {k: tuple(int(c) for c in v.sum(axis=0)) for k, v in covered.items()}
    assert got == BOOTSTRAP_MEASURED


@pytest.mark.slow
@pytest.mark.parametrize("offset", [o for o in OFFSETS if o])
def test_a_bootstraps_percentiles_alone_take_the_fixed_value_as_exact(offset):
    """The bootstrap refits with E fixed as well, so its percentiles alone miss a wrong
    value's bias like the plain delta method (E 0.10 too high: 60.8% in range and 0% at
    10x, README)."""
    covered = _bootstrap_simulation()[0]
    for j, place in enumerate(PLACES):
        alone = covered[offset, "percentiles alone"][:, j] / PLACES[place]
        allowed = covered[offset, "with the allowance"][:, j] / PLACES[place]
        assert alone.mean() < LEVEL - 0.05 and alone.mean() < allowed.mean() - 0.05, place


@pytest.mark.slow
@pytest.mark.parametrize("offset, place", list(_cases(BOOTSTRAP_BELOW)))
def test_a_bootstraps_percentiles_with_the_allowance_hold_the_true_mean(offset, place):
    """Not below 95% by more than 3 Monte Carlo errors (the xfails: +-0.05 at 10x, as for
    the delta method). Above it where the bias is large: with E 0.10 too high all 200 true
    means at 10x fall inside (the percentiles there are already wider than the delta
    method's, and the allowance is added to them)."""
    j = list(PLACES).index(place)
    fractions = _bootstrap_simulation()[0][offset, "with the allowance"][:, j] / PLACES[place]
    error = fractions.std(ddof=1) / np.sqrt(BOOTSTRAP_SWEEPS)
    assert fractions.mean() >= LEVEL - 3 * error, f"{fractions.mean():.4f} ({error:.4f})"
    if offset == 0.0:  # the restriction is right: not above either
        assert fractions.mean() <= LEVEL + 3 * error


@pytest.mark.slow
def test_a_bootstraps_allowance_leaves_a_right_values_typical_interval_alone():
    """E fixed at the truth: median width unchanged; mean 1.10x in range and 1.60x at 10x
    (the sweeps whose contrast exceeds its noise)."""
    ratios = _bootstrap_simulation()[1]
    for place, mean_ratio in (("in range", "1.10"), ("10x", "1.60")):
        r = ratios[0.0, place]
        assert np.all(r >= 1 - 1e-12)
        assert np.median(r) == pytest.approx(1.0, abs=1e-9)
        assert f"{np.mean(r):.2f}" == mean_ratio, place
