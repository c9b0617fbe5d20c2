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


# --------------------------------------------------------------------------- predict
def test_predict_is_the_loss_law_over_the_draws(boot):
    estimate, low, high = boot.predict(N=7e10, D=1.4e12)
    assert estimate == pytest.approx(_loss(HOFFMANN_2022_ROUNDED, 7e10, 1.4e12), rel=1e-12)
    assert (low, high) == pytest.approx(_quantiles(_loss(_columns(boot), 7e10, 1.4e12)),
                                        rel=1e-12)
    assert all(type(v) is float for v in (estimate, low, high))
    # text quantities and one-element arrays are one point too
    assert boot.predict(N="70B", D=np.array([1.4e12])) == (estimate, low, high)


@pytest.mark.parametrize("inputs, match", [
    (dict(N=[7e9, 7e10], D=1.4e12), "`N` must be a single number here.*scalinglaws.predict"),
    (dict(N=7e10, D=np.full((2, 2), 1.4e12)), "`D` must be a single number here"),
    (dict(N=7e10), "needs inputs N, D; missing D"),
    (dict(n=7e10, D=1.4e12), "unknown input\\(s\\) n"),
    (dict(N=-7e10, D=1.4e12), "`N` must be positive"),
    (dict(N=7e10, D="lots"), "`D` must be a number"),
    (dict(N=np.nan, D=1.4e12), "`N` must be finite"),
])
def test_predict_validates_its_inputs_up_front(boot, inputs, match):
    """A reviewer's D4: an array for N gave a raw TypeError, a missing input a KeyError."""
    with pytest.raises(InputError, match=match):
        boot.predict(**inputs)


# --------------------------------------------------------------------------- tokens_per_parameter
def test_tokens_per_parameter_is_eq_4_over_the_draws(boot):
    estimate, low, high = boot.tokens_per_parameter(1e24)
    assert estimate == pytest.approx(_ratio(HOFFMANN_2022_ROUNDED, 1e24), rel=1e-12)
    assert (low, high) == pytest.approx(_quantiles(_ratio(_columns(boot), 1e24)), rel=1e-12)
    assert boot.tokens_per_parameter("1e24") == (estimate, low, high)
    eight = boot.tokens_per_parameter(1e24, flops_per_token=8)
    assert eight[0] == pytest.approx(_ratio(HOFFMANN_2022_ROUNDED, 1e24, 8.0), rel=1e-12)


@pytest.mark.parametrize("args, match", [
    (([1e24, 1e25],), "`compute` must be a single number here.*compute_optimal"),
    (("a lot",), "`compute` must be a number"),
    ((0.0,), "`compute` must be positive"),
    ((np.inf,), "`compute` must be finite"),
    ((1e24, -6), "`flops_per_token` must be a finite positive number"),
    ((1e24, 0), "`flops_per_token` must be a finite positive number"),
    ((1e24, "6"), "`flops_per_token` must be a finite positive number"),
])
def test_tokens_per_parameter_validates_up_front(boot, args, match):
    """A reviewer's D4: ``"1e24"`` and arrays gave raw numpy errors, and
    ``flops_per_token=-6`` a silent (nan, nan, nan)."""
    with pytest.raises(InputError, match=match):
        boot.tokens_per_parameter(*args)
