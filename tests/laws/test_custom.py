"""User-defined forms: declaration, derivatives, fitting, registration and JSON round trips."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError, LawFitter, forms
from scalinglaws.laws.custom import Param, UserForm, define_form
from finite_differences import central_differences

TRUTH = {"E": 1.8, "A": 400.0, "alpha": 0.3, "N0": 2e6}
N_GRID = np.logspace(6, 10, 30)


def shifted(N, E, A, alpha, N0):
    return E + A / (N + N0) ** alpha


def shifted_jacobian(N, E, A, alpha, N0):
    base = N + N0
    term = A * base ** -alpha
    return {"E": np.ones_like(term), "A": base ** -alpha, "alpha": -term * np.log(base),
            "N0": -alpha * term / base}


def shifted_params(**changes):
    params = {"E": Param(bounds=(0, 10), start=[1.0, 2.0]),
              "A": Param(bounds=(0, None), start=[10, 1000], log=True),
              "alpha": Param(bounds=(0, 3), start=[0.1, 0.3, 0.6]),
              "N0": Param(start=0.0)}
    params.update(changes)
    return params


def shifted_form(name="shifted_power", jacobian=None, **changes):
    return define_form(name, shifted, inputs=("N",), params=shifted_params(**changes),
                       jacobian=jacobian, formula="E + A/(N+N0)^alpha")


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the form registry, so registrations do not leak between tests."""
    monkeypatch.setattr(forms, "_REGISTRY", dict(forms._REGISTRY))
    return forms._REGISTRY


# -- declaration ---------------------------------------------------------------------------

def test_declaration_gives_internal_parametrisation():
    form = shifted_form()
    assert isinstance(form, sl.Form) and isinstance(form, UserForm)
    assert form.param_names == ("E", "A", "alpha", "N0")
    assert form.inputs == ("N",)
    assert form.log_params == {"A"}
    assert form.internal_names == ("E", "log(A)", "alpha", "N0")
    lo, hi = form.default_bounds()
    np.testing.assert_array_equal(lo, [0, -np.inf, 0, -np.inf])
    np.testing.assert_array_equal(hi, [10, np.inf, 3, np.inf])
    grid = form.start_grid({"N": N_GRID}, None)
    expected = list(itertools.product([1.0, 2.0], np.log([10.0, 1000.0]), [0.1, 0.3, 0.6], [0.0]))
    np.testing.assert_allclose(grid, expected)


def test_default_starts_follow_the_bounds():
    def f(x, a, b, c, d, e):
        return a + b + c + d + e + 0 * x

    form = define_form("defaults", f, inputs="x",
                       params={"a": Param(bounds=(2, 4)), "b": Param(bounds=(1, 100), log=True),
                               "c": Param(bounds=(5, None)), "d": Param(bounds=(None, -1)),
                               "e": Param()})
    np.testing.assert_allclose(form.to_public(form.start_grid(None, None)),
                               [[3.0, 10.0, 6.0, -2.0, 1.0]])


def test_config_is_plain_and_survives_json():
    config = shifted_form().config()
    assert json.loads(json.dumps(config, allow_nan=False)) == config
    assert config["inputs"] == ["N"]
    assert config["params"]["A"] == {"bounds": [0.0, None], "start": [10.0, 1000.0], "log": True}
    assert config["params"]["N0"]["bounds"] == [None, None]  # unbounded, as JSON can hold it
    assert config["formula"] == "E + A/(N+N0)^alpha"


def test_equality_and_hash_follow_name_and_config():
    a, b = shifted_form(), shifted_form()
    assert a == b and hash(a) == hash(b)
    assert a != shifted_form(name="other")
    assert a != shifted_form(alpha=Param(bounds=(0, 2), start=0.3))


