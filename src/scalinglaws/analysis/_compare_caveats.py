"""Why an effective-compute multiplier must not be read bare: infinite (the reference's
law never reaches the group's loss: their floors differ), huge or tiny (the loss sits
just above the reference's floor, where its curve is flat), unbounded above (some
resamples never reach it), or resting on laws that misfit their runs
(:mod:`scalinglaws.fitting.lack_of_fit`). Each multiplier row at a budget gets a
``caveat`` (empty when none) saying which, with the lowest losses the two groups' runs
reached at that budget when they have runs there.

Porian et al.'s settings show why: compared with the tuned setting at 2.56e19 FLOP,
``rw/base/short/kaplan/standard/val`` got a multiplier of 2.23e+04 [3.04, inf] and nine
settings ``inf [inf, inf]``, although the best runs of the first two at that budget are
0.2% apart: the tuned setting's law (which misfits its runs) has its floor E = 3.131
above the losses the others' laws reach.
"""

from __future__ import annotations

import numpy as np

from .._text import named_list
from ._common import irreducible
from .solvers import optimal_for_compute

__all__ = ["ABSURD", "multiplier_caveats", "misfit_groups", "misfit_note"]

#: a multiplier beyond this factor either way (or infinite) is explained, not printed bare
ABSURD = 100.0
_SAME_BUDGET = 1e-3  # runs within this relative distance of a budget are at that budget


def misfit_groups(fit) -> dict:
    """``{group: diagnostics["lack_of_fit"]}`` of the groups of grouped fit ``fit`` whose
    law misfits its runs."""
    return {key: res.diagnostics["lack_of_fit"] for key, res in fit.results.items()
            if (res.diagnostics or {}).get("lack_of_fit")}


def misfit_note(misfit: dict, n_groups: int, shown: int = 6) -> str:
    """A comparison's note naming the groups whose law misfits (``misfit``:
    :func:`misfit_groups`)."""
    names = named_list([f"{k!r} (along {t['axis']})" for k, t in misfit.items()], shown)
    return (f"the laws of {len(misfit)} of {n_groups} groups misfit their runs (their residuals "
            f"trend; lack-of-fit test): {names}; the multipliers and exponent "
            "differences that involve them assume forms that do not fit")


def _lowest_at(runs, column, group, budget) -> float:
    """The lowest loss among ``group``'s runs at ``budget`` (NaN: none there)."""
    if runs is None or not runs.has("C"):
        return float("nan")
    frame = runs.frame
    at = (frame[column] == group).to_numpy() & (np.abs(runs.C / budget - 1.0) < _SAME_BUDGET)
    return float(np.min(runs.loss[at])) if at.any() else float("nan")


def _budget_words(row: dict, fit, k: float, method: str) -> list:
    """Why a multiplier at a budget is infinite or beyond :data:`ABSURD` either way."""
    group, reference, budget, value = row["group"], row["reference"], row["C"], row["multiplier"]
    form = fit.form
    vectors = {name: np.array([[fit[name].params[n] for n in form.param_names]], dtype=float)
               for name in (group, reference)}
    floors = {name: float(irreducible(form, v)[0, 0]) for name, v in vectors.items()}
    with np.errstate(all="ignore"):
        reached = float(optimal_for_compute(form, vectors[group], np.array([[budget]]), k,
                                            method)[2][0, 0])
    words = []
    if np.isinf(value):
        words.append(f"inf: the reference's law never reaches {reached:.4g}, the loss of the "
                     f"group's law at this budget: its floor E = {floors[reference]:.4g} lies "
                     f"above (the group's E = {floors[group]:.4g}), and the two curves do not "
                     "meet at any compute")
    elif np.isfinite(value) and not 1.0 / ABSURD <= value <= ABSURD:
        gap = reached - floors[reference]
        words.append(f"{value:.3g}x: the group's law reaches {reached:.4g} at this budget, "
                     f"{gap:.2g} ({100 * gap / floors[reference]:.2g}%) above the reference "
                     f"law's floor E = {floors[reference]:.4g}, which that law reaches only at "
                     f"{value * budget:.3g} FLOP: near its floor its curve is flat, and a small "
                     "change of either law moves the multiplier by orders of magnitude"
                     if gap > 0 else
                     f"{value:.3g}x: the two laws reach {reached:.4g} at budgets {value:.3g}x "
                     "apart")
    return words


def _row_caveat(row: dict, fit, misfit: dict, runs, k: float, method: str,
                n_draws: int) -> str:
    group, reference, budget = row["group"], row["reference"], row["C"]
    value, high = row["multiplier"], row["multiplier_high"]
    words = []
    if row["at"] == "C":
        words += _budget_words(row, fit, k, method)
    if np.isfinite(value) and np.isinf(high):
        words.append(f"interval unbounded: in {row.get('n_infinite_draws', 0)} of {n_draws} "
                     "resamples the reference's law never reaches the group's loss (its floor "
                     "E lies above it)")
    wrong = [who for name, who in ((group, "the group's law"), (reference, "the reference law"))
             if name in misfit]
    if len(wrong) == 2:
        words.append("the group's law and the reference's misfit their runs (their residuals "
                     "trend: lack-of-fit test)")
    elif wrong:
        words.append(f"{wrong[0]} misfits its runs (its residuals trend: lack-of-fit test)")
    if not words:
        return ""
    own, ref = ((_lowest_at(runs, fit.group_column, name, budget) if row["at"] == "C"
                 else float("nan")) for name in (group, reference))
    if np.isfinite(own) and np.isfinite(ref):
        words.append(f"observed at this budget: lowest loss {own:.4g} (the group), {ref:.4g} "
                     f"(the reference), {100 * abs(own / ref - 1):.2g}% apart")
    return "; ".join(words)


def multiplier_caveats(rows: list, fit, runs, k: float, method: str, n_draws: int) -> list:
    """Each multiplier row of a parametric comparison with its ``caveat`` (module notes;
    a row at a loss keeps its ``unreachable`` too)."""
    misfit = misfit_groups(fit)
    return [{**row, "caveat": _row_caveat(row, fit, misfit, runs, k, method, n_draws)}
            for row in rows]
