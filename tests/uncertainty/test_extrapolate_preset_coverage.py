"""Coverage of the recommended workflow's intervals: ``fit(runs, preset="extrapolate")``
then ``calibrate`` (the README's "Prediction intervals" example), on sweeps of known truth.

The truth is the Chinchilla law of ``misspecified_sweep("exact")`` (Besiroglu et al.'s
parameters, alpha = 0.3478 and beta = 0.3658), so the preset's tied exponents (beta =
alpha) are slightly wrong, as they would be on a real sweep: the calibration has to
absorb that. ``N_SWEEPS`` times, from one generator (``SEED``) in this order: a sweep (9
budgets 6e18-3e21 FLOP, 12 sizes, 1% log-normal noise), its tied fit calibrated with a
bootstrap of ``N_RESAMPLES`` (and the default rollout), 108 new runs of the same design
(in range) and 5 new runs at 3e22 FLOP (10x the largest budget).

Four 95% intervals are scored, at both places:

* ``prediction``: what ``predict`` prints as prediction_low/high with the bootstrap
  attached (the recommended path), against the loss of each new run;
* ``prediction, delta method``: the same without a bootstrap (``n_resamples=0``: the
  parameter term from the delta method alone), against each new run;
* ``confidence``: the bootstrap-percentile confidence interval, against the true mean loss;
* ``confidence, delta method``: the delta-method one (``n_resamples=0``), against the
  true mean loss; for this tied fit its variance carries the tie's squared-bias allowance
  from the law refitted untied (``uncertainty/delta.py``). Without it the interval held
  20,002 of 21,600 (92.6%, Monte Carlo error 0.7%) in range and 950 of 1,000 at 10x:
  the tied law is biased where the truth has beta != alpha (up to 1.1 standard
  deviations at some runs of the design), while its variance was right (the delta
  method's standard deviation 0.97-1.03 times the Monte Carlo spread).

A sweep's coverage is the fraction of its new runs inside; the Monte Carlo error is the
standard deviation of those fractions over sweeps divided by sqrt(N_SWEEPS) (runs of
one sweep share a fit, so they are not independent draws). Each coverage is checked
against the nominal 95% on each side, within 3 Monte Carlo errors; the cases that miss
a side are strict xfails carrying the measured numbers (the README states them), and
every count is pinned to the measured one.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.laws.misspecified import misspecified_sweep, true_loss
from scalinglaws.uncertainty.calibrated import calibrate

N_SWEEPS, N_RESAMPLES, LEVEL, SEED = 200, 200, 0.95, 21
PLACES = {"in range": 108, "10x": 5}  # new runs per sweep
INTERVALS = ("prediction", "prediction, delta method", "confidence",
             "confidence, delta method")

# Covered of 200 x 108 new runs in range and 200 x 5 at 10x (seed 21), and the coverage's
# Monte Carlo error (standard error of the per-sweep fractions).
MEASURED = {
    ("prediction", "in range"): 20678, ("prediction", "10x"): 968,
    ("prediction, delta method", "in range"): 20622, ("prediction, delta method", "10x"): 964,
    ("confidence", "in range"): 20345, ("confidence", "10x"): 979,
    ("confidence, delta method", "in range"): 20546, ("confidence, delta method", "10x"): 969,
}
# the sides each case misses by more than 3 Monte Carlo errors (measured; README)
BELOW = {}
ABOVE = {("prediction", "in range"):
         "conservative: 95.7% (0.2%); the bootstrap percentiles widen the parameter term "
         "where they are wider than the delta method's",
         ("confidence", "10x"):
         "conservative: 97.9% (0.6%); bootstrap percentiles of a 10x prediction are wide"}


@functools.cache
def _simulation():
    """``{(interval, place): covered runs per sweep}``."""
    rng = np.random.default_rng(SEED)
    truth = true_loss("exact")
    no_draws = np.empty((0, 5))
    covered = {(kind, place): [] for kind in INTERVALS for place in PLACES}
    for _ in range(N_SWEEPS):
        runs = misspecified_sweep("exact", rng=rng)
        with warnings.catch_warnings():  # 10x is beyond the sweep: ExtrapolationWarning
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            law = calibrate(sl.fit(runs, preset="extrapolate"), runs,
                            n_resamples=N_RESAMPLES, rng=rng, progress=False)
            new = {"in range": misspecified_sweep("exact", rng=rng),
                   "10x": misspecified_sweep("exact", budgets=[3e22], n_sizes=5, span=3.0,
                                             rng=rng)}
            for place, t in new.items():
                inputs, mean = {"N": t.N, "D": t.D, "C": t.C}, truth(t.N, t.D)
                for kind, target in zip(INTERVALS, (t.loss, t.loss, mean, mean)):
                    draws = no_draws if kind.endswith("delta method") else None
                    bounds = law.interval(kind.split(",")[0], LEVEL, draws=draws, **inputs)
                    covered[kind, place].append(
                        int(np.sum((bounds.low <= target) & (target <= bounds.high))))
    return {key: np.array(value) for key, value in covered.items()}


def _coverage(kind, place):
    fractions = _simulation()[kind, place] / PLACES[place]
    return fractions.mean(), fractions.std(ddof=1) / np.sqrt(N_SWEEPS)


def test_the_preset_fits_tied_exponents_and_calibrates():
    """What the simulation runs, on one sweep: the preset ties beta to alpha, and the
    calibrated law carries a bootstrap with the same tie."""
    runs = misspecified_sweep("exact", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        law = calibrate(sl.fit(runs, preset="extrapolate"), runs, n_resamples=20, rng=0,
                        progress=False)
    assert law.params["alpha"] == law.params["beta"]
    names = list(law.fit.form.param_names)
    draws = law.bootstrap.draws
    assert draws.shape == (20, 5)
    assert np.array_equal(draws[:, names.index("alpha")], draws[:, names.index("beta")])


def test_readme_states_the_measured_counts():
    text = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    for (kind, place), count in MEASURED.items():
        total = N_SWEEPS * PLACES[place]
        assert f"{100 * count / total:.1f}%" in text and f"{count:,}" in text, (kind, place)
    assert f"{MEASURED['prediction', 'in range']:,} of {N_SWEEPS * PLACES['in range']:,}" in text


@pytest.mark.slow
def test_counts_are_the_measured_ones():
    covered = _simulation()
    assert {key: int(value.sum()) for key, value in covered.items()} == MEASURED


def _cases(misses):
    for kind in INTERVALS:
        for place in PLACES:
            if (kind, place) in misses:
                yield pytest.param(kind, place, marks=pytest.mark.xfail(
                    strict=True, raises=AssertionError, reason=misses[kind, place]))
            else:
                yield kind, place


@pytest.mark.slow
@pytest.mark.parametrize("kind, place", list(_cases(BELOW)))
def test_coverage_is_not_below_nominal(kind, place):
    """No more than 3 Monte Carlo errors below 95%: the interval does not under-cover."""
    mean, error = _coverage(kind, place)
    assert error < 0.015  # 200 sweeps read each coverage to 1.5 points or better
    assert mean >= LEVEL - 3 * error, f"{mean:.4f} (Monte Carlo error {error:.4f})"


@pytest.mark.slow
@pytest.mark.parametrize("kind, place", list(_cases(ABOVE)))
def test_coverage_is_not_above_nominal(kind, place):
    """No more than 3 Monte Carlo errors above 95%: the interval is not wider than its
    level needs."""
    mean, error = _coverage(kind, place)
    assert mean <= LEVEL + 3 * error, f"{mean:.4f} (Monte Carlo error {error:.4f})"


# A tie far from true: beta = 0.30 against alpha = 0.3478 (Chinchilla's other parameters),
# 40 sweeps (seed 7) of the same design, no bootstrap and no rollout (the confidence
# interval uses neither). Covered of 40 x 108 / 40 x 5 true means, measured:
FAR_TIE_SWEEPS, FAR_TIE_BETA = 40, 0.30
FAR_TIE_MEASURED = {"delta method + tie bias": (4075, 183), "delta method": (3489, 117)}


@pytest.mark.slow
def test_the_tie_bias_allowance_grows_with_the_ties_error():
    """Where the tie is far from true the delta method alone misses the true mean badly
    (81% in range, 58% at 10x: the bias dominates); with the allowance the interval holds
    it within 3 Monte Carlo errors of 95%. The allowance is estimated from the data, so it
    grows with the tie's error instead of widening every interval by a fixed amount."""
    from scalinglaws.laws.synthetic import DEFAULT_TRUTH

    truth = {**DEFAULT_TRUTH["chinchilla"], "beta": FAR_TIE_BETA}

    def mean_loss(N, D):
        return truth["E"] + truth["A"] / N ** truth["alpha"] + truth["B"] / D ** truth["beta"]

    rng = np.random.default_rng(7)
    covered = {name: np.zeros((FAR_TIE_SWEEPS, 2)) for name in FAR_TIE_MEASURED}
    for i in range(FAR_TIE_SWEEPS):
        runs = sl.generate_sweep(params=truth, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.ScalingLawsWarning)
            law = calibrate(sl.fit(runs, preset="extrapolate"), runs, n_resamples=0,
                            rollout=False, progress=False)
            new = (sl.generate_sweep(params=truth, rng=rng),
                   sl.generate_sweep(params=truth, budgets=[3e22], n_sizes=5, span=3.0,
                                     rng=rng))
            for j, t in enumerate(new):
                target = mean_loss(np.asarray(t.N), np.asarray(t.D))
                with_bias = law.interval("confidence", LEVEL, N=t.N, D=t.D)
                alone = dataclasses.replace(law, unrestricted=None).interval("confidence", LEVEL,
                                                                       N=t.N, D=t.D)
                for name, bounds in (("delta method + tie bias", with_bias),
                                     ("delta method", alone)):
                    covered[name][i, j] = np.mean((bounds.low <= target) & (target <= bounds.high))
    counts = {name: (int(round(v[:, 0].sum() * 108)), int(round(v[:, 1].sum() * 5)))
              for name, v in covered.items()}
    assert counts == FAR_TIE_MEASURED
    fractions = covered["delta method + tie bias"]
    mean, error = fractions.mean(axis=0), fractions.std(axis=0, ddof=1) / np.sqrt(FAR_TIE_SWEEPS)
    assert np.all(np.abs(mean - LEVEL) <= 3 * error), (mean, error)
    alone = covered["delta method"].mean(axis=0)
    assert np.all(alone < LEVEL - 0.1)  # without it: far below
