"""Coverage of every bootstrap interval method, plain and stratified, on simulated sweeps.

``bootstrap(..., method=...)`` prints one of three kinds of interval from the same
re-optimised draws: ``"percentile"`` (the draws' 2.5% and 97.5% quantiles), ``"basic"``
(those quantiles reflected about the full-data estimate, 2θ̂ - q) and ``"bca"`` (Efron's
bias-corrected and accelerated percentiles, the acceleration from a leave-one-run-out
jackknife). ``groups="budget"`` resamples within each compute budget, so every resample
keeps the IsoFLOP design (12 runs at each of the 9 budgets).

The simulation: ``N_SWEEPS`` sweeps from the known Chinchilla law (``generate_sweep``:
9 budgets 6e18-3e21 FLOP, 12 sizes each, 1% log-normal noise; sweep ``i`` from
``rng=30_000 + i``), each fitted and bootstrapped with ``N_RESAMPLES`` resamples
(``rng=i``), once plain and once stratified by budget; each method's 95% interval of
E, A, B, alpha and beta is checked against the true parameter. The draws do not depend
on ``method`` (it only chooses the quantiles), so one bootstrap per sweep with the
jackknife (``method="bca"``) gives all three; ``test_one_bootstrap_gives_every_method``
checks that shortcut against the public route.

The check is against the truth, not against the code: each count must lie within 3
Monte Carlo standard errors of the nominal level, sqrt(0.95 x 0.05 x 200) = 3.1 sweeps,
i.e. 181 to 199 of 200 (so 200 of 200, an interval far too wide, fails as well). The
counts are also pinned exactly (same seeds, same counts), so a change that moves them is
seen. The basic interval under-covers A, B and alpha by more than that; its check is a
strict xfail recording the measured counts, and the README says so.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from scalinglaws.uncertainty.bootstrap import bootstrap
from bench_modules import load_bench

TRUTH = DEFAULT_TRUTH["chinchilla"]
NAMES = ("E", "A", "B", "alpha", "beta")
METHODS = ("percentile", "basic", "bca")
N_SWEEPS, N_RESAMPLES, LEVEL = 200, 500, 0.95

# 3 Monte Carlo standard errors of a count of N_SWEEPS at the nominal level (binomial)
_MC_ERROR = math.sqrt(LEVEL * (1 - LEVEL) * N_SWEEPS)
LOWEST = math.ceil(LEVEL * N_SWEEPS - 3 * _MC_ERROR)   # 181 of 200
HIGHEST = math.floor(LEVEL * N_SWEEPS + 3 * _MC_ERROR)  # 199 of 200

# Measured with the seeds above (200 sweeps x 500 resamples; no resample failed).
MEASURED = {
    (None, "percentile"): {"E": 194, "A": 193, "B": 195, "alpha": 193, "beta": 195},
    (None, "basic"): {"E": 184, "A": 176, "B": 175, "alpha": 177, "beta": 181},
    (None, "bca"): {"E": 189, "A": 184, "B": 191, "alpha": 184, "beta": 192},
    ("budget", "percentile"): {"E": 192, "A": 192, "B": 193, "alpha": 191, "beta": 193},
    ("budget", "basic"): {"E": 175, "A": 174, "B": 172, "alpha": 176, "beta": 179},
    ("budget", "bca"): {"E": 189, "A": 184, "B": 188, "alpha": 182, "beta": 192},
}
UNDER_COVERING = {(None, "basic"), ("budget", "basic")}

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _sweep(i):
    runs = sl.generate_sweep(noise=0.01, rng=30_000 + i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return runs, sl.fit(runs)


@functools.cache
def _tallies(groups):
    """``{method: {name: sweeps whose interval holds the truth}}`` and the failed resamples."""
    hits = {method: dict.fromkeys(NAMES, 0) for method in METHODS}
    failed = 0
    for i in range(N_SWEEPS):
        runs, result = _sweep(i)
        boot = bootstrap(result, runs, N_RESAMPLES, rng=i, method="bca", groups=groups,
                         confidence_level=LEVEL, progress=False)
        failed += boot.n_failed
        for method in METHODS:
            for name in NAMES:
                _, low, high = boot.interval(name, method=method)
                hits[method][name] += bool(low <= TRUTH[name] <= high)
    return hits, failed


def test_one_bootstrap_gives_every_method():
    """The simulation's shortcut is the public route: ``bootstrap(method=m).intervals``
    equals the BCa run's ``interval(name, method=m)`` for the same seed, plain and
    stratified (the draws depend on the seed, not on the method)."""
    runs, result = _sweep(0)
    for groups in (None, "budget"):
        shared = bootstrap(result, runs, 60, rng=0, method="bca", groups=groups,
                           progress=False)
        for method in METHODS:
            own = bootstrap(result, runs, 60, rng=0, method=method, groups=groups,
                            progress=False)
            assert own.method == method and np.array_equal(own.draws, shared.draws)
            for name in NAMES:
                _, low, high = shared.interval(name, method=method)
                assert own.intervals[name] == (low, high), (groups, method, name)


@pytest.mark.slow
@pytest.mark.parametrize("groups, method", list(MEASURED))
def test_counts_are_the_measured_ones(groups, method):
    """Same seeds, same counts (the README quotes them); no resample fails."""
    hits, failed = _tallies(groups)
    assert failed == 0
    assert hits[method] == MEASURED[(groups, method)]


def _nominal_cases():
    for (groups, method), measured in MEASURED.items():
        if (groups, method) in UNDER_COVERING:
            counts = ", ".join(f"{n} {c}" for n, c in measured.items())
            yield pytest.param(groups, method, marks=pytest.mark.xfail(
                strict=True, raises=AssertionError,
                reason=f"the basic interval under-covers (of {N_SWEEPS}: {counts}; "
                       f"3 Monte Carlo errors allow {LOWEST}-{HIGHEST}); README says so"))
        else:
            yield groups, method


@pytest.mark.slow
@pytest.mark.parametrize("groups, method", list(_nominal_cases()))
def test_intervals_cover_within_three_monte_carlo_errors_of_nominal(groups, method):
    """Each parameter's 95% interval holds the true value in 181-199 of 200 sweeps."""
    hits, _ = _tallies(groups)
    outside = {name: count for name, count in hits[method].items()
               if not LOWEST <= count <= HIGHEST}
    assert not outside, f"outside {LOWEST}-{HIGHEST} of {N_SWEEPS}: {outside}"



