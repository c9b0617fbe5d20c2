"""Multipliers that must not be read bare (analysis/_compare_caveats.py): on Porian et
al.'s settings, whose laws misfit their runs, compare printed 2.23e+04 [3.04, inf] and
`inf [inf, inf]` where the best runs at the budget are 0.2% apart. The multipliers are
checked against a direct computation (the compute at which the reference's law reaches
the group's loss, by scipy's scalar minimiser and root finder), and each row says why."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize as sopt

import scalinglaws as sl
from scalinglaws.analysis.compare import compare

TUNED = "rw/tuned/short/const/standard/val"
SHORT = "rw/base/short/kaplan/standard/val"
LONG = "rw/base/long/kaplan/standard/val"
BUDGET = 2.56e19


def _frontier_loss(params, compute, k=6.0):
    """min over N of the law at C = k N D, by scipy (not the package's closed form)."""
    def law(log_n):
        n = math.exp(log_n)
        return (params["E"] + params["A"] * n ** -params["alpha"]
                + params["B"] * (compute / (k * n)) ** -params["beta"])

    return sopt.minimize_scalar(law, bounds=(5, 40), method="bounded",
                                options={"xatol": 1e-12}).fun


@pytest.fixture(scope="module")
def porian(shared_dir):
    frame = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    frame = frame[frame["setting"].isin([TUNED, SHORT, LONG])]
    frame = frame[["setting", "N", "D", "C", "loss"]].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compare(frame, TUNED, groups="setting", n_resamples=20, rng=0)
    return frame, result, caught


def _row(result, group):
    return next(r for r in result.multipliers if r["group"] == group)


def test_one_warning_names_the_groups_whose_laws_misfit(porian):
    _, result, caught = porian
    said = [str(w.message) for w in caught if issubclass(w.category, sl.LackOfFitWarning)]
    assert len(said) == 1  # the comparison's own, not the grouped fits' as well
    assert "misfits the runs of 3 of 3 groups of column 'setting'" in said[0]
    assert all(repr(g) in said[0] for g in (TUNED, SHORT, LONG))
    assert "effective-compute multipliers and exponent differences" in said[0]
    assert any("the laws of 3 of 3 groups misfit their runs" in n for n in result.notes)


def test_a_huge_multiplier_is_the_laws_answer_and_says_why(porian):
    frame, result, _ = porian
    row = _row(result, SHORT)
    params = {g: result.fit[g].params for g in (TUNED, SHORT)}
    target = _frontier_loss(params[SHORT], BUDGET)
    needed = math.exp(sopt.brentq(lambda c: _frontier_loss(params[TUNED], math.exp(c)) - target,
                                  math.log(BUDGET), math.log(1e30), xtol=1e-13))
    assert row["multiplier"] == pytest.approx(needed / BUDGET, rel=1e-5)
    assert row["multiplier"] == pytest.approx(2.23e4, rel=0.01)  # the audit's number
    lowest = frame[np.isclose(frame["C"], BUDGET)].groupby("setting")["loss"].min()
    assert abs(lowest[SHORT] / lowest[TUNED] - 1) < 0.003  # 0.2% apart
    caveat = row["caveat"]
    gap = target - params[TUNED]["E"]
    assert caveat.startswith(f"2.23e+04x: the group's law reaches {target:.4g} at this budget, "
                             f"{gap:.2g} ({100 * gap / params[TUNED]['E']:.2g}%) above the "
                             f"reference law's floor E = {params[TUNED]['E']:.4g}")
    assert "interval unbounded" in caveat and math.isinf(row["multiplier_high"])
    assert "the group's law and the reference's misfit their runs" in caveat
    assert (f"observed at this budget: lowest loss {lowest[SHORT]:.4g} (the group), "
            f"{lowest[TUNED]:.4g} (the reference), "
            f"{100 * abs(lowest[SHORT] / lowest[TUNED] - 1):.2g}% apart") in caveat


def test_an_infinite_multiplier_says_the_floors_differ(porian):
    frame, result, _ = porian
    row = _row(result, LONG)
    params = {g: result.fit[g].params for g in (TUNED, LONG)}
    target = _frontier_loss(params[LONG], BUDGET)
    assert target < params[TUNED]["E"]  # below the reference's floor: no compute reaches it
    assert math.isinf(row["multiplier"])
    assert row["caveat"].startswith(
        f"inf: the reference's law never reaches {target:.4g}, the loss of the group's law at "
        f"this budget: its floor E = {params[TUNED]['E']:.4g} lies above (the group's E = "
        f"{params[LONG]['E']:.4g}), and the two curves do not meet at any compute")
    text = result.summary()
    assert "    why: inf: the reference's law never reaches" in text
    assert text.count("    why: ") == 2


def test_multipliers_of_laws_that_fit_are_printed_as_before():
    frame = pd.concat([sl.generate_sweep(rng=1).to_frame().assign(recipe="baseline"),
                       sl.generate_sweep(rng=2).to_frame().assign(recipe="new")])
    with warnings.catch_warnings():
        warnings.simplefilter("error", sl.LackOfFitWarning)
        warnings.filterwarnings("ignore", category=sl.ScalingLawsWarning,
                                message=".*(refits|largest compute)")
        result = compare(frame, "baseline", groups="recipe", budgets=[1e21], losses=[2.2],
                         n_resamples=20, rng=0)
    assert [r["caveat"] for r in result.multipliers] == ["", ""]
    assert "why:" not in result.summary() and "misfit" not in result.summary()
    assert "caveat" in result.table_multipliers.columns
