"""Muennighoff et al. (2023) data-constrained law: formula, Jacobian, fits and allocation.

The module is imported inside a fixture, not at the top of this file: importing it
registers the ``data_constrained`` forms, and test modules collected later
(``test_fit``, ``test_forms``) parametrise over every registered form with inputs
(N, D, C) and truths (``synthetic.DEFAULT_TRUTH``) that this three-input form lacks.
"""

from __future__ import annotations

import importlib
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import Chinchilla, Huber, InputError, ScalingLawsWarning
from finite_differences import central_differences

CSV = "datasets/muennighoff2023_datablations/datablations_c4_runs.csv"
BASE = ("E", "A", "B", "alpha", "beta")

# huggingface/datablations README "Parametric Fit" and utils/parametric_fit.ipynb outputs
README_PREDICTIONS = [((6.34e9, 242e9, 25e9), 2.2256440889984477),
                      ((8.67e9, 178e9, 25e9), 2.2269634075087867)]
NOTEBOOK_OBJECTIVE = 0.015825936570763588  # cell 29: Huber-loss L-BFGS, 182 runs
SHEET_OPTIMUM = {"C": 1e22, "U": 25e9, "N": 7022364735.879969, "D": 237336955477.55075,
                 "epochs": 9.49347821910203}  # reference sheet section 5 (grid search)


@pytest.fixture(scope="module")
def dl():
    return importlib.import_module("scalinglaws.datablations")


@pytest.fixture(scope="module")
def paper(dl):
    """The published constants as public parameters, and the base law alone."""
    params = dict(dl.MUENNIGHOFF_2023["params"])
    return SimpleNamespace(params=params, base={k: params[k] for k in BASE})


@pytest.fixture(scope="module")
def fit_set(shared_dir, dl):
    """The 182 runs the authors fitted R*_D and R*_N on (``in_paper_fit_set``)."""
    with pytest.warns(ScalingLawsWarning, match="dropped 9 of 317 rows"):
        runs = sl.load_runs(shared_dir / CSV, columns={"N": "N", "D": "D", "U": "U",
                                                       "loss": "loss"}, nan_policy="omit")
    chosen = runs.select(runs.frame["in_paper_fit_set"].to_numpy(dtype=bool))
    assert len(chosen) == 182
    return chosen


def _objective(form, params, runs, delta=1e-3, space="log"):
    inputs = runs.inputs(form.inputs)
    predicted = form.predict(params, **inputs)
    r = np.log(predicted) - np.log(runs.loss) if space == "log" else predicted - runs.loss
    return float(Huber(delta).rho(r).sum())


# -- formula and published numbers --------------------------------------------------------

def test_readme_predictions_reproduce(dl, paper):
    law = dl.DataConstrained()
    # README: "to 1e-15" (measured: 2.2e-16, one unit in the last place)
    for (n, d, u), expected in README_PREDICTIONS:
        assert law.predict(paper.params, N=n, D=d, U=u) == pytest.approx(expected, rel=1e-15)
    # linear-decay parametrisation: same law
    linear = sl.get_form("data_constrained_linear_decay")
    assert linear.predict(paper.params, N=6.34e9, D=242e9, U=25e9) == pytest.approx(
        README_PREDICTIONS[0][1], rel=1e-15)


def test_constants_match_the_reference_sheet(dl, published):
    sheet = published["muennighoff2023"]
    constants = dl.MUENNIGHOFF_2023
    for key, value in sheet["log_params"]["value"].items():
        assert constants[key] == value
    assert constants["R_D_star"] == sheet["R_D_star"]["value"]
    assert constants["R_N_star"] == sheet["R_N_star"]["value"]
    for name in ("E", "A", "B"):
        assert constants["params"][name] == pytest.approx(sheet[name]["value"], rel=1e-4)
    law = dl.DataConstrained()
    cases = sheet["readme_test_cases"]["value"]
    for case in cases[:2]:
        assert law.predict(constants["params"], N=case["N"], D=case["D"], U=case["U"]) == \
            pytest.approx(case["loss"], rel=1e-9)
    assert cases[2]["optimal_allocation"]["params"] == SHEET_OPTIMUM["N"]
    with pytest.raises(TypeError):
        constants["R_D_star"] = 1.0  # read-only


