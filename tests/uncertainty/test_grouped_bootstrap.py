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
