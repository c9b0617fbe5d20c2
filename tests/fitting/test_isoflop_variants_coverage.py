"""Coverage of Approach 2's intervals with the other profile curves, on sweeps of known truth.

``isoflop_fit`` prints intervals for the exponents a and b and the coefficients G_N, G_D
(``summary()``: t intervals of the log-log regression, and with ``n_resamples`` the
bootstrap percentile intervals of a and b) and for the allocation far beyond the sweep
(``predict_optimal``: the t interval of the regression line, or with resamples, by
default, the percentile interval of the resampled lines). tests/fitting/test_isoflop.py
measures them for the default parabola; here for the three other curves the README
offers: ``curve="akima"`` (resampled with seed noise, as Porian et al.), ``curve="poly",
degree=3`` and ``window=5`` (a parabola through the 5 sizes around the lowest loss).

The simulation: ``N_SWEEPS`` sweeps from the known Chinchilla law (``generate_sweep``:
9 budgets 6e18-3e21 FLOP, 12 sizes each, 1% log-normal noise; sweep ``i`` from
``rng=FIRST_SWEEP + i``). Each sweep is fitted twice per curve: without resamples (the t
intervals, as a user without ``n_resamples`` gets them) and with ``N_RESAMPLES``
resamples (``rng=i``; Akima with ``seed_noise=0.01``, the sweep's true noise; the
polynomials by the residual bootstrap), whose intervals are the bootstrap ones. The truth:
a = beta / (alpha + beta) and N_opt(C) = G (C/6)^a with G = (alpha A / (beta B))^(1/(alpha
+ beta)) (Hoffmann et al. 2022, Eq 4; checked against a brute-force minimum below), so
G_N = G 6^-a and, since D = C/(6N), G_D = 6^(a-1) / G and b = 1 - a.

Each count must lie within 3 Monte Carlo standard errors of the nominal 95%,
sqrt(0.95 x 0.05 x 200) = 3.1 sweeps, i.e. 181 to 199 of 200 (200 of 200, an interval
far too wide, fails as well); the counts are also pinned exactly (same seeds, same
counts). Checks outside that band are strict xfails recording the measured counts, and
the README says so: Akima's seed-noise bootstrap over-covers (200 of 200: its resampled
minima centre on a smoothed minimum, less noisy than the estimate, yet spread as widely
as the estimate's own error), and the residual bootstrap of a 5-point window under-covers
(its minima's spread rests on 2 residual degrees of freedom per budget).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import ScalingLawsWarning
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH

TRUTH = DEFAULT_TRUTH["chinchilla"]
A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
G_TRUE = (TRUTH["alpha"] * TRUTH["A"] / (TRUTH["beta"] * TRUTH["B"])) ** (
    1 / (TRUTH["alpha"] + TRUTH["beta"]))
#: the true coefficients of N_opt = G_N C^a and D_opt = G_D C^b (C in FLOP, C = 6 N D)
G_N_TRUE, G_D_TRUE = G_TRUE * 6 ** -A_TRUE, 6 ** (A_TRUE - 1) / G_TRUE

N_SWEEPS, FIRST_SWEEP, N_RESAMPLES, LEVEL = 200, 40_000, 200, 0.95
FACTORS = (10, 100)  # predict_optimal at 10x and 100x the largest budget (3e22, 3e23 FLOP)

# 3 Monte Carlo standard errors of a count of N_SWEEPS at the nominal level (binomial)
_MC_ERROR = math.sqrt(LEVEL * (1 - LEVEL) * N_SWEEPS)
LOWEST = math.ceil(LEVEL * N_SWEEPS - 3 * _MC_ERROR)   # 181 of 200
HIGHEST = math.floor(LEVEL * N_SWEEPS + 3 * _MC_ERROR)  # 199 of 200

VARIANTS = {
    "akima": {"curve": "akima"},
    "poly3": {"curve": "poly", "degree": 3},
    "window5": {"window": 5},
}
#: what resampling each curve needs: Akima passes through every run (no residuals), so
#: it is resampled with seed noise of the sweep's true size; the polynomials by residuals
RESAMPLING = {"akima": {"seed_noise": 0.01}, "poly3": {}, "window5": {}}

QUANTITIES = (
    "a t", "b t", "G_N t", "G_D t",
    *(f"{name}@{factor}x t" for factor in FACTORS for name in ("N", "D")),
    "a bootstrap", "b bootstrap",
    *(f"{name}@{factor}x bootstrap" for factor in FACTORS for name in ("N", "D")),
    *(f"{name}@{factor}x auto" for factor in FACTORS for name in ("N", "D")),
)

# Measured with the seeds above (200 sweeps; N_RESAMPLES resamples for the bootstrap).
MEASURED = {
    "akima": {"a t": 189, "b t": 189, "G_N t": 189, "G_D t": 189,
              "N@10x t": 190, "D@10x t": 190, "N@100x t": 188, "D@100x t": 188,
              "a bootstrap": 200, "b bootstrap": 200,
              "N@10x bootstrap": 200, "D@10x bootstrap": 200,
              "N@100x bootstrap": 200, "D@100x bootstrap": 200,
              "N@10x auto": 190, "D@10x auto": 190, "N@100x auto": 188, "D@100x auto": 188},
    "poly3": {"a t": 187, "b t": 187, "G_N t": 188, "G_D t": 188,
              # 182 / 184 with the regression's t error alone; the minima's own errors
              # (their resampling SD) are wider at the largest budgets
              "N@10x t": 194, "D@10x t": 194, "N@100x t": 194, "D@100x t": 194,
              "a bootstrap": 186, "b bootstrap": 186,
              "N@10x bootstrap": 185, "D@10x bootstrap": 185,
              "N@100x bootstrap": 184, "D@100x bootstrap": 184,
              "N@10x auto": 185, "D@10x auto": 185, "N@100x auto": 184, "D@100x auto": 184},
    "window5": {"a t": 192, "b t": 192, "G_N t": 193, "G_D t": 193,
                "N@10x t": 190, "D@10x t": 190, "N@100x t": 190, "D@100x t": 190,
                "a bootstrap": 176, "b bootstrap": 176,
                "N@10x bootstrap": 175, "D@10x bootstrap": 175,
                "N@100x bootstrap": 173, "D@100x bootstrap": 173,
                "N@10x auto": 191, "D@10x auto": 191, "N@100x auto": 191, "D@100x auto": 191},
}
#: checks outside LOWEST..HIGHEST (strict xfails): Akima's seed-noise bootstrap
#: over-covers, the 5-point window's residual bootstrap under-covers
OFF_NOMINAL = {
    **{("akima", quantity): 200 for quantity in (
        "a bootstrap", "b bootstrap", "N@10x bootstrap", "D@10x bootstrap",
        "N@100x bootstrap", "D@100x bootstrap")},
    ("window5", "a bootstrap"): 176, ("window5", "b bootstrap"): 176,
    ("window5", "N@10x bootstrap"): 175, ("window5", "D@10x bootstrap"): 175,
    ("window5", "N@100x bootstrap"): 173, ("window5", "D@100x bootstrap"): 173,
}
#: median width of a's t interval over the median of the default parabola's on the same
#: sweeps (README: Akima's interval is about 7 times as wide)
WIDTH_RATIO = {"akima": 7.1, "poly3": 2.4, "window5": 4.8}
#: sweeps (of 200) whose fit left a budget out: (without resamples, with them)
EXCLUDING = {"akima": (0, 0), "poly3": (0, 0), "window5": (73, 95)}


def n_opt_true(compute):
    """The true compute-optimal N at ``compute`` FLOP (Hoffmann et al. 2022, Eq 4)."""
    return G_TRUE * (np.asarray(compute, float) / 6) ** A_TRUE


def _fit(seed, variant, resampled):
    options = dict(VARIANTS[variant])
    if resampled:
        options.update(RESAMPLING[variant], n_resamples=N_RESAMPLES, rng=seed)
    with warnings.catch_warnings():
        # excluded budgets are announced; the coverage counts whatever the fit used
        warnings.simplefilter("ignore", ScalingLawsWarning)
        return sl.isoflop_fit(sl.generate_sweep(rng=FIRST_SWEEP + seed), budget="budget",
                              **options)


@functools.cache
def _parabola_width(seed):
    """Width of a's t interval with the default parabola, on sweep ``seed``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        fit = sl.isoflop_fit(sl.generate_sweep(rng=FIRST_SWEEP + seed), budget="budget")
    return fit.a_interval[1] - fit.a_interval[0]


