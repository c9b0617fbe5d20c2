"""Tests of uncertainty/bootstrap_result.py: the methods of a BootstrapResult check
their arguments up front and give what a hand calculation over the draws gives.

The results here are built from given draws (no fit), so every expected value is a
formula evaluated by hand on those draws: Hoffmann et al. (2022) Eq. 2 for the loss and
Eq. 4 for the compute-optimal ratio D_opt/N_opt.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.published import HOFFMANN_2022_ROUNDED
from scalinglaws.uncertainty.bootstrap_result import BootstrapResult

NAMES = ("E", "A", "B", "alpha", "beta")


@pytest.fixture(scope="module")
def boot():
    form = get_form("chinchilla")
    assert tuple(form.param_names) == NAMES
    rng = np.random.default_rng(0)
    centre = np.array([HOFFMANN_2022_ROUNDED[n] for n in NAMES])
    draws = centre * np.exp(rng.normal(0.0, [0.02, 0.1, 0.1, 0.02, 0.02], size=(200, 5)))
    return BootstrapResult(form=form, point=dict(HOFFMANN_2022_ROUNDED), draws=draws,
                           objectives=np.zeros(len(draws)), n_resamples=200, n_failed=0,
                           n_best_start_changed=0, confidence_level=0.9)


def _quantiles(values, level=0.9):
    return tuple(np.quantile(values, [(1 - level) / 2, (1 + level) / 2]))


def _loss(p, N, D):  # Hoffmann et al. (2022) Eq. 2
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


def _ratio(p, C, k=6.0):  # Eq. 4: D_opt/N_opt = G^-2 (C/k)^(b - a)
    a = p["beta"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    return G ** -2 * (C / k) ** (1 - 2 * a)


def _columns(boot):
    return {n: boot.draws[:, i] for i, n in enumerate(NAMES)}


# --------------------------------------------------------------------------- interval
def test_interval_takes_a_parameter_name(boot):
    """A reviewer's D3: ``boot.interval("E")`` raised "'str' object is not callable"."""
    for name in NAMES:
        estimate, low, high = boot.interval(name)
        assert estimate == HOFFMANN_2022_ROUNDED[name]
        assert (low, high) == boot.intervals[name]
        assert (low, high) == pytest.approx(_quantiles(boot.draws[:, NAMES.index(name)]),
                                            rel=1e-12)
    assert boot.interval("alpha") == boot.interval(lambda p: p["alpha"])
    assert boot.interval("E", confidence_level=0.5)[1] > boot.interval("E")[1]


@pytest.mark.parametrize("statistic, match", [
    ("G", r"`statistic` must be a parameter of form 'chinchilla' \(E, A, B, alpha, beta\)"),
    (3, "`statistic` must be a parameter name or a callable"),
    (None, "`statistic` must be a parameter name or a callable"),
    (["E"], "`statistic` must be a parameter name or a callable"),
])
def test_interval_refuses_anything_else_naming_the_argument(boot, statistic, match):
    with pytest.raises(InputError, match=match):
        boot.interval(statistic)