def test_derived_numbers(dl, paper):
    from scalinglaws.analysis.extrapolate import chinchilla_frontier

    frontier = chinchilla_frontier(SimpleNamespace(form=Chinchilla(), params=paper.base))
    assert frontier.G == pytest.approx(0.22580, abs=5e-6)
    # C4 Chinchilla frontier at the Gopher budget (notebook "CCC4 Tied alpha beta")
    assert frontier.G * (5.76e23 / 6) ** frontier.a == pytest.approx(69962173313.52132, rel=1e-9)
    assert (5.76e23 / 6) ** frontier.b / frontier.G == pytest.approx(1372170066384.2363,
                                                                     rel=1e-9)
    # alpha = beta: U_N = G^2 U_D = 0.0510 U_D (19.6 tokens per parameter)
    ratio = dl.compute_optimal_n(paper.params, 25e9) / 25e9
    assert ratio == pytest.approx(frontier.G ** 2, rel=1e-12)
    assert ratio == pytest.approx(0.0510, abs=5e-5) and 1 / ratio == pytest.approx(19.61, abs=0.01)
    # average value per token relative to unique data, D'/D with U = D / epochs
    epochs = np.array([2, 4, 8, 16, 40])
    value = dl.repeated_data_value(epochs, paper.params["R_D_star"])
    np.testing.assert_allclose(value, [0.984, 0.931, 0.828, 0.661, 0.379], atol=6e-4)
    d = 1e11
    np.testing.assert_allclose(dl.effective_data(d, d / epochs, paper.params["R_D_star"]) / d,
                               value, rtol=1e-12)
    assert dl.repeated_data_value(0.5) == 1.0 and dl.repeated_data_value(1.0) == 1.0
    # repeated data is never worth more than (1 + R*_D) U_D
    cap = dl.effective_data(1e40, 1.0, paper.params["R_D_star"])
    assert cap == pytest.approx(16.39, abs=5e-3)
    assert cap == pytest.approx(1 + paper.params["R_D_star"], rel=1e-12)
    assert dl.effective_data(1e30, 1e10, 15.387756) / 1e10 == pytest.approx(16.387756)
    # excess parameters: N' <= (1 + R*_N) U_N
    assert dl.effective_params(1e30, 1e9, 5.309743) / 1e9 == pytest.approx(6.309743)
    assert dl.effective_params(5e8, 1e9, 5.309743) == pytest.approx(5e8)  # N <= U_N: N' = N


