"""Active design: runs chosen for the largest variance reduction per FLOP."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.analysis.active import active_design, candidate_runs
from scalinglaws.analysis.designs import design_sd
from scalinglaws.analysis.prior import (
    FRESH_PRIOR_WEIGHT,
    Target,
    prior_from_fit,
    published_prior,
    target_variance,
)

TARGET = Target.make("N_opt", C=1e24)


@pytest.fixture(scope="module")
def prior():
    return published_prior("epoch", n_draws=300, rng=0)


@pytest.fixture(scope="module")
def fitted():
    runs = sl.generate_sweep(noise=0.01, rng=7)
    result = sl.fit(runs)
    return prior_from_fit(result.with_bootstrap(sl.bootstrap(result, runs, 100, rng=0)))


@pytest.fixture(scope="module")
def plan(prior):
    return active_design(prior, TARGET, sweep_budget=1e21, max_draws=100)


def test_rank_one_updates_match_a_direct_solve(prior, plan):
    # the greedy loop updates covariances by Sherman-Morrison; recompute from scratch, with
    # the faint prior information a fresh sweep starts from (FRESH_PRIOR_WEIGHT)
    runs = plan.runs
    theta = prior.design_rows(100, np.random.default_rng(0))
    faint = dataclasses.replace(prior, precision=FRESH_PRIOR_WEIGHT * np.linalg.inv(
        prior.covariance))
    for size in (1, 10, 60, len(runs)):
        head = runs.iloc[:size]
        direct = math.sqrt(np.mean(target_variance(faint, TARGET, head["N"], head["D"],
                                                   theta=theta)))
        assert head["sd_after"].iloc[-1] == pytest.approx(direct, rel=1e-6)
    # that faint information changes the final width by less than 1e-4
    assert plan.sd_after == pytest.approx(design_sd(plan.design(), prior, TARGET, max_draws=100),
                                          rel=1e-4)


def test_first_pick_is_the_best_gain_per_flop(fitted):
    # a small candidate set, each scored by brute force: variance now minus variance after
    # adding it alone (direct solves), over its cost; the greedy rule's first choice
    candidates = pd.DataFrame({"N": [2e8, 1e9, 5e9, 1e9, 3e7],
                               "D": [4e9, 2e10, 1e11, 2e11, 6e10]})
    candidates["C"] = 6 * candidates["N"] * candidates["D"]
    plan = active_design(fitted, TARGET, candidates=candidates, k=1, max_draws=40)
    theta = fitted.design_rows(40, np.random.default_rng(0))
    now = np.mean(target_variance(fitted, TARGET, theta=theta))
    gains = [(now - np.mean(target_variance(fitted, TARGET, [row.N], [row.D], theta=theta)))
             / row.C for row in candidates.itertuples()]
    first = plan.runs.iloc[0]
    assert (first["N"], first["D"]) == tuple(candidates.loc[int(np.argmax(gains)), ["N", "D"]])
    assert plan.n_runs == 1


def test_budget_k_and_repeats_are_respected(prior):
    candidates = candidate_runs(prior, 1e19, n_budgets=3, n_sizes=3)
    plan = active_design(prior, TARGET, sweep_budget=2e20, candidates=candidates, max_repeats=3,
                         max_draws=30)
    assert plan.compute_used <= 2e20 * (1 + 1e-12)
    assert plan.runs["C"].sum() == pytest.approx(plan.compute_used)
    counts = plan.runs.groupby(["N", "D"]).size()
    assert counts.max() <= 3 and counts.max() > 1  # seeds of the same run were worth it
    assert set(plan.runs["repeat"]) <= {0, 1, 2}
    capped = active_design(prior, TARGET, k=5, candidates=candidates, max_draws=30)
    assert capped.n_runs == 5
    # the sd falls with every run, and compute_to_reach reads that curve
    sd = plan.runs["sd_after"].to_numpy()
    assert np.all(np.diff(sd) <= 1e-12)
    middle = sd[len(sd) // 2]
    assert plan.compute_to_reach(middle) == plan.runs["compute_after"].iloc[len(sd) // 2]
    assert math.isnan(plan.compute_to_reach(sd[-1] / 2))


def test_candidate_runs_centre_on_the_prior_optimum(prior):
    frame = candidate_runs(prior, 1e20, compute_range=100, n_budgets=3, n_sizes=5, span=4)
    p = prior.params
    s = p["alpha"] + p["beta"]
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / s)
    for compute, part in frame.groupby("C"):
        centre = math.exp(np.log(part["N"]).mean())
        assert centre == pytest.approx(G * (compute / 6) ** (p["beta"] / s), rel=1e-9)
    np.testing.assert_allclose(sorted(frame["C"].unique()), [1e18, 1e19, 1e20])
    np.testing.assert_allclose(frame["C"], 6 * frame["N"] * frame["D"])


def test_fitted_prior_starts_from_its_own_spread(fitted):
    plan = active_design(fitted, TARGET, k=20, max_run_compute=1e20, max_draws=50)
    # extending a fitted sweep: 'now' is the bootstrap's spread, and 20 runs shrink it
    assert not plan.fresh and plan.shrink < 1
    low, high = plan.prior_interval
    assert low < plan.centre_value < high
    assert "fresh sweep" not in plan.summary()


def test_loss_and_exponent_targets(prior):
    for target in (Target.make("loss", N=7e10, D=1.4e12), Target.make("exponent")):
        plan = active_design(prior, target, sweep_budget=1e20, max_draws=30)
        # a fresh sweep of 1e20 FLOP knows the loss of Chinchilla less well than the published
        # fit of Hoffmann's larger sweep: its width is not compared with the prior's
        sd = plan.runs["sd_after"].to_numpy()
        assert np.isfinite(plan.sd_after) and np.all(np.diff(sd) <= 1e-12)
        assert plan.compute_used <= 1e20 * (1 + 1e-12)


def test_summary_and_dict(plan):
    text = plan.summary()
    assert "95% width after" in text and "greedy" in text
    doc = plan.to_dict()
    assert doc["n_runs"] == plan.n_runs and doc["width_after"] == pytest.approx(
        2 * 1.959964 * plan.sd_after, rel=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give `sweep_budget`"),
    ({"sweep_budget": -1.0}, "sweep_budget"),
    ({"k": 0}, "`k`"),
    ({"sweep_budget": 1e20, "max_repeats": 0}, "max_repeats"),
    ({"sweep_budget": 1e20, "candidates": {"N": [1e9]}}, "columns N and D"),
    ({"sweep_budget": 1e20, "candidates": {"N": [1e9], "D": [-1.0]}}, "column D"),
    ({"sweep_budget": 1e10, "candidates": {"N": [1e9], "D": [1e10]}}, "no candidate run fits"),
    ({"k": 3}, "max_run_compute"),
    ({"sweep_budget": 1e20, "progress": "yes"}, "progress"),
])
def test_bad_arguments(prior, kwargs, message):
    with pytest.raises(InputError, match=message):
        active_design(prior, TARGET, max_draws=10, **kwargs)


def test_bad_prior_and_target(prior):
    with pytest.raises(InputError, match="`prior`"):
        active_design({"E": 1.8}, TARGET, k=1)
    with pytest.raises(InputError, match="`target`"):
        active_design(prior, "N_opt", k=1)


def test_a_run_cap_above_the_sweep_budget_is_refused(prior):
    # the audit's case: --max-run-compute 1e22 with --sweep-budget 1e21 planned from
    # candidates that no budget could afford, and a width 8x the standard grid's
    with pytest.raises(InputError, match=r"`max_run_compute` \(--max-run-compute\) 1e\+22 FLOP "
                                         r"is above `sweep_budget` 1e\+21"):
        active_design(prior, TARGET, sweep_budget=1e21, max_run_compute=1e22, max_draws=10)
    # at the budget itself it plans
    assert active_design(prior, TARGET, sweep_budget=1e21, max_run_compute=1e21,
                         max_draws=10).compute_used <= 1e21 * (1 + 1e-12)
