"""Step-2 forms (accuracy from task loss) and the direct law: formulas written out here,
Jacobians against finite differences, exact recovery by the engine, registration."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError, LawFitter
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.tasks import (
    STEP2_FORMS,
    SYNTHETIC_STEP1,
    SYNTHETIC_STEP2,
    TASK_INPUT,
    synthetic_task_table,
)
from finite_differences import central_differences

X = {TASK_INPUT: np.array([0.0, 0.3, 0.6, 0.75, 0.9, 1.2, 2.0])}
TRUTH = {
    "task_sigmoid": {"a": -0.742, "x0": 0.616, "k": 4.83, "b": 0.98},
    "task_sigmoid_floor": {"floor": 0.25, "ceiling": 0.97, "x0": 0.8, "k": 7.0},
    "task_logistic_log": {"floor": 0.25, "ceiling": 0.95, "x0": 0.8, "k": 6.0},
}


def _by_hand(name, p, x):
    if name == "task_sigmoid":
        return p["a"] / (1 + np.exp(-p["k"] * (x - p["x0"]))) + p["b"]
    if name == "task_sigmoid_floor":
        return p["floor"] + (p["ceiling"] - p["floor"]) / (1 + np.exp(p["k"] * (x - p["x0"])))
    return p["floor"] + (p["ceiling"] - p["floor"]) / (1 + (x / p["x0"]) ** p["k"])


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_formula_as_written(name):
    form = get_form(name)
    x = X[TASK_INPUT][1:]  # the log-logistic needs x > 0
    np.testing.assert_allclose(form.predict(TRUTH[name], task_loss=x),
                               _by_hand(name, TRUTH[name], x), rtol=1e-13)


@pytest.mark.parametrize("name", sorted(TRUTH))
@pytest.mark.parametrize("space", ["linear", "log"])
def test_jacobian_matches_finite_differences(name, space):
    form = get_form(name)
    inputs = {TASK_INPUT: X[TASK_INPUT][1:]}
    theta = form.to_internal(form.params_vector(TRUTH[name]))[None, :]
    evaluate = form.log_value_and_jacobian if space == "log" else form.value_and_jacobian
    _, jac = evaluate(theta, inputs)
    numeric = central_differences(lambda t: evaluate(t, inputs)[0], theta)
    for i in range(form.n_params):
        np.testing.assert_allclose(jac[0, i], numeric[i], rtol=1e-6, atol=1e-9)


def test_direct_law_formula_and_jacobian():
    form = get_form("direct_nd")
    p = {"A": 40.0, "B": 300.0, "alpha": 0.25, "beta": 0.3}
    N, D = np.array([1e8, 1e9, 7e9]), np.array([2e9, 2e10, 4e12])
    np.testing.assert_allclose(form.predict(p, N=N, D=D),
                               40 / N ** 0.25 + 300 / D ** 0.3, rtol=1e-13)
    theta = form.to_internal(form.params_vector(p))[None, :]
    _, jac = form.log_value_and_jacobian(theta, {"N": N, "D": D})
    for i in range(4):
        up, down = theta.copy(), theta.copy()
        up[0, i] += 1e-6
        down[0, i] -= 1e-6
        numeric = (form.log_value_and_jacobian(up, {"N": N, "D": D})[0]
                   - form.log_value_and_jacobian(down, {"N": N, "D": D})[0]) / 2e-6
        np.testing.assert_allclose(jac[0, i], numeric[0], rtol=1e-6, atol=1e-10)


def test_floor_form_is_the_ladder_sigmoid_reparametrised():
    floor_params = {"floor": 0.258, "ceiling": 1.0, "x0": 0.616, "k": 4.83}
    ladder = {"a": 0.258 - 1.0, "x0": 0.616, "k": 4.83, "b": 1.0}
    x = np.linspace(0, 2, 9)
    np.testing.assert_allclose(get_form("task_sigmoid_floor").predict(floor_params, task_loss=x),
                               get_form("task_sigmoid").predict(ladder, task_loss=x), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_inverse_gives_back_the_task_loss(name):
    form = get_form(name)
    x = np.array([0.5, 0.7, 1.1])
    accuracy = form.predict(TRUTH[name], task_loss=x)
    np.testing.assert_allclose(form.inverse(TRUTH[name], accuracy), x, rtol=1e-10)
    assert np.isnan(form.inverse(TRUTH[name], 1.5))  # beyond the upper plateau


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_engine_recovers_exact_parameters(name):
    form = get_form(name)
    x = np.linspace(0.3, 1.8, 60)
    y = form.predict(TRUTH[name], task_loss=x)
    result = LawFitter(name, loss="squared", space="linear").fit_arrays({TASK_INPUT: x}, y)
    for param, value in TRUTH[name].items():
        assert result.params[param] == pytest.approx(value, rel=1e-6), param


def test_fixed_floor_is_held():
    x = np.linspace(0.3, 1.8, 60)
    y = get_form("task_sigmoid_floor").predict(TRUTH["task_sigmoid_floor"], task_loss=x)
    result = LawFitter("task_sigmoid_floor", loss="squared", space="linear",
                       fixed={"floor": 0.25}).fit_arrays({TASK_INPUT: x}, y)
    assert result.params["floor"] == 0.25 and result.free_params == ("ceiling", "x0", "k")
    assert result.params["k"] == pytest.approx(7.0, rel=1e-6)


def test_engine_recovers_the_direct_law():
    rng = np.random.default_rng(3)
    N = np.exp(rng.uniform(np.log(1e8), np.log(3e9), 40))
    D = N * rng.uniform(20, 200, 40)
    p = {"A": 40.0, "B": 300.0, "alpha": 0.25, "beta": 0.3}
    q = get_form("direct_nd").predict(p, N=N, D=D)
    result = LawFitter("direct_nd").fit_arrays({"N": N, "D": D}, q)
    for param, value in p.items():
        assert result.params[param] == pytest.approx(value, rel=1e-5), param


def test_registered_and_listed():
    names = sl.available_forms()
    assert {"task_sigmoid", "task_sigmoid_floor", "task_logistic_log", "direct_nd"} <= set(names)
    assert set(STEP2_FORMS) == {"task_sigmoid", "task_sigmoid_floor", "task_logistic_log"}
    with pytest.raises(InputError, match="needs inputs task_loss"):
        get_form("task_sigmoid").predict(TRUTH["task_sigmoid"], N=1e9)


def test_log_logistic_refuses_non_positive_loss():
    with pytest.raises(InputError, match="task_loss.*positive"):
        get_form("task_logistic_log").predict(TRUTH["task_logistic_log"], task_loss=0.0)


def test_synthetic_table_follows_its_laws_without_noise():
    table = synthetic_task_table(run_sd=0, checkpoint_sd=0, accuracy_sd=0, rng=0)
    frame = table.frame
    loss = get_form("chinchilla").predict(SYNTHETIC_STEP1, N=frame["N"], D=frame["D"])
    np.testing.assert_allclose(frame["task_loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(frame["accuracy"],
                               _by_hand("task_sigmoid", SYNTHETIC_STEP2, loss), rtol=1e-12)
    assert len(table.run_ids) == 16 and table.chance("synthetic") == 0.25