def test_readme_states_the_measured_counts():
    text = " ".join(README.split())
    assert f"a Monte Carlo error of ± {_MC_ERROR:.1f}, so {LOWEST} to {HIGHEST}" in text
    for (groups, method), counts in MEASURED.items():
        label = {"percentile": "percentile", "basic": "basic", "bca": "BCa"}[method]
        assert f"{label} {', '.join(str(counts[name]) for name in NAMES)}" in text, \
            (groups, method)

# --- bench/bench_coverage.py's record (percentile intervals, 200 sweeps x 500 resamples) ---



def _coverage_record():
    return json.loads((ROOT / "bench" / "coverage_record.json").read_text())


def test_readme_quotes_the_coverage_record():
    record = _coverage_record()
    assert (record["sweeps"], record["resamples"], record["method"]) == (200, 500, "percentile")
    assert record["failed"] == 0 and "with no failed resamples" in README
    counts = record["counts"]
    rates = {name: f"{100 * counts[name] / record['sweeps']:.1f}%" for name in counts}
    assert (f"E {rates['E']}, α {rates['alpha']}, β {rates['beta']} and a = β/(α+β) "
            f"{rates['a']} ({counts['E']}, {counts['alpha']}, {counts['beta']} and "
            f"{counts['a']} of {record['sweeps']};") in " ".join(README.split())
    for name, flags in record["hits"].items():
        assert len(flags) == record["sweeps"] and flags.count("1") == counts[name], name


def test_first_sweeps_of_the_coverage_record_are_what_the_code_gives():
    """Rerun the bench's first 10 sweeps (~1 s) and compare them with the record, sweep by
    sweep; and a record that differs is reported, not passed."""
    bench, record = load_bench("bench_coverage"), _coverage_record()
    settings = {key: record[key] for key in bench.SETTINGS}
    rerun = bench.run(10, **settings)
    assert bench.differences(rerun, record) == []
    flags = record["hits"]["E"]
    flipped = flags[:3] + ("0" if flags[3] == "1" else "1") + flags[4:]
    tampered = {**record, "hits": {**record["hits"], "E": flipped}}
    assert bench.differences(rerun, tampered) == ["E: sweeps [3] differ from the record"]
