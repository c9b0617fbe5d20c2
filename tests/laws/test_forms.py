import numpy as np
import pytest

from scalinglaws import Chinchilla, InputError, KaplanND, PowerLaw, available_forms, get_form
from scalinglaws.laws.forms import _logsumexp
from scalinglaws.laws.synthetic import DEFAULT_TRUTH
from finite_differences import central_differences

RNG = np.random.default_rng(0)
X = {"N": np.geomspace(1e7, 1e11, 7), "D": np.geomspace(1e9, 1e12, 7)[::-1],
     "C": np.geomspace(1e18, 1e23, 7)}
# unique tokens for the data-constrained laws: 1 to 100 epochs of the tokens D above
X["U"] = X["D"] / np.array([1.0, 2.0, 4.0, 8.0, 16.0, 40.0, 100.0])


@pytest.mark.parametrize("name", sorted(DEFAULT_TRUTH))
@pytest.mark.parametrize("space", ["log", "linear"])
def test_jacobian_matches_finite_differences(name, space):
    form = get_form(name)
    theta = form.to_internal(form.params_vector(DEFAULT_TRUTH[name]))[None, :]
    evaluate = form.log_value_and_jacobian if space == "log" else form.value_and_jacobian
    value, jac = evaluate(theta, X)
    assert jac.shape == (1, form.n_params, 7)
    numeric = central_differences(lambda t: evaluate(t, X)[0], theta)
    for i in range(form.n_params):
        np.testing.assert_allclose(jac[0, i], numeric[i], rtol=1e-5, atol=1e-8 * np.abs(value).max())


def test_chinchilla_formula_and_broadcasting():
    params = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    n, d = np.array([1e9, 7e10])[:, None], np.array([2e10, 1.4e12])[None, :]
    expected = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    np.testing.assert_allclose(Chinchilla().predict(params, N=n, D=d), expected, rtol=1e-13)
    assert Chinchilla().predict(params, N=1e9, D=2e10).shape == ()


def test_chinchilla_log_value_is_accurate_on_every_path():
    """The divided-by-E evaluation (E not small), the stable log-sum-exp (small E) and the
    overflow fallback, against log(E + A N^-alpha + B D^-beta) in extended precision."""
    rng = np.random.default_rng(1)
    inputs = {"N": 10 ** rng.uniform(6, 11, 40), "D": 10 ** rng.uniform(8, 13, 40)}
    theta = np.column_stack([rng.uniform(-6, 4, 600), rng.uniform(0, 30, 600),
                             rng.uniform(0, 30, 600), rng.uniform(0, 2, 600),
                             rng.uniform(0, 2, 600)])
    theta[:2] = [[-0.5, 300.0, 2.0, 0.0, 0.1], [2.0, 5.0, 750.0, 0.5, 0.0]]  # p_a, p_b overflow
    value, jac = Chinchilla().log_value_and_jacobian(theta, inputs)
    t = theta.astype(np.longdouble)
    ln_n, ln_d = (np.log(inputs[k].astype(np.longdouble)) for k in ("N", "D"))
    logs = [t[:, :1] + 0 * ln_n, t[:, 1:2] - t[:, 3:4] * ln_n, t[:, 2:3] - t[:, 4:5] * ln_d]
    terms = [np.exp(term) for term in logs]
    total = terms[0] + terms[1] + terms[2]
    exact = np.log(total)
    # a few units in the last place of the largest log-term (the stable log-sum-exp's own
    # error scale) or of |log E| (log1p(p_a + p_b) + e errs by about 1e-16 (2 |e| + |log L|);
    # only rows with e >= -1 take it)
    scale = np.finfo(float).eps * np.maximum.reduce([np.abs(exact)] + [np.abs(x) for x in logs])
    error = np.max(np.abs(value - exact) / scale)
    # the general stable log-sum-exp in double precision, as the form evaluated it before
    ln_n, ln_d = np.log(inputs["N"]), np.log(inputs["D"])
    stable, _ = _logsumexp(theta[:, 1:2] - theta[:, 3:4] * ln_n,
                           theta[:, 2:3] - theta[:, 4:5] * ln_d, theta[:, :1])
    assert error <= 2 * np.max(np.abs(stable - exact) / scale) and error <= 10  # 7.5 and 6.3
    softmax = [term / total for term in terms]
    expected = np.stack([softmax[0], softmax[1], softmax[2], -softmax[1] * ln_n,
                         -softmax[2] * ln_d], axis=1)
    np.testing.assert_allclose(jac, expected.astype(float), rtol=1e-13, atol=1e-300)


