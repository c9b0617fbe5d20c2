"""The finishing step of the grouped bootstrap's joint refits (``uncertainty.grouped._settle``)
reuses the joint objective its stationarity test computed, instead of evaluating it again
for each resample it polishes: the numbers must be the same to the last bit, or a polish
that ties the objective would be kept or dropped differently."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.fitting._stacked import StackedGroups, block_lm
from scalinglaws.fitting.estimator import LawFitter
from scalinglaws.fitting.grouped import GroupedFitter
from scalinglaws.uncertainty import grouped as ug
from scalinglaws.uncertainty.bootstrap import resample_counts


def _unsettled():
    """Joint refits the block step leaves short of stationary: a group of 5 runs beside
    one of 108, alpha and beta shared (the case of test_grouped_bootstrap_stalls), 64
    resamples stopped after 3 block iterations."""
    big = sl.generate_sweep(rng=0).to_frame().assign(recipe="big")
    small = sl.generate_sweep(rng=1).to_frame()
    small = small.iloc[np.linspace(0, len(small) - 1, 5).round().astype(int)]
    frame = pd.concat([big, small.assign(recipe="small")])[["N", "D", "loss", "recipe"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        joint = sl.fit(frame, groups="recipe", shared=["alpha", "beta"])
    runs = sl.load_runs(frame)
    grouped = GroupedFitter(LawFitter(joint.form), shared=joint.shared)
    fitter = grouped.fitter
    keys, rows, inputs, targets, weights, _ = grouped._split(runs, "recipe", None)
    stack = StackedGroups(fitter, inputs, targets, weights)
    counts = resample_counts(len(runs), 64, np.random.default_rng(0), runs.frame["recipe"])
    spread = stack.spread(counts[:, np.concatenate(rows)])
    free = [fitter.form.param_names.index(n) for n in fitter.free]
    theta0 = np.array([fitter.form.to_internal(fitter.form.params_vector(joint[k].params))[free]
                       for k in keys])
    out = block_lm(stack, np.repeat(theta0[None], len(spread), axis=0), fitter.loss,
                   fitter.lower, fitter.upper, grouped.shared_index, weights=spread, max_iter=3)
    return stack, fitter, grouped.shared_index, out["theta"], spread


def test_the_objective_reused_by_settle_is_each_resamples_own_to_the_bit():
    stack, fitter, shared, theta, weights = _unsettled()
    per = np.setdiff1d(np.arange(stack.q), shared)
    with np.errstate(all="ignore"):
        finished, gradient, objective = ug._finish(stack, fitter, shared, per, theta.copy(),
                                                   weights, 200)
        alone = np.array([ug._objective(stack, fitter, finished[i][None], weights[i][None])[0]
                          for i in range(len(finished))])
    # what _settle evaluated again, resample by resample, before it reused the number
    assert np.array_equal(objective, alone)
    # and the polish loop that uses it runs here: some resamples are not clearly stationary
    assert (~(gradient <= ug._CLEARLY_STATIONARY)).sum() >= 1