def test_fixed_param_is_a_constant_of_the_form():
    form = shifted_form(N0=Param(fixed=2e6))
    assert form.param_names == ("E", "A", "alpha")
    assert form.constants == {"N0": 2e6}
    assert form.config()["constants"] == {"N0": 2e6}
    params = {k: v for k, v in TRUTH.items() if k != "N0"}
    assert form.predict(params, N=1e8) == pytest.approx(shifted(1e8, **TRUTH))
    result = LawFitter(form).fit_arrays({"N": N_GRID}, shifted(N_GRID, **TRUTH))
    assert result.params == pytest.approx(params, rel=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"params": {"E": Param(bounds=(3, 1))}}, "E.bounds"),
    ({"params": {"E": Param(bounds=(1,))}}, "E.bounds"),
    ({"params": {"E": Param(bounds=(-1, None), log=True)}}, "lower bound must be >= 0"),
    ({"params": {"E": Param(start=-1.0, log=True)}}, "E.start"),
    ({"params": {"E": Param(bounds=(0, 1), start=[0.5, 2.0])}}, "outside bounds"),
    ({"params": {"E": Param(start=float("nan"))}}, "E.start"),
    ({"params": {"E": Param(start=[])}}, "E.start"),
    ({"params": {"E": Param(fixed=-2.0, log=True)}}, "E.fixed"),
    ({"params": {"E": Param(fixed=1.0)}}, "every parameter is fixed"),
    ({"params": {"E": 1.0}}, "params['E']"),
    ({"params": {"E": {"bound": (0, 1)}}}, "unknown keys ['bound']"),
    ({"params": {"E": {"bounds": (3, 1)}}}, "E.bounds"),
    ({"params": {}}, "`params`"),
    ({"params": {"x": Param()}}, "also an input"),
    ({"params": {"E": Param(log="yes")}}, "E.log"),
    ({"inputs": ()}, "`inputs`"),
    ({"inputs": ("x", "x")}, "repeats"),
    ({"inputs": ("not a name",)}, "identifier"),
    ({"name": ""}, "`name`"),
    ({"function": "x + E"}, "`function`"),
    ({"jacobian": 3}, "`jacobian`"),
])
def test_bad_declarations_raise_naming_the_problem(kwargs, message):
    arguments = {"name": "bad", "function": lambda x, E: E + 0 * x, "inputs": ("x",),
                 "params": {"E": Param()}}
    arguments.update(kwargs)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        define_form(**arguments)


def test_a_dict_of_param_keywords_declares_the_same_form():
    as_dicts = {"E": {"bounds": (0, 10), "start": [1.0, 2.0]},
                "A": {"bounds": (0, None), "start": [10, 1000], "log": True},
                "alpha": {"bounds": (0, 3), "start": [0.1, 0.3, 0.6]}, "N0": {"start": 0.0}}
    from_dicts = define_form("shifted_power", shifted, ("N",), as_dicts)
    assert from_dicts == define_form("shifted_power", shifted, ("N",), shifted_params())


def test_function_arguments_must_be_exactly_inputs_and_params():
    def needs_d(N, D, E):  # D is neither an input nor a parameter
        return E + 0 * N

    with pytest.raises(InputError, match=r"requires argument\(s\) \['D'\]"):
        define_form("bad", needs_d, inputs=("N",), params={"E": Param()})
    with pytest.raises(InputError, match=r"does not accept \['A'\]"):
        define_form("bad", lambda N, E: E + 0 * N, inputs=("N",),
                    params={"E": Param(), "A": Param()})
    # **kwargs and defaulted extras are fine
    define_form("ok", lambda N, E, scale=1.0, **rest: E * scale + 0 * N, inputs=("N",),
                params={"E": Param(), "A": Param()})


def test_name_is_stored_lower_case_for_lookup(registry):
    form = define_form("Shifted_Power", shifted, inputs=("N",), params=shifted_params(),
                       register=True)
    assert form.name == "shifted_power"
    assert sl.get_form("SHIFTED_POWER") is form


# -- evaluation and derivatives ------------------------------------------------------------

def test_values_broadcast_over_starts_and_runs():
    form = shifted_form()
    theta = form.to_internal(np.array([[1.0, 100.0, 0.2, 0.0], [1.8, 400.0, 0.3, 2e6]]))
    value, jac = form.value_and_jacobian(theta, {"N": N_GRID})
    assert value.shape == (2, N_GRID.size) and jac.shape == (2, 4, N_GRID.size)
    np.testing.assert_allclose(value[1], shifted(N_GRID, **TRUTH))


@pytest.mark.parametrize("jacobian", [None, shifted_jacobian])
def test_jacobian_is_with_respect_to_internal_params(jacobian):
    """d f / d log(A) = A d f / d A: compare with differences taken in internal units."""
    form = shifted_form(jacobian=jacobian)
    theta = form.to_internal(form.params_vector(TRUTH))[None, :]
    _, jac = form.value_and_jacobian(theta, {"N": N_GRID})
    numeric = central_differences(lambda t: form._values(t, {"N": N_GRID}), theta)
    for j in range(4):
        np.testing.assert_allclose(jac[0, j], numeric[j], rtol=1e-5, atol=1e-12)


def test_finite_differences_match_the_analytic_jacobian():
    form = shifted_form(jacobian=shifted_jacobian)
    assert form.jacobian_error(TRUTH, N=N_GRID) < 1e-7
    with pytest.raises(InputError, match="no analytic"):
        shifted_form().jacobian_error(TRUTH, N=N_GRID)


