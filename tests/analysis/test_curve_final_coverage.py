"""Coverage of ``predict_final``'s intervals at the default 95%, on curves of known truth.

``predict_final(fit, part, draws=bootstrap_curves(fit, finished, ...))`` prints, for a run
part-way through, a bootstrap percentile interval of the law's final loss
(analysis/curve_final.py). The README's table also measures it at 90% with moving blocks
(``python bench/bench_curves.py --coverage --method blocks --quantity partway --run-noise
blocks``); this file measures it with what a user gets by default, 95% intervals and the
AR(1) sieve's draws (``python bench/bench_curves.py --coverage --method ar1 --quantity
partway --level 0.95``), for the fitting default, the Multi-Power Law (``mpl``), and for
the momentum law, with a run seen to 25%, 50% and 75% of its steps.

The simulation is the bench's own (``partway_replicate`` in bench/bench_curves.py,
imported, not copied): constant, cosine and two-stage curves of the law at known
parameters (``synthetic_curves``, data set ``i`` from ``rng=i``; ~170 points each, AR(1) log
noise with coefficient 0.7 and standard deviation 0.1%), fitted and bootstrapped by
``bootstrap_curves``' default, the AR(1) sieve (``method="ar1"``, ``rng=i``); a WSD run
whose L0 is 0.05 nats higher (another data mix; ``rng=10_000 + i``) is cut at 25%, 50%
and 75% of its steps, L0 refitted on its points, and its interval checked against the
law's true final loss at the shifted parameters. The run's noise is redrawn as
``predict_final`` does by default: a studentized AR(1) sieve bootstrap of its residuals
with a bias-corrected coefficient (uncertainty/run_noise.py).

Each count is checked against the nominal level within 3 Monte Carlo standard errors
(binomial) and pinned exactly (same seeds, same counts). With moving blocks of the run's
own points (``run_noise="blocks"``, the default before) the momentum law held the truth
in 169 / 178 of 200 (25% / 75% seen): a part-way run's few correlated points, whose
resampled blocks understate how far its refitted L0 can be off. With the law's draws from
moving blocks of the fitted curves' points (``method="blocks"``, ``bootstrap_curves``'
default before) the same seeds gave 187 / 184 / 184 of 200 (momentum) and 52 / 49 / 48 of
60 (Multi-Power Law: its 16 fits on a bound covered 13 / 11 / 11, the other 44 39 / 38 /
37), the last two below the band: the law's share, whose block draws were too narrow.
Checks below the band are strict xfails recording the measured counts (none now).
"""

from __future__ import annotations

import functools
import math

import pytest

from bench_modules import load_bench

LEVEL = 0.95
FRACTIONS = (0.25, 0.5, 0.75)
#: how the law's draws are made: ``bootstrap_curves``' default (checked below), the AR(1)
#: sieve
METHOD = "ar1"
#: data sets and bootstrap resamples per law: the Multi-Power Law's data sets cost more
#: (4.0 s of CPU each with 40 resamples against 2.1 s for the momentum law's with 100, on
#: this 2-core machine at load 3-4), so it runs fewer, with the README's 40 resamples
DESIGN = {"momentum": {"replicates": 200, "resamples": 100},
          "mpl": {"replicates": 60, "resamples": 40}}

# Measured with the seeds above: data sets whose interval held the true final loss, per
# fraction seen, and data sets whose full-data fit ended on a bound (status 1); read off
# `python -m pytest -q --slow tests/analysis/test_curve_final_coverage.py` on the 2-core
# VM once the sieve's percentile ends became the (B + 1) a-th ordered draws
# (CurveBootstrap.percentile_ends). With numpy's interpolated ends the counts were 194 /
# 191 / 193 and 57 / 56 / 56, with 16 Multi-Power Law fits on a bound (they covered 16 /
# 14 / 14); the fits themselves now end on a bound in 15 of the 60 data sets.
MEASURED = {"momentum": {0.25: 195, 0.5: 193, 0.75: 195, "on a bound": 0},
            "mpl": {0.25: 59, 0.5: 57, 0.75: 57, "on a bound": 15}}
