"""Luo et al. (2025)'s own MPL recipe (``fit_curves(..., method="luo2025")``) against the
parameters and scores they published."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.analysis.curves import curve_scores
from scalinglaws.fitting.curves import curve_objective, fit_curves
from scalinglaws.fitting.curves_luo import LuoObjective, luo2025_adamw
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL, synthetic_curves
from luo_curves import split as _split

SIZES = ("25M", "100M", "400M")
# Luo et al. (2025), repository README: test-set PredE of their fit (printed to 5 decimals)
AUTHORS_PREDE = {"25M": 0.00110, "100M": 0.00142, "400M": 0.00168}


@pytest.fixture(scope="module")
def luo(luo_curves):
    return luo_curves


@pytest.fixture(scope="module")
def recipe_fits(luo):
    fits = {}
    for size in SIZES:
        with pytest.warns(ConvergenceWarning, match=r"the parameters one step after the best "
                          r"objective \(.*\), not those of the best; an early-stopped point"):
            fits[size] = fit_curves(_split(luo, size)[0], "mpl", method="luo2025")
    return fits


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_recipe_gives_the_published_parameters_to_every_printed_digit(recipe_fits, size):
    # Their README/paper print 4 significant digits (LUO_2025_MPL): half a unit of the
    # 4th digit is the tolerance the printed values justify
    fit = recipe_fits[size]
    for name, printed in LUO_2025_MPL[size].items():
        digits = 4 - int(np.floor(np.log10(abs(printed)))) - 1
        assert abs(fit.params[name] - printed) <= 0.5 * 10.0 ** -digits, (name, fit.params[name])
    assert fit.status == 2 and not fit.success and fit.options["method"] == "luo2025"
    assert 80 <= fit.options["steps_run"] <= 120  # their log: stopped after 91-108 steps


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_recipe_predicts_the_held_out_curves_as_their_published_fit(luo, recipe_fits, size):
    # Issue 12's target: PredE within 10% of theirs (their README's test-set figure)
    train, test = _split(luo, size)
    prede = curve_scores(recipe_fits[size], test, quadrature={"exact": True})["PredE"].mean()
    assert prede <= 1.1 * AUTHORS_PREDE[size]
    assert prede == pytest.approx(AUTHORS_PREDE[size], abs=0.5e-5)
    # the objective it reports is that of its parameters, at or below their rounded ones'
    # (their printed parameters are these rounded to 4 digits)
    assert recipe_fits[size].objective == pytest.approx(
        curve_objective("mpl", recipe_fits[size].params, train, quadrature={"exact": True}),
        rel=1e-12)
    assert recipe_fits[size].objective <= curve_objective(
        "mpl", LUO_2025_MPL[size], train, quadrature={"exact": True}) * (1 + 1e-3)


def test_adamw_is_torchs_update_on_a_quadratic():
    # torch.optim.AdamW's documented update, step 1 from x0 = 1 on f = x^2 / 2 (gradient
    # x): decay first (x * (1 - lr * wd)), then the bias-corrected step m_hat / (sqrt(v_hat)
    # + eps) = g / (|g| + eps), i.e. lr * sign(g) on the first step
    class Quadratic:
        _is_log = np.array([True, False])

        def __call__(self, p, gradient=False):
            value = 0.5 * float(p @ p)
            return (value, p.copy()) if gradient else value

    _, _, _, path = luo2025_adamw(Quadratic(), [1.0, 1.0], 2, early_stopping=False,
                                  record_every=1)
    after_one = path[1][1]
    expected = np.array([1.0 * (1 - 5e-2 * 0.01) - 5e-2 * 1 / (1 + 1e-8),
                         1.0 * (1 - 5e-3 * 0.01) - 5e-3 * 1 / (1 + 1e-8)])
    np.testing.assert_allclose(after_one, expected, rtol=1e-12)


def test_objective_gradient_matches_finite_differences():
    curves, truth = synthetic_curves("mpl", rng=0, noise=1e-3)
    objective = LuoObjective(curves)
    params = np.array([float(truth[n]) for n in objective.law.param_names]) * 1.01
    _, grad = objective(params, gradient=True)
    for j in range(len(params)):
        h = 1e-6 * abs(params[j])
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        assert grad[j] == pytest.approx((objective(up) - objective(down)) / (2 * h), rel=1e-4,
                                        abs=1e-8)


def test_recipe_refuses_what_it_does_not_have():
    curves, _ = synthetic_curves("momentum", rng=0, noise=0.0)
    with pytest.raises(InputError, match="Multi-Power Law"):
        fit_curves(curves, "momentum", method="luo2025")
    curves, _ = synthetic_curves("mpl", rng=0, noise=0.0)
    with pytest.raises(InputError, match="fixed, bounds do not apply"):
        fit_curves(curves, "mpl", method="luo2025", fixed={"C": 1.0}, bounds={"C": (0, 5)})
    with pytest.raises(InputError, match="`method` must be one of"):
        fit_curves(curves, "mpl", method="adam")


@pytest.mark.slow
def test_recipe_result_round_trips_through_json(luo, recipe_fits):
    from scalinglaws.outputs.io.curves import curve_fit_from_json, curve_fit_to_json

    fit = recipe_fits["25M"]
    text = curve_fit_to_json(fit)
    back = curve_fit_from_json(text)
    assert back.params == fit.params and back.status == 2
    assert back.options["method"] == "luo2025"
    _, test = _split(luo, "25M")
    run = test.runs[0]
    np.testing.assert_array_equal(back.predict(test.lr_array(run), test.steps(run)),
                                  fit.predict(test.lr_array(run), test.steps(run)))