def test_finite_difference_step_follows_the_declared_size():
    """A parameter of size 1e-7 is not differenced with a step of 1e-5."""
    def rational(x, a, b):
        return a / (1 + b * x ** 3)

    def rational_jacobian(x, a, b):
        return {"a": 1 / (1 + b * x ** 3), "b": -a * x ** 3 / (1 + b * x ** 3) ** 2}

    form = define_form("tiny", rational, inputs="x", jacobian=rational_jacobian,
                       params={"a": Param(start=1.0), "b": Param(start=1e-7)})
    assert form.jacobian_error({"a": 2.0, "b": 1.2e-7}, x=np.linspace(10, 1000, 20)) < 1e-6


def test_log_value_is_nan_where_the_prediction_is_not_positive():
    form = define_form("line", lambda x, a, b: a + b * x, inputs="x",
                       params={"a": Param(), "b": Param()})
    x = np.array([-2.0, 0.0, 1.0, 3.0])
    theta = np.array([[0.0, 1.0]])
    log_value, log_jac = form.log_value_and_jacobian(theta, {"x": x})
    assert np.isnan(log_value[0, :2]).all() and np.isnan(log_jac[0, :, :2]).all()
    np.testing.assert_allclose(log_value[0, 2:], np.log([1.0, 3.0]))
    np.testing.assert_allclose(log_jac[0, :, 2:], [[1.0, 1 / 3], [1.0, 1.0]])
    # predict is linear: any real value, any finite input
    np.testing.assert_allclose(form.predict({"a": 0.0, "b": 1.0}, x=x), x)


def test_bad_function_results_raise_input_error():
    wrong_shape = define_form("wrong", lambda x, a: np.ones(3) * a, inputs="x",
                              params={"a": Param()})
    with pytest.raises(InputError, match="does not broadcast"):
        wrong_shape.predict({"a": 1.0}, x=np.arange(5.0))
    no_b = define_form("no_b", lambda x, a, b: a + b * x, inputs="x",
                       params={"a": Param(), "b": Param()},
                       jacobian=lambda x, a, b: {"a": 1.0})
    with pytest.raises(InputError, match=r"no derivative for \['b'\]"):
        no_b.value_and_jacobian(np.zeros((1, 2)), {"x": np.arange(3.0)})
    with pytest.raises(InputError, match="missing x"):
        no_b.predict({"a": 1.0, "b": 2.0})


# -- fitting -------------------------------------------------------------------------------

@pytest.mark.parametrize("jacobian", [None, shifted_jacobian])
@pytest.mark.parametrize("loss, space", [("huber", "log"), ("squared", "log"),
                                         ("squared", "linear"), ("huber", "linear")])
def test_noise_free_fit_recovers_the_truth(jacobian, loss, space):
    form = shifted_form(jacobian=jacobian)
    fitter = LawFitter(form, loss=loss, space=space, delta=1e-3 if space == "log" else 1e-2)
    result = fitter.fit_arrays({"N": N_GRID}, shifted(N_GRID, **TRUTH))
    assert result.status == 0, result.message  # unbounded N0 and A: infinite bounds work
    assert result.params == pytest.approx(TRUTH, rel=1e-6)
    assert result.predict(N=3e10) == pytest.approx(shifted(3e10, **TRUTH), rel=1e-9)


def test_user_form_matches_the_builtin_chinchilla():
    """The same law, declared by the user, reaches the built-in form's optimum."""
    def chinchilla(N, D, E, A, B, alpha, beta):
        return E + A / N ** alpha + B / D ** beta

    user = define_form("user_chinchilla", chinchilla, inputs=("N", "D"),
                       params={"E": Param(bounds=(0, None), start=[1.0, 2.0], log=True),
                               "A": Param(bounds=(0, None), start=[100.0, 1e4], log=True),
                               "B": Param(bounds=(0, None), start=[100.0, 1e4], log=True),
                               "alpha": Param(bounds=(0, 10), start=[0.2, 0.5]),
                               "beta": Param(bounds=(0, 10), start=[0.2, 0.5])})
    runs = sl.generate_sweep(rng=1, noise=0.01)
    starts = {"E": [1.0, 2.0], "A": [100.0, 1e4], "B": [100.0, 1e4], "alpha": [0.2, 0.5],
              "beta": [0.2, 0.5]}
    builtin = LawFitter("chinchilla", starts=starts).fit(runs)
    mine = LawFitter(user).fit(runs)
    assert mine.objective == pytest.approx(builtin.objective, rel=1e-6)
    assert mine.params == pytest.approx(builtin.params, rel=1e-4)


