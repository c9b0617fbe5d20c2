"""``compare`` warns where its multipliers leave the runs, and says when a loss is below
the fitted floor (review s27, F7)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.analysis.compare import _fitted_ranges, effective_compute_multiplier
from scalinglaws.laws.synthetic import DEFAULT_TRUTH, generate_sweep

TRUTH = DEFAULT_TRUTH["chinchilla"]


@pytest.fixture(scope="module")
def recipes():
    # B is worth twice the compute (A and B scaled by 2^-gamma: tests/analysis/test_compare.py)
    gamma = TRUTH["alpha"] * TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    better = dict(TRUTH, A=TRUTH["A"] * 2 ** -gamma, B=TRUTH["B"] * 2 ** -gamma)
    frame = pd.concat([generate_sweep(params=TRUTH, rng=1).to_frame().assign(recipe="A"),
                       generate_sweep(params=better, rng=2).to_frame().assign(recipe="B")],
                      ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = sl.fit(frame, groups="recipe")
    runs = sl.load_runs(frame)
    return fit, _fitted_ranges(runs, "recipe"), float(np.max(runs.C))


def test_budgets_far_beyond_the_runs_warn(recipes):
    fit, ranges, largest = recipes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = effective_compute_multiplier(fit, "B", "A", compute=[largest],
                                           fitted_ranges=ranges)
    assert out["multiplier"][0] == pytest.approx(2.0, rel=0.2)  # the truth, within its noise
    with pytest.warns(sl.ExtrapolationWarning) as caught:
        effective_compute_multiplier(fit, "B", "A", compute=[largest, 3333 * largest],
                                     fitted_ranges=ranges)
    # B's law is asked at 3,333x its runs' compute; A's at the compute B's loss needs there
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and all(w.filename == __file__ for w in caught)
    assert messages[0].startswith("recipe 'B' (effective-compute multiplier): predicting at "
                                  "up to 3.33e+03x the largest compute")
    assert messages[1].startswith("recipe 'A' (effective-compute multiplier): predicting at")


def test_a_loss_below_the_fitted_floor_is_unreachable_not_failed(recipes):
    fit, ranges, _ = recipes
    floor = min(fit.group_of(g).params["E"] for g in ("A", "B"))
    target = floor - 0.2
    with pytest.warns(sl.ExtrapolationWarning,
                      match=rf"loss {target:.4g} is at or below the fitted irreducible loss "
                            r"E = .* of 'B' and E = .* of 'A': no compute reaches it"):
        out = effective_compute_multiplier(fit, "B", "A", loss=[target], fitted_ranges=ranges)
    assert np.isnan(out["multiplier"][0])
    assert "no compute reaches it" in out["unreachable"][0]


def test_the_summary_says_unreachable():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        frame = pd.concat([generate_sweep(params=TRUTH, rng=1).to_frame().assign(recipe="A"),
                           generate_sweep(params=TRUTH, rng=2).to_frame().assign(recipe="B")],
                          ignore_index=True)
        result = sl.compare(frame, "A", groups="recipe", losses=[1.5], n_resamples=20, rng=0)
    floor = min(result.fit.group_of(g).params["E"] for g in ("A", "B"))
    text = result.summary()
    assert "unreachable: loss 1.5 is at or below the fitted irreducible loss" in text
    assert "draws failed" not in text
    assert floor > 1.5  # the premise: 1.5 lies below both fitted floors