def test_unique_params_for_unequal_exponents_follow_the_frontier(dl):
    # alpha != beta: N_opt(U_D) = (alpha A / beta B)^(1/alpha) U_D^(beta/alpha), the point of
    # the Chinchilla frontier whose D_opt is U_D
    from scalinglaws.analysis.extrapolate import chinchilla_frontier

    base = {"E": 1.8, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    f = chinchilla_frontier(SimpleNamespace(form=Chinchilla(), params=base))
    tokens = np.array([1e8, 3e10, 2e12])
    compute_over_k = (tokens * f.G) ** (1 / f.b)  # D_opt(C) = tokens
    np.testing.assert_allclose(dl.compute_optimal_n(base, tokens),
                               f.G * compute_over_k ** f.a, rtol=1e-12)


def test_law_nests_chinchilla_and_handles_unique_above_tokens(dl, paper):
    law = dl.DataConstrained()
    n, d = np.array([1e8, 5e9, 7e10]), np.array([1e11, 3e10, 1.4e12])
    chin = Chinchilla().predict(paper.base, N=n, D=d)
    # no decay (R* -> infinity): the law is Chinchilla's, whatever the repetition
    huge = dict(paper.params, R_D_star=1e12, R_N_star=1e12)
    np.testing.assert_allclose(law.predict(huge, N=n, D=d, U=d / 50), chin, rtol=1e-9)
    # U >= D: nothing repeated, U_D = D
    below = n < dl.compute_optimal_n(paper.params, d)
    np.testing.assert_allclose(law.predict(paper.params, N=n, D=d, U=d)[below], chin[below],
                               rtol=1e-13)
    np.testing.assert_array_equal(law.predict(paper.params, N=n, D=d, U=10 * d),
                                  law.predict(paper.params, N=n, D=d, U=d))
    # repetition only hurts, and more decay hurts more
    repeated = law.predict(paper.params, N=n, D=d, U=d / 20)
    assert np.all(repeated > chin)
    assert np.all(law.predict(dict(paper.params, R_D_star=3.0), N=n, D=d, U=d / 20) > repeated)


@pytest.mark.parametrize("log_decay", [True, False])
@pytest.mark.parametrize("space", ["log", "linear"])
def test_jacobian_matches_finite_differences(dl, log_decay, space):
    form = dl.DataConstrained(log_decay=log_decay)
    params = dict(dl.MUENNIGHOFF_2023["params"], alpha=0.33, beta=0.38)  # alpha != beta
    unique = np.array([1e8, 1e9, 1e10, 2.5e10, 1e11, 1e9, 4e9])
    tokens = np.array([1e10, 5e8, 2e11, 2.5e10, 3e11, 4e12, 4e9])  # D < U, D = U, D > U
    factor = np.array([0.3, 0.9, 1.1, 3.0, 30.0, 1000.0, 0.999])  # N / N_opt(U_D), both sides
    X = {"N": dl.compute_optimal_n(params, np.minimum(unique, tokens)) * factor,
         "D": tokens, "U": unique}
    theta = form.to_internal(form.params_vector(params))[None, :]
    evaluate = form.log_value_and_jacobian if space == "log" else form.value_and_jacobian
    value, jac = evaluate(theta, X)
    assert jac.shape == (1, 7, 7)
    numeric = central_differences(lambda t: evaluate(t, X)[0], theta)
    for i in range(form.n_params):
        np.testing.assert_allclose(jac[0, i], numeric[i], rtol=1e-5,
                                   atol=1e-8 * np.abs(value).max(), err_msg=form.param_names[i])


def test_jacobian_is_continuous_across_the_min_kinks(dl, paper):
    form = dl.DataConstrained()
    theta = form.to_internal(form.params_vector(dict(paper.params, beta=0.4)))[None, :]
    n_opt = dl.compute_optimal_n(dict(paper.params, beta=0.4), 1e10)
    eps = np.array([1 - 1e-9, 1 + 1e-9])
    for X in ({"N": n_opt * eps, "D": np.full(2, 3e10), "U": np.full(2, 1e10)},  # U_N = min(N, .)
              {"N": np.full(2, 1e8), "D": 1e10 * eps, "U": np.full(2, 1e10)}):  # U_D = min(U, D)
        value, jac = form.log_value_and_jacobian(theta, X)
        assert value[0, 0] == pytest.approx(value[0, 1], rel=1e-8)
        np.testing.assert_allclose(jac[0, :, 0], jac[0, :, 1], atol=1e-7)


# -- fitting the decay constants on the paper's runs ----------------------------------------

def test_paper_objective_pins_huber_delta_and_log_space(dl, paper, fit_set):
    law = dl.DataConstrained()
    # Huber delta = 1e-3 on log residuals of the LSE form reproduces the notebook's value
    assert _objective(law, paper.params, fit_set) == pytest.approx(NOTEBOOK_OBJECTIVE, rel=1e-6)
    assert _objective(law, paper.params, fit_set, delta=1e-2) > 5 * NOTEBOOK_OBJECTIVE
    assert _objective(law, paper.params, fit_set, space="linear") > 3 * NOTEBOOK_OBJECTIVE


def _misfit(runs, form, **options):
    """A fit to the paper's 182 runs, which its law (with the paper's base constants fixed:
    residuals of 11% RMS; the runs of least compute lie 19% above it) and Chinchilla's (8%)
    misfit: the lack-of-fit warning says so (fitting/lack_of_fit.py)."""
    with pytest.warns(sl.LackOfFitWarning, match="the residuals trend with C"):
        return sl.fit(runs, form, **options)


def test_refit_from_the_paper_starts_recovers_published_decays(dl, paper, fit_set):
    # The notebook started L-BFGS at R* in linspace(0, 20, 4)^2 (R* = 0 gives nan there).
    grid = np.linspace(0, 20, 4)[1:]
    result = _misfit(fit_set, "data_constrained", fixed=paper.base,
                     starts={"R_D_star": grid, "R_N_star": grid})
    assert result.n_runs == 182 and result.options["delta"] == 1e-3
    popular = max(result.local_optima, key=lambda o: o["n_starts"])
    assert popular["n_starts"] >= 5  # most of the paper's starts end in the published basin
    # README: "lands, from the paper's start grid, on R*_D = 15.37, R*_N = 5.32 (published
    # 15.39, 5.31)", at its printed digits (measured 15.3718, 5.3151); the independent check
    # is the notebook's published objective, reached to 1e-5 just below, and the published
    # point's own local refit (next lines)
    assert f"{popular['params']['R_D_star']:.2f}" == "15.37"
    assert f"{popular['params']['R_N_star']:.2f}" == "5.32"
    assert popular["params"]["R_D_star"] == pytest.approx(15.387756, rel=2e-3)
    assert popular["params"]["R_N_star"] == pytest.approx(5.309743, rel=2e-3)
    assert popular["objective"] == pytest.approx(NOTEBOOK_OBJECTIVE, rel=1e-5)
    # ... and the published point is itself (up to the notebook's float32 L-BFGS) that optimum
    local = _misfit(fit_set, "data_constrained", fixed=paper.base,
                    starts=np.array([[15.387756, 5.309743]]))
    assert local.success
    assert local.params["R_D_star"] == pytest.approx(15.387756, rel=2e-3)
    assert local.params["R_N_star"] == pytest.approx(5.309743, rel=2e-3)
    assert local.objective <= NOTEBOOK_OBJECTIVE
    # the tied, linear parametrisation the notebook used lands on the same point
    linear = _misfit(fit_set, "data_constrained_linear_decay", fixed=paper.base,
                     starts=np.array([[13.333, 6.667]]))
    assert linear.params["R_D_star"] == pytest.approx(local.params["R_D_star"], rel=1e-5)


def test_decay_constants_sit_on_a_flat_ridge(dl, paper, fit_set):
    # The global optimum of the same objective trades R*_D against R*_N: a lower
    # objective (by ~0.1%) at a much larger R*_D and smaller R*_N.
    best = _misfit(fit_set, "data_constrained", fixed=paper.base)
    assert best.status == 0
    assert best.objective < NOTEBOOK_OBJECTIVE
    # README: "the lowest point on this data (R*_D = 95.4, R*_N = 1.71) is 0.13% lower" than
    # the notebook's published objective, at its printed digits (measured 95.365, 1.7059,
    # 0.1344%). A brute-force grid of the same objective (241 log-spaced R*_D in 5-2000 x 191
    # R*_N in 0.5-10, then a 101 x 101 refinement; 2026-12-02, 7 minutes, too slow here)
    # found its lowest point at (95.32, 1.706), 6e-9 relative above this objective
    assert f"{best.params['R_D_star']:.1f}" == "95.4"
    assert f"{best.params['R_N_star']:.2f}" == "1.71"
    assert f"{100 * (1 - best.objective / NOTEBOOK_OBJECTIVE):.2f}%" == "0.13%"
    assert list(best.diagnostics["most_correlated"]["params"]) == ["R_D_star", "R_N_star"]
    assert best.diagnostics["most_correlated"]["correlation"] < -0.5
    # resampling the runs: R*_D is bounded below only (95% interval ~[5, the 1e10 bound])
    from scalinglaws.uncertainty.bootstrap import bootstrap

    low, high = bootstrap(best, fit_set, n_resamples=100, rng=0).intervals["R_D_star"]
    assert low < 15.387756 and high > 1e3


def test_plain_chinchilla_is_biased_on_repeated_data(dl, paper, fit_set):
    chin = _objective(Chinchilla(), paper.base, fit_set)
    law = _objective(dl.DataConstrained(), paper.params, fit_set)
    assert law < 0.6 * chin  # 0.0158 vs 0.0331 with the same five base constants
    # Chinchilla counts repeated tokens as fresh: it under-predicts the loss more and
    # more as the epochs grow
    residual = np.log(Chinchilla().predict(paper.base, N=fit_set.N, D=fit_set.D)) - np.log(
        fit_set.loss)
    epochs = fit_set.D / fit_set.U
    assert np.median(residual[epochs >= 16]) < np.median(residual[epochs <= 1]) - 0.05
    # refitted freely on these runs, Chinchilla learns that tokens stop helping and tilts the
    # compute-optimal allocation toward parameters: N_opt ~ C^a with a ~ 0.69, not 0.5
    free = _misfit(fit_set, "chinchilla")
    a = free.params["beta"] / (free.params["alpha"] + free.params["beta"])
    assert a > 0.6


def test_tied_exponents_and_recovery_on_synthetic_runs(dl, paper):
    truth = dict(paper.params, R_D_star=25.0, R_N_star=3.0)
    unique, epochs, factor = np.meshgrid([1e8, 1e9, 1e10], [1, 2, 4, 10, 25, 60, 150],
                                         [0.3, 1.0, 3.0, 10.0, 30.0], indexing="ij")
    unique, epochs, factor = unique.ravel(), epochs.ravel(), factor.ravel()
    tokens = unique * epochs
    n = dl.compute_optimal_n(truth, unique) * factor
    loss = dl.DataConstrained().predict(truth, N=n, D=tokens, U=unique)
    exact = sl.Runs.from_arrays(N=n, D=tokens, loss=loss, U=unique)
    result = sl.fit(exact, "data_constrained", fixed=paper.base)
    assert result.objective < 1e-12
    assert result.params["R_D_star"] == pytest.approx(25.0, rel=1e-4)
    assert result.params["R_N_star"] == pytest.approx(3.0, rel=1e-4)
    # 0.3% log-normal noise; alpha = beta tied and fitted too
    rng = np.random.default_rng(11)
    noisy = sl.Runs.from_arrays(N=n, D=tokens, loss=loss * np.exp(rng.normal(0, 3e-3, n.size)),
                                U=unique)
    tied = sl.fit(noisy, "data_constrained", fixed={k: paper.base[k] for k in ("E", "A", "B")},
                  tied={"beta": "alpha"})
    assert tied.free_params == ("alpha", "R_D_star", "R_N_star")
    assert tied.params["alpha"] == tied.params["beta"]
    assert tied.params["alpha"] == pytest.approx(paper.params["alpha"], rel=0.01)
    assert tied.params["R_D_star"] == pytest.approx(25.0, rel=0.10)
    assert tied.params["R_N_star"] == pytest.approx(3.0, rel=0.10)


def test_fit_json_round_trip_and_missing_unique_tokens(dl, paper, tmp_path):
    n = np.geomspace(1e7, 1e9, 8)
    tokens = 40 * n
    unique = tokens / np.array([1, 2, 4, 8, 16, 32, 64, 128])
    loss = dl.DataConstrained().predict(paper.params, N=n, D=tokens, U=unique)
    runs = sl.Runs.from_arrays(N=n, D=tokens, loss=loss, U=unique)
    result = sl.fit(runs, "data_constrained", fixed=paper.base, starts={"R_N_star": [5.0]})
    path = tmp_path / "fit.json"
    result.save(path)
    again = sl.load(path)
    assert again.form == dl.DataConstrained() and again.params == result.params
    with pytest.raises(InputError, match="'U'"):
        sl.fit(sl.Runs.from_arrays(N=n, D=tokens, loss=loss), "data_constrained",
               fixed=paper.base)


# -- allocation under a unique-token limit ------------------------------------------------

def test_allocation_reproduces_the_worked_example(dl, paper):
    best = dl.data_constrained_optimal(paper.params, SHEET_OPTIMUM["C"], SHEET_OPTIMUM["U"])
    assert isinstance(best.N, float) and not best.at_search_edge
    assert best.N == pytest.approx(SHEET_OPTIMUM["N"], rel=5e-3)
    assert best.D == pytest.approx(SHEET_OPTIMUM["D"], rel=5e-3)
    assert best.epochs == pytest.approx(SHEET_OPTIMUM["epochs"], rel=5e-3)
    assert 6 * best.N * best.D == pytest.approx(1e22, rel=1e-12)
    law = dl.DataConstrained()
    sheet_loss = law.predict(paper.params, N=SHEET_OPTIMUM["N"], D=SHEET_OPTIMUM["D"], U=25e9)
    assert best.loss <= sheet_loss  # the continuous optimum beats the grid point
    for shift in (0.99, 1.01):
        n = best.N * shift
        assert law.predict(paper.params, N=n, D=1e22 / (6 * n), U=25e9) > best.loss


def test_allocation_agrees_with_the_readme_grid_search(dl, paper):
    # README optimal_allocation(8.67e9, 178e9, 25e9): N/i and D*i (and the reverse) for
    # i in linspace(1.0001, 3, 500), with U = min(U, D) -> "227B tokens, 9.1 epochs, 6.8B"
    law = dl.DataConstrained()
    i = np.linspace(1.0001, 3, 500)
    n = np.concatenate([8.67e9 / i, 8.67e9 * i])
    d = np.concatenate([178e9 * i, 178e9 / i])
    losses = law.predict(paper.params, N=n, D=d, U=np.minimum(25e9, d))
    k = int(np.argmin(losses))
    best = dl.data_constrained_optimal(paper.params, 6 * 8.67e9 * 178e9, 25e9)
    assert best.loss <= losses[k]
    assert best.N == pytest.approx(n[k], rel=5e-3) and best.D == pytest.approx(d[k], rel=5e-3)
    assert round(best.D / 1e9) == 227 and round(best.epochs, 1) == 9.1
    assert round(best.N / 1e9, 1) == 6.8


def test_allocation_without_a_data_limit_is_chinchillas_frontier(dl, paper):
    budgets = np.array([1e19, 1e21, 1e23, 5.76e23])
    best = dl.data_constrained_optimal(paper.params, budgets, 1e18)
    g = (paper.params["A"] / paper.params["B"]) ** (1 / (2 * paper.params["alpha"]))
    np.testing.assert_allclose(best.N, g * np.sqrt(budgets / 6), rtol=1e-5)
    assert best.N.shape == (4,) and not best.at_search_edge.any()
    # broadcasting: budgets down a column, unique-token limits along a row
    grid = dl.data_constrained_optimal(paper.params, budgets[:, None], [1e9, 1e10, 1e11])
    assert grid.N.shape == (4, 3)
    assert np.all(np.diff(grid.loss, axis=1) <= 1e-12)  # more unique data never hurts
    assert np.all(np.diff(grid.epochs, axis=0) > 0)  # more compute, more epochs
    assert grid.to_dict()["N"][0][0] == pytest.approx(float(grid.N[0, 0]))


def test_allocation_accepts_a_fit_and_validates_arguments(dl, paper):
    fitted = sl.FitResult(form=dl.DataConstrained(), params=paper.params, free_params=(),
                          fixed={}, tied={}, objective=0.0, n_runs=0, success=True, status=0,
                          message="")
    direct = dl.data_constrained_optimal(paper.params, 1e21, 1e9)
    assert dl.data_constrained_optimal(fitted, 1e21, 1e9).N == direct.N
    chin = sl.FitResult(form=Chinchilla(), params=paper.base, free_params=(), fixed={},
                        tied={}, objective=0.0, n_runs=0, success=True, status=0, message="")
    with pytest.raises(InputError, match="form 'chinchilla'"):
        dl.data_constrained_optimal(chin, 1e21, 1e9)
    with pytest.raises(InputError, match="lacks R_D_star"):
        dl.data_constrained_optimal(paper.base, 1e21, 1e9)
    with pytest.raises(InputError, match="`compute`"):
        dl.data_constrained_optimal(paper.params, -1e21, 1e9)
    with pytest.raises(InputError, match="`unique_tokens`"):
        dl.data_constrained_optimal(paper.params, 1e21, [1e9, math.nan])
    with pytest.raises(InputError, match="do not broadcast"):
        dl.data_constrained_optimal(paper.params, [1e21, 1e22], [1e9, 1e10, 1e11])
    with pytest.raises(InputError, match="`flops_per_token`"):
        dl.data_constrained_optimal(paper.params, 1e21, 1e9, flops_per_token=0)
    with pytest.raises(InputError, match="`flops_per_token` must be a scalar"):
        dl.data_constrained_optimal(paper.params, 1e21, 1e9, flops_per_token=[6, 6])
    with pytest.raises(InputError, match="`tokens_per_parameter_bounds`"):
        dl.data_constrained_optimal(paper.params, 1e21, 1e9, tokens_per_parameter_bounds=(10, 1))
    with pytest.raises(InputError, match=r"`params\['alpha'\]`"):
        dl.compute_optimal_n(dict(paper.base, alpha=-0.3), 1e9)
    with pytest.raises(InputError, match="`R_D_star`"):
        dl.effective_data(1e10, 1e9, 0.0)
    with pytest.raises(InputError, match="`U` must be positive"):
        dl.DataConstrained().predict(paper.params, N=1e9, D=1e10, U=-1)
    with pytest.raises(InputError, match="`log_decay`"):
        dl.DataConstrained(log_decay="yes")


def test_forms_are_registered_with_their_config(dl):
    assert sl.get_form("data_constrained") == dl.DataConstrained()
    assert sl.get_form("data_constrained_linear_decay").config() == {"log_decay": False}
    form = dl.DataConstrained()
    assert form.inputs == ("N", "D", "U")
    assert form.internal_names[-2:] == ("log(R_D_star)", "log(R_N_star)")
    lo, hi = form.default_bounds()
    assert lo[3] > 0 and lo[4] > 0  # alpha, beta divide
    assert np.exp(hi[5]) > 1e9
    grid = form.start_grid({}, np.ones(1))
    assert grid.shape[1] == 7 and np.all(np.isfinite(grid))
    assert isinstance(pd.DataFrame([dl.data_constrained_optimal(
        dl.MUENNIGHOFF_2023["params"], 1e21, 1e9).to_dict()]), pd.DataFrame)
