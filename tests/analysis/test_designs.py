"""Grid designs of a sweep (scalinglaws.analysis.designs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.analysis.designs import (
    check_brackets,
    design_sd,
    isoflop_design,
    nd_grid_design,
    planned_design,
    standard_design,
)
from scalinglaws.analysis.prior import Target, published_prior, target_variance
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS

CHINCHILLA = get_form("chinchilla")
TARGET = Target.make("N_opt", C=1e24)


@pytest.fixture(scope="module", params=["epoch", "hoffmann"])
def prior(request):
    return published_prior(request.param, n_draws=400, rng=0)


def _frontier(params, compute):
    """N_opt by Hoffmann's Eq 4, written out here."""
    s = params["alpha"] + params["beta"]
    G = (params["alpha"] * params["A"] / (params["beta"] * params["B"])) ** (1 / s)
    return G * (compute / 6) ** (params["beta"] / s)


def test_standard_design_is_hoffmanns_layout_scaled():
    design = standard_design(1e21)
    runs = design.runs
    assert design.n_runs == 108 and design.total_compute == pytest.approx(1e21, rel=1e-12)
    budgets = runs.groupby("budget")["C"].first().to_numpy()
    np.testing.assert_allclose(budgets / budgets[0], np.array(DEFAULT_BUDGETS) / 6e18, rtol=1e-12)
    np.testing.assert_allclose(runs["C"], 6 * runs["N"] * runs["D"], rtol=1e-12)
    # twelve sizes from N0/10 to 10 N0 around 20 tokens per parameter
    for _, part in runs.groupby("budget"):
        n0 = math.sqrt(part["C"].iloc[0] / (6 * 20))
        assert part["N"].min() == pytest.approx(n0 / 10) and part["N"].max() == pytest.approx(10 * n0)


def test_isoflop_design_centres_on_the_prior(prior):
    design = isoflop_design([1e19, 1e21], n_sizes=7, span=3.0, prior=prior)
    for _, part in design.runs.groupby("budget"):
        centre = math.exp(np.log(part["N"]).mean())
        assert centre == pytest.approx(_frontier(prior.params, part["C"].iloc[0]), rel=1e-9)
        assert part["N"].max() / part["N"].min() == pytest.approx(9.0)


def test_nd_grid_costs():
    grid = nd_grid_design([1e8, 1e9], D=[1e10, 1e11, 1e12])
    assert grid.n_runs == 6
    assert grid.total_compute == pytest.approx(6 * (1e8 + 1e9) * (1e10 + 1e11 + 1e12))
    assert (grid.runs["budget"] == -1).all()
    with pytest.raises(InputError, match="one of them"):
        nd_grid_design([1e8], D=[1e10], tokens_per_parameter=[20])


def test_planned_design_brackets_the_prior_minimum_at_every_budget(prior):
    design = planned_design(prior, TARGET, 1e21)
    assert design.total_compute == pytest.approx(1e21, rel=1e-9)
    brackets = design.brackets
    # isoflop_fit's own guard rails, on the prior's noise-free losses: every budget used
    assert (brackets["status"] == "ok").all()
    assert (brackets["bracketed_fraction"] >= 0.95).all()
    # independently: the centre's minimum (Hoffmann's Eq 4 written out) lies strictly inside
    # every budget's sizes, and the lowest sampled loss is at neither end
    runs = design.runs
    for _, part in runs.groupby("budget"):
        part = part.sort_values("N")
        optimum = _frontier(prior.params, part["C"].iloc[0])
        assert part["N"].iloc[0] < optimum < part["N"].iloc[-1]
        loss = CHINCHILLA.predict(dict(prior.params), N=part["N"].to_numpy(),
                                  D=part["D"].to_numpy())
        assert 0 < int(np.argmin(loss)) < len(part) - 1


def test_planned_design_beats_the_standard_grid_under_its_criterion(prior):
    planned = planned_design(prior, TARGET, 1e21)
    assert planned.predicted_sd == pytest.approx(design_sd(planned, prior, TARGET), rel=1e-12)
    assert planned.predicted_sd < design_sd(standard_design(1e21), prior, TARGET)


def test_planned_design_picks_the_better_of_two_layouts():
    prior = published_prior("epoch", n_draws=100)
    layouts = {"n_budgets": (5,), "compute_range": (30.0, 300.0), "n_sizes": (9,), "span": (5.0,)}
    design = planned_design(prior, TARGET, 1e20, layouts=layouts, n_finalists=2)
    sds = {}
    for ratio in (30.0, 300.0):
        relative = np.geomspace(1.0, ratio, 5)
        budgets = relative * 1e20 / (9 * relative.sum())
        candidate = isoflop_design(budgets, n_sizes=9, span=5.0, prior=prior)
        sds[ratio] = design_sd(candidate, prior, TARGET)
    assert design.options["layout"]["compute_range"] == min(sds, key=sds.get)
    assert design.predicted_sd == pytest.approx(min(sds.values()), rel=1e-12)


def test_check_brackets_flags_an_off_centre_grid():
    prior = published_prior("epoch", n_draws=200)
    # 2,000 tokens per parameter, sizes within 1.5x: the minimum lies far above every size
    design = isoflop_design([1e19, 1e20, 1e21], n_sizes=5, span=1.5, tokens_per_parameter=2000)
    brackets = check_brackets(design, prior)
    assert (brackets["bracketed_fraction"] == 0).all()
    assert (brackets["status"] != "ok").all()
    assert (brackets["N_opt"] > brackets["N_max"]).all()


def test_no_layout_brackets():
    prior = published_prior("epoch", n_draws=100)
    layouts = {"n_budgets": (4,), "compute_range": (100.0,), "n_sizes": (5,), "span": (1.1,)}
    with pytest.raises(InputError, match="no IsoFLOP layout brackets"):
        planned_design(prior, TARGET, 1e21, layouts=layouts)


def test_design_sd_averages_the_draws():
    prior = published_prior("epoch", n_draws=30)
    design = standard_design(1e21)
    theta = CHINCHILLA.to_internal(prior.draws)
    by_hand = math.sqrt(np.mean(target_variance(prior, TARGET, design.N, design.D, theta=theta)))
    assert design_sd(design, prior, TARGET, max_draws=None) == pytest.approx(by_hand, rel=1e-12)


def test_design_to_dict_and_frozen():
    design = standard_design(1e20)
    doc = design.to_dict()
    assert doc["n_runs"] == 108 and len(doc["runs"]) == 108
    frame = design.runs
    frame.loc[0, "N"] = -1.0
    assert design.runs.loc[0, "N"] > 0
    assert "9 IsoFLOP budgets" in design.summary()


@pytest.mark.parametrize("call, message", [
    (lambda: standard_design(-1.0), "sweep_budget"),
    (lambda: isoflop_design([1e19], span=1.0), "span"),
    (lambda: isoflop_design([], n_sizes=5), "budgets"),
    (lambda: planned_design(published_prior(n_draws=10), TARGET, 1e21, bracket_level=1.0),
     "bracket_level"),
    (lambda: planned_design(published_prior(n_draws=10), TARGET, 1e21, layouts={"span": (3,)}),
     "layouts"),
])
def test_bad_arguments(call, message):
    with pytest.raises(InputError, match=message):
        call()