def test_fit_options_apply_to_user_forms(registry):
    form = shifted_form()
    sl.register_form(form)
    y = shifted(N_GRID, **TRUTH)
    held = LawFitter(form, fixed={"N0": 2e6}, bounds={"alpha": (0.1, 1)}).fit_arrays({"N": N_GRID}, y)
    assert held.params == pytest.approx(TRUTH, rel=1e-6)
    assert held.free_params == ("E", "A", "alpha")
    runs = sl.Runs.from_arrays(N=N_GRID, D=20 * N_GRID, loss=y)
    by_name = sl.fit(runs, "shifted_power")
    assert by_name.form is form
    assert by_name.params == pytest.approx(TRUTH, rel=1e-6)


def test_bootstrap_runs_on_a_user_form():
    from scalinglaws.uncertainty.bootstrap import bootstrap

    form = shifted_form(jacobian=shifted_jacobian)
    rng = np.random.default_rng(0)
    y = shifted(N_GRID, **TRUTH) * np.exp(rng.normal(0, 0.002, N_GRID.size))
    runs = sl.Runs.from_arrays(N=N_GRID, D=20 * N_GRID, loss=y)
    result = LawFitter(form).fit(runs)
    boot = bootstrap(result, runs, n_resamples=20, rng=0)
    assert boot.draws.shape[1] == 4 and boot.n_resamples == 20
    low, high = boot.intervals["alpha"]
    assert low <= result.params["alpha"] <= high


# -- registration and JSON -----------------------------------------------------------------

def test_register_refuses_a_different_form_under_the_same_name(registry):
    define_form("shifted_power", shifted, inputs=("N",), params=shifted_params(), register=True)
    # the same declaration again (a re-run script) is fine
    define_form("shifted_power", shifted, inputs=("N",), params=shifted_params(), register=True)
    changed = shifted_params(alpha=Param(bounds=(0, 2), start=0.3))
    with pytest.raises(InputError, match="already registered"):
        define_form("shifted_power", shifted, inputs=("N",), params=changed, register=True)
    replaced = define_form("shifted_power", shifted, inputs=("N",), params=changed,
                           register=True, overwrite=True)
    assert sl.get_form("shifted_power") is replaced
    with pytest.raises(InputError, match="already registered"):
        define_form("chinchilla", shifted, inputs=("N",), params=shifted_params(), register=True)


def _registered_fit_saved(tmp_path):
    """A fit of the registered user form ``shifted_power``, and the file it was saved to."""
    form = shifted_form()
    sl.register_form(form)
    result = LawFitter(form).fit_arrays({"N": N_GRID}, shifted(N_GRID, **TRUTH))
    path = tmp_path / "fit.json"
    result.save(path)
    return result, path


def test_json_round_trip_needs_the_form_registered_again(registry, tmp_path):
    result, path = _registered_fit_saved(tmp_path)
    text = path.read_text()
    assert "def shifted" not in text and "lambda" not in text  # a name, never code

    del registry["shifted_power"]  # as in a fresh session that has not declared it
    with pytest.raises(InputError, match="register"):
        sl.load(path)

    sl.register_form(shifted_form())  # the user declares it again
    loaded = sl.load(path)
    assert loaded.params == result.params
    probe = np.logspace(5, 12, 9)
    np.testing.assert_array_equal(loaded.predict(N=probe), result.predict(N=probe))


def test_json_load_detects_a_differently_declared_form(registry, tmp_path):
    result, path = _registered_fit_saved(tmp_path)
    sl.register_form(shifted_form(alpha=Param(bounds=(0, 2), start=0.3)), overwrite=True)
    with pytest.raises(InputError, match="config"):
        sl.load(path)


def test_fit_arrays_takes_any_input_names():
    form = define_form("decay", lambda t, a, k: a * np.exp(-k * t), inputs="t",
                       jacobian=lambda t, a, k: {"a": np.exp(-k * t), "k": -a * t * np.exp(-k * t)},
                       params={"a": Param(bounds=(0, None), start=1.0, log=True),
                               "k": Param(start=[0.1, 1.0])})
    t = np.linspace(0, 5, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sl.ScalingLawsWarning)  # no ConvergenceWarning
        result = LawFitter(form, loss="squared", space="linear").fit_arrays({"t": t},
                                                                             3 * np.exp(-0.7 * t))
    assert result.params == pytest.approx({"a": 3.0, "k": 0.7}, rel=1e-8)
