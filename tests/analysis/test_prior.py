"""Priors and targets of sweep planning (scalinglaws.analysis.prior)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.analysis.prior import (
    Target,
    prior_from_fit,
    published_prior,
    target_gradients,
    target_values,
    target_variance,
)
from scalinglaws.laws import published as pub
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.frontier import frontier_terms
from scalinglaws.laws.kaplan import kaplan_nd_allocation_exponent

CHINCHILLA = get_form("chinchilla")


@pytest.fixture(scope="module")
def epoch_prior():
    return published_prior("epoch", n_draws=4000, rng=0)


@pytest.fixture(scope="module")
def sweep_fit():
    runs = sl.generate_sweep(noise=0.01, rng=3)
    result = sl.fit(runs)
    return runs, result, sl.bootstrap(result, runs, 300, rng=0)


# ------------------------------------------------------------------ targets
def test_n_opt_target_is_hoffmanns_frontier():
    # README / Hoffmann Fig 4 caption: unrounded coefficients give 40.4B at the Gopher budget
    p = pub.HOFFMANN_2022_TEX
    value = target_values(Target.make("N_opt", C=5.76e23), CHINCHILLA,
                          CHINCHILLA.params_vector(p)[None, :])[0]
    assert math.exp(value) == pytest.approx(4.04e10, rel=2e-3)
    # by hand: G (C/6)^a with G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta)
    s = p["alpha"] + p["beta"]
    by_hand = math.log(p["alpha"] * p["A"] / (p["beta"] * p["B"])) / s \
        + p["beta"] / s * math.log(5.76e23 / 6)
    assert value == pytest.approx(by_hand, abs=1e-9)


def test_exponent_target():
    p = pub.BESIROGLU_2024_TABLE1
    value = target_values(Target.make("exponent"), CHINCHILLA, CHINCHILLA.params_vector(p)[None])
    assert value[0] == pytest.approx(p["beta"] / (p["alpha"] + p["beta"]), abs=1e-15)
    # another law: the local slope of its numerical frontier; Kaplan's L(N, D) has the closed
    # exponent 0.575 (laws.kaplan, derived in the README's Kaplan section)
    form = get_form("kaplan_nd")
    slope = target_values(Target.make("exponent", C=1e22), form,
                          form.params_vector(pub.KAPLAN_2020_ND)[None])[0]
    assert slope == pytest.approx(kaplan_nd_allocation_exponent(), abs=2e-4)


def test_loss_target_is_the_law():
    p = pub.BESIROGLU_2024_TABLE1
    value = target_values(Target.make("loss", N=7e10, D=1.4e12), CHINCHILLA,
                          CHINCHILLA.params_vector(p)[None])[0]
    assert value == pytest.approx(math.log(p["E"] + p["A"] / 7e10 ** p["alpha"]
                                           + p["B"] / 1.4e12 ** p["beta"]), abs=1e-14)


def test_gradients_match_calculus():
    p = pub.BESIROGLU_2024_TABLE1
    theta = CHINCHILLA.to_internal(CHINCHILLA.params_vector(p))[None, :]
    eye = np.eye(5)
    alpha, beta = p["alpha"], p["beta"]
    s = alpha + beta
    log_ratio = math.log(alpha * p["A"] / (beta * p["B"]))
    x = math.log(1e24 / 6)
    # d ln N_opt / d(ln E, ln A, ln B, alpha, beta), by hand
    expected = [0.0, 1 / s, -1 / s, 1 / (alpha * s) - log_ratio / s**2 - beta * x / s**2,
                -1 / (beta * s) - log_ratio / s**2 + alpha * x / s**2]
    got = target_gradients(Target.make("N_opt", C=1e24), CHINCHILLA, theta, eye)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    got = target_gradients(Target.make("exponent"), CHINCHILLA, theta, eye)[0]
    np.testing.assert_allclose(got, [0, 0, 0, -beta / s**2, alpha / s**2], rtol=1e-7, atol=1e-12)
    # the loss target: the form's Jacobian, checked against a difference of Form.predict
    target = Target.make("loss", N=1e9, D=2e10)
    got = target_gradients(target, CHINCHILLA, theta, eye)[0]
    h = 1e-6
    numeric = [(math.log(CHINCHILLA.predict(CHINCHILLA.to_public(theta[0] + h * e), N=1e9, D=2e10))
                - math.log(CHINCHILLA.predict(CHINCHILLA.to_public(theta[0] - h * e), N=1e9,
                                              D=2e10))) / (2 * h) for e in eye]
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("kind, kwargs, message", [
    ("N_opt", {}, "takes the budget `C`"),
    ("N_opt", {"C": 1e24, "N": 1e9}, "takes the budget `C`"),
    ("loss", {"N": 1e9}, "takes `N` and `D`"),
    ("exponent", {"N": 1e9}, "at most the budget"),
    ("N_opt", {"C": -1.0}, "`C`"),
    ("opt", {"C": 1e24}, "`target`"),
])
def test_bad_targets(kind, kwargs, message):
    with pytest.raises(InputError, match=message):
        Target.make(kind, **kwargs)


# ------------------------------------------------------------------ published priors
def test_published_prior_spread_is_the_published_intervals(epoch_prior, published):
    # the reference sheet's copy of Besiroglu et al.'s bootstrap intervals (independent of
    # laws.published): interval width / 3.92 as the sd of each internal parameter
    ci = published["besiroglu2024"]["bootstrap"]["value"]["ci95"]
    expected = [math.log(ci["E"][1] / ci["E"][0]) / 3.919928, math.log(ci["A"][1] / ci["A"][0])
                / 3.919928, math.log(ci["B"][1] / ci["B"][0]) / 3.919928,
                (ci["alpha"][1] - ci["alpha"][0]) / 3.919928,
                (ci["beta"][1] - ci["beta"][0]) / 3.919928]
    # the table's three printed decimals
    np.testing.assert_allclose(np.sqrt(np.diag(epoch_prior.covariance)), expected, rtol=2e-3)
    # the draws follow it (4,000 draws: Monte Carlo error of an sd ~1.1%)
    internal = CHINCHILLA.to_internal(epoch_prior.draws)
    np.testing.assert_allclose(internal.std(axis=0), expected, rtol=0.04)
    assert dict(epoch_prior.params) == pub.BESIROGLU_2024_TABLE1
    assert epoch_prior.fresh and not epoch_prior.precision.any()


def test_published_prior_against_a_bootstrap_of_epochs_data(epoch_prior, epoch_csv):
    # The correlations come from Hoffmann's IsoFLOP layout, not from the data; compare with
    # a bootstrap of Epoch's digitised runs (what the published intervals summarise).
    runs = sl.load_runs(epoch_csv).exclude_top_loss(5)
    result = sl.fit(runs)
    boot = sl.bootstrap(result, runs, 400, rng=0)
    # README (Planning a sweep, Priors): the prior's correlations, from the Fisher information
    # of Hoffmann's IsoFLOP layout, are A-alpha 0.998 and B-beta 0.999 (measured 0.99844,
    # 0.99890 for `epoch`; 0.99844, 0.99875 for `hoffmann`); "a bootstrap of Epoch's data gives
    # 0.9994 and 0.9997" (these 400 resamples, seed 0: 0.99936, 0.99968), at the printed digits
    for name in ("epoch", "hoffmann"):
        covariance = published_prior(name, n_draws=50).covariance
        scale = np.sqrt(np.diag(covariance))
        corr = covariance / np.outer(scale, scale)
        assert (f"{corr[1, 3]:.3f}", f"{corr[2, 4]:.3f}") == ("0.998", "0.999"), name
    # the 4,000 draws follow the prior's correlations (internal parameters; Monte Carlo error
    # of a correlation near 1 is (1 - rho^2)/sqrt(n) ~ 5e-5)
    corr = np.corrcoef(CHINCHILLA.to_internal(epoch_prior.draws), rowvar=False)
    assert (f"{corr[1, 3]:.3f}", f"{corr[2, 4]:.3f}") == ("0.998", "0.999")
    corr = np.corrcoef(CHINCHILLA.to_internal(boot.draws), rowvar=False)
    assert (f"{corr[1, 3]:.4f}", f"{corr[2, 4]:.4f}") == ("0.9994", "0.9997")
    a_boot = boot.draws[:, 4] / boot.draws[:, 3:5].sum(axis=1)
    a_prior = epoch_prior.draws[:, 4] / epoch_prior.draws[:, 3:5].sum(axis=1)
    # measured: 0.015 against 0.019 (README): the prior is somewhat narrower than the data's
    # bootstrap; independent marginals would make it several times wider
    ratio = a_prior.std() / a_boot.std()
    assert 0.65 < ratio < 0.95
    assert (f"{a_prior.std():.3f}", f"{a_boot.std():.3f}") == ("0.015", "0.019")
    # and the README's 95% ranges of N_opt at 1e24 FLOP: 71-129B against 70-157B
    for draws, expected in ((epoch_prior.draws, [71, 129]), (boot.draws, [70, 157])):
        terms = frontier_terms(np.asarray(draws))
        n_opt = np.exp(terms["log_G"][:, 0] + terms["a"][:, 0] * np.log(1e24 / 6))
        assert np.round(np.percentile(n_opt, [2.5, 97.5]) / 1e9).tolist() == expected


def test_hoffmann_prior_centre():
    prior = published_prior("hoffmann", n_draws=50)
    assert dict(prior.params) == pub.HOFFMANN_2022_TEX
    centre, low, high = prior.target_interval(Target.make("N_opt", C=5.76e23))
    assert math.exp(centre) == pytest.approx(4.04e10, rel=2e-3) and low < centre < high


def test_published_prior_is_reproducible():
    a, b = published_prior(rng=1, n_draws=20), published_prior(rng=1, n_draws=20)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, published_prior(rng=2, n_draws=20).draws)


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "kaplan"}, "`name`"), ({"scatter": 0}, "`scatter`"), ({"n_draws": 1}, "`n_draws`"),
    ({"rng": -1}, "`rng`"), ({"delta": -1.0}, "`delta`")])
def test_published_prior_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message):
        published_prior(**kwargs)


# ------------------------------------------------------------------ priors from fits
def test_prior_from_fit_variance_is_the_bootstraps(sweep_fit):
    runs, result, boot = sweep_fit
    prior = prior_from_fit(result.with_bootstrap(boot))
    assert not prior.fresh and prior.draws.shape == (300, 5)
    target = Target.make("N_opt", C=1e24)
    # no new runs: the linearised variance is t' Cov t, against the draws' own spread of the
    # target (a delta-method approximation of a mildly skewed distribution: 15%)
    sd = math.sqrt(target_variance(prior, target)[0])
    draws = target_values(target, CHINCHILLA, boot.draws)
    assert sd == pytest.approx(np.std(draws), rel=0.15)
    # the scatter of a new run from the residuals: the sweep's 1% noise
    assert prior.scatter.sigma == pytest.approx(0.01, rel=0.15)
    assert prior.scatter.sigma == pytest.approx(
        math.sqrt(np.sum(result.residuals ** 2) / (len(runs) - 5)), rel=1e-12)
    # Huber at delta 1e-3 with 1% scatter: close to the median's pi/2
    assert 1.4 < prior.huber_factor < math.pi / 2


def test_prior_from_fit_with_a_fixed_parameter():
    runs = sl.generate_sweep(noise=0.01, rng=4)
    result = sl.fit(runs, fixed={"E": 1.8172})
    boot = sl.bootstrap(result, runs, 60, rng=0)
    prior = prior_from_fit(result, draws=boot)
    assert prior.free == ("A", "B", "alpha", "beta") and prior.expansion.shape == (5, 4)
    assert prior.covariance.shape == (4, 4)
    variance = target_variance(prior, Target.make("N_opt", C=1e22), [1e9], [2e10])
    assert np.isfinite(variance).all() and variance[0] > 0


def test_prior_from_fit_needs_draws_and_scatter(tmp_path, sweep_fit):
    _, result, boot = sweep_fit
    with pytest.raises(InputError, match="no bootstrap draws"):
        prior_from_fit(result)
    path = tmp_path / "fit.json"
    result.with_bootstrap(boot).save(path)
    loaded = sl.load(path)
    with pytest.raises(InputError, match="pass `scatter=`"):
        prior_from_fit(loaded)
    assert prior_from_fit(loaded, scatter=0.02).scatter.sigma == 0.02
    with pytest.raises(InputError, match="`law`"):
        prior_from_fit("fit.json")
    with pytest.raises(InputError, match="`draws`"):
        prior_from_fit(result, draws=np.ones((2, 5)))


def test_prior_is_frozen(epoch_prior):
    with pytest.raises(ValueError):
        epoch_prior.draws[0, 0] = 1.0
    with pytest.raises(TypeError):
        epoch_prior.params["E"] = 1.0


def test_a_prior_records_the_seed_of_its_draws():
    import numpy as np

    from scalinglaws.analysis.prior import prior_from_fit, published_prior

    assert published_prior("epoch", n_draws=50, rng=7).seed == 7
    assert published_prior("epoch", n_draws=50, rng=np.random.default_rng(7)).seed is None
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    booted = result.with_bootstrap(sl.bootstrap(result, runs, 20, rng=5))
    assert prior_from_fit(booted).seed == 5
    assert prior_from_fit(result, draws=booted.bootstrap.draws).seed is None  # an array


def test_prior_from_fit_with_draws_false_says_a_prior_needs_draws(sweep_fit):
    # draws=False (the package's "no draws") read as an array: "must have shape (n_draws
    # >= 3, 5), got ()"; and with a bootstrap attached it must not take that one instead
    _, result, boot = sweep_fit
    for law in (result, result.with_bootstrap(boot)):
        with pytest.raises(InputError, match=r"^`draws`=False gives no draws, and a prior is "
                                             r"made of draws: pass `draws=`"):
            prior_from_fit(law, draws=False, scatter=0.02)
    with pytest.raises(InputError, match=r"`draws` must be None .*got True"):
        prior_from_fit(result, draws=True, scatter=0.02)
