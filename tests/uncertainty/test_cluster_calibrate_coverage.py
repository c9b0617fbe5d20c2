"""Coverage of calibrate's prediction intervals on simulated checkpoints: whole runs
against rows taken for runs.

The sweeps are those of ``test_cluster_bootstrap_coverage.py`` (its ``checkpoint_sweep``:
20 runs of Chinchilla's law, 10 sizes x 2 horizons, each logged at 4 checkpoints; a run's
1% error shared by its rows plus 0.2% per row), sweep ``i`` drawn from
``rng=40_000 + i``. Each is fitted and calibrated twice without a bootstrap
(``n_resamples=0``): ``clusters="auto"`` (whole runs: it finds the repeated run ids) and
``clusters=None`` (every row a run, as calibrate did before it took clusters). The target
is the loss of a *new run*, drawn as the sweep's runs are (its own 1% and 0.2% errors,
from ``rng=60_000 + i``) at two places: the sweep's largest run (N = 2B, D = 160B, its
last checkpoint) and the compute-optimal model at 10x the sweep's largest compute
(Hoffmann et al.'s Eq. 4, typed in the other module). Each 95% prediction interval is
checked against that loss: the truth, not the code.

The whole-run counts must lie within 3 Monte Carlo standard errors of nominal,
sqrt(0.95 x 0.05 x 200) = 3.1 sweeps: at least 181 of 200. Rows are pinned to what they
were measured at, below the whole-run counts.

Measured (200 sweeps, one process on a shared 2-core x86_64: 295 and 399 s in two runs,
3.6 minutes of CPU): whole runs held the new run in 194 of 200 sweeps at the largest run
and 188 at 10x compute; rows in 188 and 179 (10x below the band). The counts are noisy: the mean chance an interval holds a new run
(its bounds against the new run's known normal error, free of the draw's noise) is 95.3%
and 95.6% with whole runs, 90.9% and 91.0% with rows, whose intervals are too narrow at
both places. The scatter's mean estimate is 1.07% with whole runs and 0.96% with rows,
of a true 1.02%; rows also give 75 degrees of freedom instead of 15, a smaller t, and a
rollout whose held-out rows belong to runs the folds have partly fitted.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from test_cluster_bootstrap_coverage import _law, _optimum, checkpoint_sweep

N_SWEEPS, LEVEL = 200, 0.95
RUN_NOISE, ROW_NOISE = 0.01, 0.002  # as checkpoint_sweep draws them
LARGEST = (2e9, 80 * 2e9)  # the sweep's largest run, at its last checkpoint
_MC_ERROR = math.sqrt(LEVEL * (1 - LEVEL) * N_SWEEPS)
LOWEST = math.ceil(LEVEL * N_SWEEPS - 3 * _MC_ERROR)  # 181 of 200


def new_run_losses(runs, seed):
    """``{place: (N, D, loss)}`` of a new run at the largest run's place and at the
    compute optimum of 10x the largest compute: the law times its own run and row error."""
    rng = np.random.default_rng(seed)
    far = _optimum(10 * float(np.max(runs.C)))
    out = {}
    for place, (N, D) in (("largest", LARGEST), ("10x", far)):
        error = RUN_NOISE * rng.standard_normal() + ROW_NOISE * rng.standard_normal()
        out[place] = (N, D, _law(N, D) * math.exp(error))
    return out


def sweep_tally(i):
    """``{kind: {place: covered}}``, ``{kind: scatter sd}`` and ``{kind: {place: chance}}``
    of sweep ``i``: whether its interval holds the new run, and the chance it holds one
    (the new run's log error is normal with sd sqrt(1%^2 + 0.2%^2) about the law)."""
    from scipy import stats

    runs = checkpoint_sweep(40_000 + i)
    targets = new_run_losses(runs, 60_000 + i)
    new_sd = math.hypot(RUN_NOISE, ROW_NOISE)
    covered, sigma, chance = {}, {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        result = sl.fit(runs)
        for kind, clusters in (("runs", "auto"), ("rows", None)):
            law = sl.calibrate(result, runs, n_resamples=0, clusters=clusters, progress=False)
            assert law.clusters == ("run_id" if kind == "runs" else None)
            sigma[kind] = law.scatter.sigma
            covered[kind], chance[kind] = {}, {}
            for place, (N, D, loss) in targets.items():
                bounds = law.interval("prediction", LEVEL, warn=False, N=N, D=D)
                covered[kind][place] = bool(bounds.low <= loss <= bounds.high)
                low, high = (math.log(float(b) / _law(N, D)) / new_sd
                             for b in (bounds.low, bounds.high))
                chance[kind][place] = float(stats.norm.cdf(high) - stats.norm.cdf(low))
    return covered, sigma, chance


@functools.cache
def tallies(n_sweeps=N_SWEEPS):
    """``{kind: {place: sweeps whose interval holds the new run}}``, the mean scatter sd
    and ``{kind: {place: mean chance of holding a new run}}``."""
    hits = {kind: {"largest": 0, "10x": 0} for kind in ("runs", "rows")}
    sigmas = {kind: [] for kind in hits}
    chances = {kind: {place: [] for place in hits[kind]} for kind in hits}
    for i in range(n_sweeps):
        covered, sigma, chance = sweep_tally(i)
        for kind in hits:
            sigmas[kind].append(sigma[kind])
            for place in hits[kind]:
                hits[kind][place] += covered[kind][place]
                chances[kind][place].append(chance[kind][place])
    return (hits, {kind: float(np.mean(v)) for kind, v in sigmas.items()},
            {kind: {place: float(np.mean(v)) for place, v in by_place.items()}
             for kind, by_place in chances.items()})


def test_a_new_run_is_drawn_as_the_sweeps_runs_are():
    """The new run's error is the run's and the row's: over many draws its sd is
    sqrt(1% ^ 2 + 0.2% ^ 2) (the model the scatter estimates)."""
    runs = checkpoint_sweep(40_000)
    errors = [math.log(new_run_losses(runs, s)["largest"][2] / _law(*LARGEST))
              for s in range(4000)]
    assert abs(np.std(errors) / math.hypot(RUN_NOISE, ROW_NOISE) - 1) < 0.05
    assert max(runs.C) == pytest.approx(6 * LARGEST[0] * LARGEST[1])


@pytest.mark.slow
def test_whole_runs_cover_a_new_run():
    """Whole runs: a new run held in at least 181 of 200 sweeps at the largest run and at
    10x compute, and a mean chance of holding one of at least 94% at each; rows, pinned as
    measured (188 and 179 sweeps), below whole runs at both, with a mean chance below 93%
    (measured 90.9% and 91.0%)."""
    hits, sigma, chance = tallies()
    print(f"coverage of {N_SWEEPS}: {hits}; mean scatter {sigma}; mean chance {chance}")
    low = {place: count for place, count in hits["runs"].items() if count < LOWEST}
    assert not low, f"whole runs below {LOWEST} of {N_SWEEPS}: {low}"
    assert hits["rows"] == {"largest": 188, "10x": 179}, hits
    for place in hits["runs"]:
        assert hits["rows"][place] < hits["runs"][place]
        assert chance["rows"][place] < 0.93 and 0.94 <= chance["runs"][place] <= 0.975
    assert abs(sigma["runs"] / math.hypot(RUN_NOISE, ROW_NOISE) - 1) < 0.1