#: checks below the 3-standard-error band (strict xfails), with the measured count: none
#: with the sieve's draws (with blocks: ("mpl", 0.5): 49, ("mpl", 0.75): 48, module
#: docstring)
UNDER_COVERING = {}


def band(n):
    """Counts of ``n`` data sets within 3 Monte Carlo standard errors of the nominal level
    (binomial): 181-199 of 200; 52-60 of 60 (where 60 of 60 cannot be too many)."""
    error = math.sqrt(LEVEL * (1 - LEVEL) * n)
    return math.ceil(LEVEL * n - 3 * error), min(n, math.floor(LEVEL * n + 3 * error))


@functools.cache
def simulate(law):
    """Per fraction seen, the data sets whose interval held the truth, and the data sets
    whose fit ended on a bound."""
    from scalinglaws.laws.curve_synthetic import default_schedules

    schedules = default_schedules()
    held = schedules.pop("wsd")
    design = DESIGN[law]
    counts = dict.fromkeys(FRACTIONS, 0) | {"on a bound": 0}
    for replicate in range(design["replicates"]):
        out, status = load_bench("bench_curves").partway_replicate(
            law, schedules, held, METHOD, replicate, design["resamples"], level=LEVEL,
            fractions=FRACTIONS)
        for fraction in FRACTIONS:
            counts[fraction] += out[fraction][0]  # (covered, width, error, points, block)
        counts["on a bound"] += status == 1
    return counts


@pytest.mark.parametrize("law", list(DESIGN))
def test_the_truth_is_the_generator_s_loss_at_the_last_step(law):
    # The bench's truth, the law at the shifted parameters at the WSD schedule's last step
    # (CurveFitResult.predict), is the loss the curve generator itself gives there when it
    # logs that step with no noise: two routes through the law's sums.
    from scalinglaws.fitting.curves import CurveFitResult
    from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves

    bench = load_bench("bench_curves")
    held = default_schedules()["wsd"]
    truth = synthetic_curves(law, rng=0, noise=0.0)[1]
    shifted = {**truth, "L0": truth["L0"] + bench.PARTWAY_OFFSET}
    last = held.total_steps - 1
    clean = synthetic_curves(law, shifted, schedules={"heldout": held},
                             every=last - held.warmup_steps, noise=0.0)[0]
    assert clean.steps("heldout")[-1] == last
    final = CurveFitResult.from_params(law, shifted).predict(held, [last])[0]
    assert clean.loss("heldout")[-1] == pytest.approx(final, rel=1e-9)
    assert bench.PARTWAY_OFFSET == 0.05  # as the README's table says


def test_the_draws_measured_are_the_default_ones():
    # the counts below are for what a user gets: bootstrap_curves without a method
    from scalinglaws.fitting.curves import fit_curves
    from scalinglaws.laws.curve_synthetic import synthetic_curves
    from scalinglaws.uncertainty.curves import bootstrap_curves

    curves, _ = synthetic_curves("momentum", rng=5, noise=0.001, every=512)
    assert bootstrap_curves(fit_curves(curves, "momentum"), curves, 2, rng=0).method == METHOD


@pytest.mark.slow
@pytest.mark.parametrize("law", list(DESIGN))
def test_counts_are_the_measured_ones(law):
    assert simulate(law) == MEASURED[law]


def _nominal_cases():
    for law, design in DESIGN.items():
        low, high = band(design["replicates"])
        for fraction in FRACTIONS:
            measured = UNDER_COVERING.get((law, fraction))
            marks = () if measured is None else pytest.mark.xfail(
                strict=True, raises=AssertionError,
                reason=f"measured {measured} of {design['replicates']}, below {low} "
                       "(README says so)")
            yield pytest.param(law, fraction, marks=marks, id=f"{law}-{fraction:.0%}")


@pytest.mark.slow
@pytest.mark.parametrize(("law", "fraction"), list(_nominal_cases()))
def test_final_loss_intervals_cover_the_truth_at_the_nominal_rate(law, fraction):
    low, high = band(DESIGN[law]["replicates"])
    assert low <= simulate(law)[fraction] <= high, (law, fraction, simulate(law)[fraction])