def test_kaplan_seed_numbers():
    # Kaplan et al. (2020) Eq 1.1: L(N) = (8.8e13 / N)^0.076
    assert PowerLaw("N").predict({"N_c": 8.8e13, "alpha_N": 0.076}, N=1e9) == pytest.approx(
        (8.8e13 / 1e9) ** 0.076)
    # ... and the paper's own figure for a 1B model, L = 2.376 (Sec 1.2, printed to 3 decimals)
    assert PowerLaw("N").predict({"N_c": 8.8e13, "alpha_N": 0.076}, N=1e9) == pytest.approx(
        2.376, abs=5e-4)
    # Eq 1.2: data law
    assert PowerLaw("D").predict({"D_c": 5.4e13, "alpha_D": 0.095}, D=2.3e10) == pytest.approx(
        (5.4e13 / 2.3e10) ** 0.095)
    # Eq 1.5 with Table 2 constants; D -> infinity recovers (N_c/N)^alpha_N
    joint = KaplanND()
    p = {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}
    assert joint.predict(p, N=1e9, D=1e30) == pytest.approx((6.4e13 / 1e9) ** 0.076, rel=1e-9)
    expected = ((6.4e13 / 1e9) ** (0.076 / 0.103) + 1.8e13 / 2e10) ** 0.103
    assert joint.predict(p, N=1e9, D=2e10) == pytest.approx(expected, rel=1e-12)
    # doubling N lowers the loss by 2^-0.076 ~ 0.95 (Sec 1.2)
    law = PowerLaw("N")
    ratio = law.predict({"N_c": 8.8e13, "alpha_N": 0.076}, N=2e9) / law.predict(
        {"N_c": 8.8e13, "alpha_N": 0.076}, N=1e9)
    assert ratio == pytest.approx(0.9487, abs=1e-4)


def test_a_misspelt_form_name_suggests_the_close_one():
    # the list of every form is long; the message must point at the one meant
    with pytest.raises(InputError, match=r"got 'chinchila': did you mean 'chinchilla'\?"):
        get_form("chinchila")
    with pytest.raises(InputError, match=r"did you mean 'data_constrained'\?"):
        get_form("Data-Constrained".replace("-", ""))


def test_offset_power_law():
    law = PowerLaw("C", offset=True)
    assert law.param_names == ("E", "C_c", "alpha_C")
    assert law.predict({"E": 1.7, "C_c": 1e20, "alpha_C": 0.2}, C=1e21) == pytest.approx(
        1.7 + 0.1**0.2)


def test_registry_and_errors():
    assert {"chinchilla", "kaplan_n", "kaplan_nd", "kaplan_c_offset"} <= set(available_forms())
    assert get_form("Chinchilla") is get_form("chinchilla")
    with pytest.raises(InputError, match="`form` must be one of") as caught:
        get_form("nope")
    assert "did you mean" not in str(caught.value)
    with pytest.raises(InputError, match="missing D"):
        Chinchilla().predict(DEFAULT_TRUTH["chinchilla"], N=1e9)
    with pytest.raises(InputError, match="missing"):
        Chinchilla().predict({"E": 1}, N=1e9, D=1e9)
    with pytest.raises(InputError, match="`N` must be positive"):
        Chinchilla().predict(DEFAULT_TRUTH["chinchilla"], N=-1, D=1e9)
    with pytest.raises(InputError, match="`variable`"):
        PowerLaw("Q")
