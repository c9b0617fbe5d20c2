"""Tests of scalinglaws.uncertainty.grouped: resamples that cannot identify a group."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import BootstrapResamplingWarning, InputError
from scalinglaws.uncertainty.bootstrap import design_points, distinct_points, resample_counts
from scalinglaws.uncertainty.grouped import bootstrap_groups


def _frame(n_small):
    big = sl.generate_sweep(rng=0).to_frame().assign(recipe="big")
    small = sl.generate_sweep(rng=1).to_frame()
    small = small.iloc[np.linspace(0, len(small) - 1, n_small).round().astype(int)]
    return pd.concat([big, small.assign(recipe="small")])[["N", "D", "loss", "recipe"]]


def _joint(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return sl.fit(frame, groups="recipe", shared=["alpha", "beta"])


def test_resamples_that_cannot_identify_a_group_are_counted_and_left_out():
    # the small group has 5 runs for its 3 own parameters (E, A, B; alpha, beta shared):
    # a resample drawing 2 distinct runs of it cannot identify them (the law passes
    # through them whatever E, A, B do), so its draw would be arbitrary
    frame = _frame(5)
    joint = _joint(frame)
    # the joint refits of resamples with 3-4 distinct small runs, which stalled about half
    # the time, are finished (test_grouped_bootstrap_stalls.py): no ConvergenceWarning
    with pytest.warns(BootstrapResamplingWarning, match=r"of recipe='small' drew fewer"):
        boot = bootstrap_groups(joint, frame, 200, rng=0)
    # the count is the one the resampling stream implies, computed here on its own
    counts = resample_counts(len(frame), 200, np.random.default_rng(0),
                             frame["recipe"].to_numpy())
    small = np.flatnonzero(frame["recipe"].to_numpy() == "small")
    inputs = {"N": frame["N"].to_numpy()[small], "D": frame["D"].to_numpy()[small]}
    expected = int((distinct_points(counts[:, small], design_points(inputs)) < 3).sum())
    assert expected > 0 and dict(boot.n_degenerate) == {"big": 0, "small": expected}
    i = boot.index("small")
    assert int(np.isnan(boot.draws[:, i, 0]).sum()) == expected + boot.n_failed["small"]
    one = boot.group("small")
    assert (one.n_degenerate, one.n_failed) == (expected, boot.n_failed["small"])
    doc = json.loads(json.dumps(boot.to_dict()))
    assert {"group": "small", "n_degenerate": expected} in doc["n_degenerate"]


def test_a_group_with_no_residual_df_is_refused():
    # 6 runs at 3 distinct inputs (two seeds each) for the group's 3 own parameters: the
    # fit takes them (replicas), but a resample can only ever draw those 3 points
    frame = _frame(3)
    small = frame[frame["recipe"] == "small"]
    frame = pd.concat([frame, small.assign(loss=small["loss"] * 1.01)])
    joint = _joint(frame)
    with pytest.raises(InputError, match=r"group recipe='small' has 6 runs at 3 distinct "
                                         r"inputs for its 3 own free parameters"):
        bootstrap_groups(joint, frame, 20, rng=0)


def test_a_groups_draws_keep_the_fits_flop_accounting_and_restriction():
    # runs counted at C = 8 N D, and beta tied to alpha: one group's BootstrapResult must
    # allocate with k = 8 (as compute_optimal of that group's fit does) and say that its
    # intervals exclude the tie's bias; before, it fell back to k = 6 and no restriction
    frame = _frame(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        runs = sl.load_runs(frame, flops_per_token=8)
        joint = sl.fit(runs, groups="recipe", tied={"beta": "alpha"})
        boot = bootstrap_groups(joint, runs, 40, rng=0)
    one = boot.group("big")
    assert (one.flops_per_token, one.restriction) == (8.0, "tie")
    assert (boot.flops_per_token, boot.restriction) == (8.0, "tie")
    doc = json.loads(json.dumps(boot.to_dict()))
    assert (doc["flops_per_token"], doc["restriction"]) == (8.0, "tie")
    # the estimate is the closed form at the group's own point, with k = 8 written out:
    # N_opt = G (C/k)^a, D_opt = (C/k) / N_opt (Hoffmann et al., Eq. 4)
    p = joint["big"].params
    a = p["beta"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    n_opt = G * (1e22 / 8) ** a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        ratio = one.tokens_per_parameter(1e22)
    assert ratio.estimate == pytest.approx((1e22 / 8) / n_opt ** 2, rel=1e-9)
    assert "tie bias excluded" in ratio.method