def _hits(result, kind):
    """Which of ``result``'s intervals of ``kind`` ("t" or "bootstrap") hold the truth."""
    def inside(interval, truth):
        return bool(interval[0] < truth < interval[1])

    if kind == "t":
        hits = {"a t": inside(result.a_interval, A_TRUE),
                "b t": inside(result.b_interval, 1 - A_TRUE),
                "G_N t": inside(result.N_coef_interval, G_N_TRUE),
                "G_D t": inside(result.D_coef_interval, G_D_TRUE)}
    else:
        hits = {"a bootstrap": inside(result.a_bootstrap_interval, A_TRUE),
                "b bootstrap": inside(result.b_bootstrap_interval, 1 - A_TRUE)}
    compute = [factor * max(DEFAULT_BUDGETS) for factor in FACTORS]
    tables = {kind: result.predict_optimal(compute, interval=kind)}
    if kind == "bootstrap":
        # the default with resamples: the bootstrap lines' interval where that kind of
        # resampling covers, else the regression's t (Akima's seed noise, 5-point windows)
        tables["auto"] = result.predict_optimal(compute)
        expected = "t" if result.options["curve"] == "akima" or result.options["window"] \
            else "bootstrap"
        assert tables["auto"].attrs["method"].startswith(expected)
    else:
        assert result.predict_optimal(compute).attrs == tables["t"].attrs
    for name, table in tables.items():
        for factor, row, c in zip(FACTORS, table.itertuples(), compute):
            n_true = float(n_opt_true(c))
            hits[f"N@{factor}x {name}"] = bool(row.N_low < n_true < row.N_high)
            hits[f"D@{factor}x {name}"] = bool(row.D_low < c / (6 * n_true) < row.D_high)
    return hits


