"""Tests of scalinglaws.fitting.omitted_input: a law of N alone (of D alone) fitted to runs
whose D (N) varies and drives the loss warns that its assumption does not hold."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.fitting.omitted_input import OMITTED_CORRELATION, OMITTED_SPAN
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

SWEEP = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"
TRUTH = DEFAULT_TRUTH["chinchilla"]


def test_l_of_n_on_an_isoflop_sweep_warns():
    """Review s35: `fit runs.csv --form kaplan_n` on the bundled IsoFLOP sweep (D from 4.5e8
    to 1e12) fitted a line through runs of every D without a word."""
    runs = sl.load_runs(SWEEP)
    assert runs.D.max() / runs.D.min() > OMITTED_SPAN  # the premise: D varies 2,240x
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        result = sl.fit(runs, "kaplan_n")
    said = [str(w.message) for w in caught if "is a law of N alone" in str(w.message)]
    assert len(said) == 1 and caught[0].filename == __file__
    assert said[0].startswith(f"{runs.source}: form 'kaplan_n' is a law of N alone, which "
                              "assumes training tokens D are no bottleneck")
    assert "D spans 2.24e+03x here (4.47e+08 to 1e+12)" in said[0]
    assert "Fit chinchilla or kaplan_nd (a law of N and D)" in said[0]
    # the correlation it reports, computed here from the residuals
    r = np.corrcoef(np.log(runs.D), result.residuals)[0, 1]
    assert abs(r) >= OMITTED_CORRELATION and f"(correlation {r:.2f})" in said[0]
    with pytest.warns(sl.ScalingLawsWarning, match="is a law of D alone, which assumes model "
                                                   "size N is no bottleneck"), \
            pytest.warns(sl.LackOfFitWarning, match="misfits the runs"):  # one cause, two views
        sl.fit(runs, "kaplan_d_offset")


def test_l_of_n_on_runs_of_one_d_or_converged_runs_is_quiet():
    n = np.geomspace(2e7, 5e10, 12)
    rng = np.random.default_rng(0)
    noise = np.exp(rng.normal(0, 0.01, n.size))
    form = get_form("chinchilla")
    # every model on one D: the omitted quantity does not vary
    one_d = sl.Runs.from_arrays(N=n, D=np.full(n.size, 1e12),
                                loss=form.predict(TRUTH, N=n, D=np.full(n.size, 1e12)) * noise)
    # D varies 100x, but so much data that it no longer matters (E + A/N^a dominates):
    # the residuals do not follow it
    plenty = 1e16 * np.geomspace(1, 100, n.size)[rng.permutation(n.size)]
    converged = sl.Runs.from_arrays(N=n, D=plenty,
                                    loss=form.predict(TRUTH, N=n, D=plenty) * noise)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.fit(one_d, "kaplan_n_offset")
        sl.fit(converged, "kaplan_n_offset")


def test_a_grouped_fit_names_the_groups_whose_residuals_follow_the_omitted_input():
    """A grouped L(N) fit says it as a single fit does, naming the group: here one recipe
    is an IsoFLOP sweep (D spans 2,240x) and the other trains every model on one D."""
    sweep = sl.load_runs(SWEEP).to_frame()[["N", "D", "loss"]]
    n = np.geomspace(2e7, 5e10, 12)
    one_d = pd.DataFrame({"N": n, "D": 1e12, "loss": get_form("chinchilla").predict(
        TRUTH, N=n, D=np.full(n.size, 1e12)) * np.exp(
        np.random.default_rng(0).normal(0, 0.01, n.size))})
    table = pd.concat([sweep.assign(recipe="isoflop"), one_d.assign(recipe="one_d")],
                      ignore_index=True)
    with pytest.warns(sl.ScalingLawsWarning) as caught:
        joint = sl.fit(table, "kaplan_n_offset", groups="recipe")
    said = [str(w.message) for w in caught if "is a law of N alone" in str(w.message)]
    r = np.corrcoef(np.log(sweep["D"]), joint["isoflop"].residuals)[0, 1]
    assert said == [f"<DataFrame>: form 'kaplan_n_offset' is a law of N alone, which assumes "
                    f"training tokens D are no bottleneck (every model trained until more data "
                    f"would not help, or all on one D); but in 1 of 2 groups of column 'recipe' "
                    f"D varies and the residuals follow log D: 'isoflop' (D spans 2.24e+03x, "
                    f"correlation {r:.2f}): the fit mixes the effect of D into its N exponent. "
                    f"Fit chinchilla or kaplan_nd (a law of N and D), or keep the runs of one D "
                    f"(or each size's lowest loss)"]
    assert all(w.filename == __file__ for w in caught)
