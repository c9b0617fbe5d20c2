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
(binomial): the correctness check. The README prints the counts, the fits on a bound and
the median widths of these seeds; a second check reads those digits back from the README
and compares them with the simulation's, so that a change to the draws that stays inside
the band still cannot leave the README quoting a run that no longer happens. With moving
blocks of the run's own points (``run_noise="blocks"``, the default before) the momentum
law held the truth in 169 / 178 of 200 (25% / 75% seen): a part-way run's few correlated points, whose
resampled blocks understate how far its refitted L0 can be off. With the law's draws from
moving blocks of the fitted curves' points (``method="blocks"``, ``bootstrap_curves``'
default before) the same seeds gave 187 / 184 / 184 of 200 (momentum) and 52 / 49 / 48 of
60 (Multi-Power Law: its 16 fits on a bound covered 13 / 11 / 11, the other 44 39 / 38 /
37), the last two below the band: the law's share, whose block draws were too narrow.
Checks below the band are strict xfails recording the measured counts (none now).
"""

from __future__ import annotations

import functools
import re
import statistics
from pathlib import Path

import pytest

from bench_modules import load_bench
from coverage_checks import CPU_ROUNDING, band

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")

README = Path(__file__).resolve().parents[2] / "README.md"

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

# The README's figures of these seeds (read back by test_readme_states_what_the_simulation_
# gives), with the sieve's percentile ends at the (B + 1) a-th ordered draws
# (CurveBootstrap.percentile_ends): momentum 195 / 193 / 195 of 200; Multi-Power Law 59 /
# 57 / 57 of 60, its fits on a bound 15 of 60 with numpy's AVX-512 kernels (16 with its
# AVX2 ones: data set 0's fit stops short of converging on one and not the other).
#: checks below the 3-standard-error band (strict xfails), with the measured count: none
#: with the sieve's draws (with blocks: ("mpl", 0.5): 49, ("mpl", 0.75): 48, module
#: docstring)
UNDER_COVERING = {}


@functools.cache
def simulate(law):
    """Per fraction seen: the data sets whose interval held the truth (``covered``), those
    of them whose full-data fit ended on a bound (``covered on a bound``) and the median
    interval width (``width``); and the data sets whose fit ended on a bound."""
    from scalinglaws.laws.curve_synthetic import default_schedules

    schedules = default_schedules()
    held = schedules.pop("wsd")
    design = DESIGN[law]
    covered = dict.fromkeys(FRACTIONS, 0)
    covered_on_bound = dict.fromkeys(FRACTIONS, 0)
    widths = {fraction: [] for fraction in FRACTIONS}
    on_bound = 0
    for replicate in range(design["replicates"]):
        out, status = load_bench("bench_curves").partway_replicate(
            law, schedules, held, METHOD, replicate, design["resamples"], level=LEVEL,
            fractions=FRACTIONS)
        for fraction in FRACTIONS:
            hit, width = out[fraction][:2]  # (covered, width, error, points, block, ar1)
            covered[fraction] += hit
            covered_on_bound[fraction] += hit and status == 1
            widths[fraction].append(width)
        on_bound += status == 1
    return {"covered": covered, "covered on a bound": covered_on_bound,
            "width": {f: statistics.median(w) for f, w in widths.items()},
            "on a bound": on_bound}




def readme_figures(text):
    """What the README's paragraph on ``predict_final``'s coverage prints for these seeds:
    ``{law: {"covered": [...], ...}}``, read from its digits."""
    text = " ".join(text.split())
    number = r"(\d+(?:\.\d+)?)"
    three = rf"{number} / {number} / {number}"
    momentum = re.search(rf"it held the true final loss in {three} of 200 data sets for the "
                         rf"momentum law with the run seen to 25 / 50 / 75% of its steps,",
                         text)
    mpl = re.search(rf"for the Multi-Power Law \(60 data sets, 40 resamples\) in {three} of "
                    rf"60, within the (\d+)–(\d+) allowed \(its (\d+) fits on a bound", text)
    band_200 = re.search(r"within the (\d+)–(\d+) that 3 Monte Carlo errors allow", text)
    assert momentum and mpl and band_200, "the README's paragraph changed: update the pattern"
    return {"momentum": {"covered": [int(x) for x in momentum.groups()[:3]],
                         "band": [int(x) for x in band_200.groups()]},
            "mpl": {"covered": [int(x) for x in mpl.groups()[:3]],
                    "band": [int(x) for x in mpl.groups()[3:5]],
                    "on a bound": int(mpl.group(6))}}


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
    # the coverage below is of what a user gets: bootstrap_curves without a method
    from scalinglaws.fitting.curves import fit_curves
    from scalinglaws.laws.curve_synthetic import synthetic_curves
    from scalinglaws.uncertainty.curves import bootstrap_curves

    curves, _ = synthetic_curves("momentum", rng=5, noise=0.001, every=512)
    assert bootstrap_curves(fit_curves(curves, "momentum"), curves, 2, rng=0).method == METHOD


def test_the_readme_band_is_three_monte_carlo_errors():
    figures = readme_figures(README.read_text())
    for law, design in DESIGN.items():
        assert tuple(figures[law]["band"]) == band(design["replicates"], LEVEL), law


@pytest.mark.slow
@pytest.mark.parametrize("law", list(DESIGN))
def test_readme_states_what_the_simulation_gives(law):
    """The README's digits for these seeds are the simulation's, to within the few data
    sets whose fit rounding decides (numpy's SIMD kernels differ between CPUs: one
    Multi-Power Law fit of 60 reached a bound with the AVX2 kernels and stopped short with
    the AVX-512 ones), here 2 per count. Not the correctness check (the band below is):
    when the draws change, update the README's paragraph with the new figures."""
    figures, simulated = readme_figures(README.read_text())[law], simulate(law)
    counts = [simulated["covered"][f] for f in FRACTIONS]
    assert all(abs(a - b) <= CPU_ROUNDING for a, b in zip(figures["covered"], counts)), \
        simulated
    if "on a bound" in figures:
        assert abs(figures["on a bound"] - simulated["on a bound"]) <= CPU_ROUNDING, simulated


def _nominal_cases():
    for law, design in DESIGN.items():
        low, high = band(design["replicates"], LEVEL)
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
    low, high = band(DESIGN[law]["replicates"], LEVEL)
    count = simulate(law)["covered"][fraction]
    assert low <= count <= high, (law, fraction, count)