@functools.cache
def simulate(variant):
    """``counts``: per quantity, the sweeps whose interval held the truth; per sweep,
    ``width`` of a's t interval and ``parabola_width`` (the default parabola's), ``used``
    budgets (plain fit, resampled fit) and ``a`` (the resampled fit's a, the median and
    the SD of its resampled a)."""
    counts = dict.fromkeys(QUANTITIES, 0)
    width, parabola_width, used, a = [], [], [], []
    for seed in range(N_SWEEPS):
        plain, resampled = _fit(seed, variant, False), _fit(seed, variant, True)
        for name, hit in {**_hits(plain, "t"), **_hits(resampled, "bootstrap")}.items():
            counts[name] += hit
        width.append(plain.a_interval[1] - plain.a_interval[0])
        parabola_width.append(_parabola_width(seed))
        used.append((plain.n_budgets_used, resampled.n_budgets_used))
        a.append((resampled.a, np.nanmedian(resampled.a_bootstrap),
                  np.nanstd(resampled.a_bootstrap, ddof=1)))
    return {"counts": counts, "width": np.array(width),
            "parabola_width": np.array(parabola_width), "used": np.array(used),
            "a": np.array(a)}


def test_the_true_optimum_is_the_law_s_brute_force_minimum():
    # N_opt(C) = G (C/6)^a from the first-order condition, against a bounded 1-D search
    # of the law's loss along C = 6 N D at each default budget and 100x the largest
    from scipy.optimize import minimize_scalar

    law = get_form("chinchilla")
    for c in (*DEFAULT_BUDGETS, 100 * max(DEFAULT_BUDGETS)):
        def loss(log_n, c=c):
            n = math.exp(log_n)
            return float(law.predict(TRUTH, N=np.array([n]), D=np.array([c / (6 * n)]))[0])

        best = minimize_scalar(loss, bounds=(math.log(1e6), math.log(1e13)), method="bounded",
                               options={"xatol": 1e-10})
        assert math.exp(best.x) == pytest.approx(float(n_opt_true(c)), rel=1e-6), c
    assert G_N_TRUE * (3e22) ** A_TRUE == pytest.approx(float(n_opt_true(3e22)), rel=1e-12)
    assert G_D_TRUE * (3e22) ** (1 - A_TRUE) == pytest.approx(
        3e22 / (6 * float(n_opt_true(3e22))), rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_counts_are_the_measured_ones(variant):
    run = simulate(variant)
    counts = run["counts"]
    assert counts == MEASURED[variant]
    assert round(float(np.median(run["width"]) / np.median(run["parabola_width"])), 1) \
        == WIDTH_RATIO[variant]
    # sweeps where a budget was left out (plain fits, resampled fits): the window drops an
    # edge or concave profile, and with resamples an unstable one; Akima and the cubic none
    assert tuple(int(n) for n in (run["used"] < 9).sum(axis=0)) == EXCLUDING[variant]
    assert run["used"].min() >= 6
    # with C = 6 N D, ln D* = ln(C/6) - ln N*: b's intervals are 1 - a's and D's are
    # C/(6N)'s, so they hold the truth in the same sweeps
    for kind in ("t", "bootstrap"):
        assert counts[f"b {kind}"] == counts[f"a {kind}"]
    for kind in ("t", "bootstrap", "auto"):
        for factor in FACTORS:
            assert counts[f"D@{factor}x {kind}"] == counts[f"N@{factor}x {kind}"]


@pytest.mark.slow
def test_why_the_resampled_intervals_are_off_nominal():
    # The README's reasons, measured on the resampled fits of the 200 sweeps.
    def relative(variant):
        """SD over the sweeps of the resamples' median, and each sweep's resampled SD of a,
        each over the SD over the sweeps of the estimate of a."""
        a = simulate(variant)["a"]
        estimate = np.std(a[:, 0], ddof=1)
        return np.std(a[:, 1], ddof=1) / estimate, a[:, 2] / estimate

    # Akima: the resamples centre on a smoothed minimum far steadier than the estimate
    # (their median varies 0.57 times as much), yet spread as widely as the estimate
    # itself varies (median 1.04): a percentile interval about a steadier centre
    centre, spread = relative("akima")
    assert (round(float(centre), 2), round(float(np.median(spread)), 2)) == (0.57, 1.04)
    assert centre < 0.7 and np.median(spread) > 0.95
    # window=5: each budget's resampled minima rest on 5 points (2 residual degrees of
    # freedom); the resampled a spreads less than the estimate varies (median 0.82), and in
    # 80 of 200 sweeps less than 0.75 of it; the cubic's bootstrap (12 points a budget),
    # which covers, in 5
    _, window = relative("window5")
    _, cubic = relative("poly3")
    assert (round(float(np.median(window)), 2), int(np.sum(window < 0.75))) == (0.82, 80)
    assert (round(float(np.median(cubic)), 2), int(np.sum(cubic < 0.75))) == (0.97, 5)
    assert np.median(window) < 0.85 < 0.9 < np.median(cubic)


def _nominal_cases():
    for variant in VARIANTS:
        for quantity in QUANTITIES:
            measured = OFF_NOMINAL.get((variant, quantity))
            marks = () if measured is None else pytest.mark.xfail(
                strict=True, raises=AssertionError,
                reason=f"measured {measured} of {N_SWEEPS}, outside {LOWEST}-{HIGHEST} "
                       "(README says so)")
            yield pytest.param(variant, quantity, marks=marks, id=f"{variant}-{quantity}")


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "quantity"), list(_nominal_cases()))
def test_intervals_cover_the_truth_at_the_nominal_rate(variant, quantity):
    count = simulate(variant)["counts"][quantity]
    assert LOWEST <= count <= HIGHEST, (variant, quantity, count)
