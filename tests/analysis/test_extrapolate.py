"""Tests of scalinglaws.extrapolate: predictions, allocation, under-training, inference.

Reference numbers come from the shared sheet through the ``published`` fixture (section
numbers refer to published_coefficients.md); every one is also re-derived by hand here
from the closed forms, so a wrong implementation cannot agree with both.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scalinglaws import (Chinchilla, ConvergenceWarning, FitResult, InputError, KaplanND, PowerLaw,
                         ScalingLawsDeprecationWarning)
from scalinglaws import extrapolate as X
from scalinglaws.laws.forms import Form

# Coefficients typed for the tests that do not need the reference sheet.
# Hoffmann et al. 2022 App D.2 Eq 10 as printed (sheet §2.1).
ROUNDED = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
# Unrounded values from the arXiv TeX source (sheet §2.1, verified-code), log-space.
TEX = dict(E=math.exp(0.5267228), A=math.exp(6.0073404), B=math.exp(6.0179186),
           alpha=0.33917084, beta=0.2849083)
# Besiroglu et al. 2024 Table 1 (sheet §3).
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
# Kaplan et al. 2020 Table 2, L(N, D) joint fit (sheet §1.2).
KAPLAN = dict(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)

GOPHER_FLOPS = 5.76e23  # Rae et al. via Hoffmann Fig 2 caption (sheet §2.5)
CHINCHILLA_FLOPS = 5.88e23  # 6 x 70e9 x 1.4e12 (sheet §2.5, derived)


def law(form, **params) -> FitResult:
    """A FitResult holding ``params`` without fitting anything."""
    return FitResult(form=form, params=params, free_params=tuple(params), fixed={}, tied={},
                     objective=0.0, n_runs=1, success=True, status=0, message="")


def frontier_by_hand(E, A, B, alpha, beta):
    """Hoffmann et al. 2022 Eq 4: G, a, b."""
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G, beta / (alpha + beta), alpha / (alpha + beta)


def perturbed_draws(params: dict, sigma: float, n: int = 400, seed: int = 0) -> np.ndarray:
    """Synthetic 'bootstrap' draws: each parameter times (1 + sigma z)."""
    rng = np.random.default_rng(seed)
    point = np.array(list(params.values()))
    return point * (1 + sigma * rng.standard_normal((n, len(point))))


class ChinchillaByHand(Form):
    """A user-defined form (not a Chinchilla subclass): exercises the generic law path."""

    name = "chinchilla_by_hand"
    inputs = ("N", "D")
    param_names = Chinchilla.param_names
    log_params = Chinchilla.log_params
    log_value_and_jacobian = Chinchilla.log_value_and_jacobian


@pytest.fixture(scope="module")
def rounded():
    return law(Chinchilla(), **ROUNDED)


@pytest.fixture(scope="module")
def tex():
    return law(Chinchilla(), **TEX)


@pytest.fixture(scope="module")
def besiroglu():
    return law(Chinchilla(), **BESIROGLU)


@pytest.fixture(scope="module")
def kaplan():
    return law(KaplanND(), **KAPLAN)


# =========================================================================== law evaluation
@pytest.mark.parametrize("form, params", [(Chinchilla(), ROUNDED), (KaplanND(), KAPLAN)])
def test_vectorised_law_matches_form_predict(form, params):
    N = np.array([[1e8, 3e9, 7e10]])
    D = np.array([[2e9, 5e10, 1.4e12]])
    rows = np.array([list(params.values())])
    np.testing.assert_allclose(X._loss(form, rows, N, D)[0], form.predict(params, N=N[0], D=D[0]),
                               rtol=1e-13)


def test_predict_point_and_broadcasting(rounded):
    result = X.predict(rounded, N=70e9, D=1.4e12)
    # by hand: 1.69 + 406.4 / (70e9)^0.34 + 410.7 / (1.4e12)^0.28
    assert result.loss == pytest.approx(1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28,
                                        rel=1e-14)
    assert result.loss == pytest.approx(1.93665, abs=1e-5)
    assert isinstance(result.loss, float) and result.low is None
    grid = X.predict(rounded, N=np.array([[1e9], [1e10], [1e11]]),
                     D=np.array([1e10, 1e11, 1e12, 1e13]))
    assert grid.loss.shape == (3, 4)
    np.testing.assert_allclose(grid.loss[1, 2], rounded.predict(N=1e10, D=1e12))
    frame = grid.to_frame()
    assert list(frame.columns) == ["N", "D", "loss"] and len(frame) == 12


def test_predict_intervals_contain_point_and_narrow(besiroglu):
    inputs = dict(N=np.array([1e9, 1e11]), D=np.array([2e10, 2e12]))
    wide = X.predict(besiroglu, draws=perturbed_draws(BESIROGLU, 0.02), **inputs)
    narrow = X.predict(besiroglu, draws=perturbed_draws(BESIROGLU, 0.005), **inputs)
    for result in (wide, narrow):
        assert np.all(result.low < result.loss) and np.all(result.loss < result.high)
        assert result.n_draws == 400 and result.n_failed_draws == 0
    assert np.all(narrow.high - narrow.low < 0.5 * (wide.high - wide.low))
    assert set(wide.to_frame().columns) == {"N", "D", "loss", "confidence_low", "confidence_high"}


def test_draws_with_failures_are_counted_and_ignored(besiroglu):
    draws = perturbed_draws(BESIROGLU, 0.01, n=100)
    draws[:3] = np.nan
    result = X.predict(besiroglu, draws=draws, N=1e10, D=2e11)
    assert result.n_failed_draws == 3 and np.isfinite(result.low) and np.isfinite(result.high)
    # a DataFrame of draws is read by column name, in any order
    frame = pd.DataFrame(draws[3:], columns=list(BESIROGLU))[["beta", "E", "A", "alpha", "B"]]
    by_name = X.predict(besiroglu, draws=frame, N=1e10, D=2e11)
    assert by_name.low == pytest.approx(result.low) and by_name.high == pytest.approx(result.high)
    # a bootstrap result is read through its `.draws`
    from types import SimpleNamespace

    via_object = X.predict(besiroglu, draws=SimpleNamespace(draws=draws[3:]), N=1e10, D=2e11)
    assert via_object.low == pytest.approx(result.low) and via_object.n_draws == 97


def test_confidence_level_widens_interval(besiroglu):
    draws = perturbed_draws(BESIROGLU, 0.02)
    r50 = X.compute_optimal(besiroglu, 1e22, draws=draws, confidence_level=0.5)
    r95 = X.compute_optimal(besiroglu, 1e22, draws=draws, confidence_level=0.95)
    low50, high50 = r50.interval("N")
    low95, high95 = r95.interval("N")
    assert low95 < low50 < r50.N < high50 < high95


# =========================================================================== frontier (Eq 4)
@pytest.mark.parametrize("which", ["derived_rounded", "derived_tex"])
def test_hoffmann_frontier_at_gopher_budget(published, which):
    sheet = published["hoffmann2022_approach3"]
    if which == "derived_tex":
        tex = sheet["unrounded_tex_source"]["value"]
        params = dict(E=math.exp(tex["e_log"]), A=math.exp(tex["a_log"]), B=math.exp(tex["b_log"]),
                      alpha=tex["alpha"], beta=tex["beta"])
    else:
        params = {n: sheet[n]["value"] for n in ("E", "A", "B", "alpha", "beta")}
    expected = sheet["efficient_frontier"][which]["value"]
    budget = published["hoffmann2022_models"]["gopher"]["flops_reported"]["value"]
    fit = law(Chinchilla(), **params)

    G, a, b = frontier_by_hand(**params)
    frontier = X.chinchilla_frontier(fit)
    assert frontier.G == pytest.approx(G, rel=1e-12) and frontier.a == pytest.approx(a, rel=1e-12)
    assert frontier.G == pytest.approx(expected["G"], abs=1e-4)
    assert frontier.a == pytest.approx(expected["a"], abs=1e-4)
    assert frontier.b == pytest.approx(expected["b"], abs=1e-4)

    result = X.compute_optimal(fit, budget)
    assert result.method == "closed_form"
    assert result.N == pytest.approx(G * (budget / 6) ** a, rel=1e-12)
    assert result.D == pytest.approx((budget / 6) ** b / G, rel=1e-12)
    assert result.N == pytest.approx(expected["N_opt_at_5.76e23"], rel=5e-3)
    assert result.D == pytest.approx(expected["D_opt_at_5.76e23"], rel=5e-3)
    # the sheet's D/N carries 3 figures (92.7 rounded; G^-2 (C/6)^(b-a) gives 92.65)
    assert result.tokens_per_parameter == pytest.approx(expected["D_over_N_at_5.76e23"], rel=1e-3)
    assert result.C == pytest.approx(6 * result.N * result.D, rel=1e-12)


def test_only_unrounded_coefficients_give_fig4_40b(published, rounded, tex):
    # Hoffmann Fig 4 caption: ~40B parameters at the Gopher budget (sheet §2.1, §9.10)
    fig4 = published["hoffmann2022_approach3"]["efficient_frontier"][
        "gopher_budget_optimal_N_from_fig4"]["value"]
    assert X.compute_optimal(tex, GOPHER_FLOPS).N == pytest.approx(fig4, rel=0.02)
    assert X.compute_optimal(rounded, GOPHER_FLOPS).N < 0.85 * fig4


@pytest.mark.parametrize("params", [ROUNDED, TEX, BESIROGLU], ids=["rounded", "tex", "besiroglu"])
def test_closed_form_and_numerical_agree(params):
    fit = law(Chinchilla(), **params)
    budgets = np.array([1e18, 1e21, GOPHER_FLOPS, 1e25, 1e28])
    closed = X.compute_optimal(fit, budgets, method="closed_form")
    numerical = X.compute_optimal(fit, budgets, method="numerical")
    assert numerical.method == "numerical" and not np.any(numerical.at_search_edge)
    # README: N and D agree to 3e-10, their ratio to 6e-10, the loss to 1e-15 (measured
    # 1.8e-10, 3.5e-10 and 5.6e-16 at most over these laws and budgets)
    for name, rtol in (("N", 3e-10), ("D", 3e-10), ("tokens_per_parameter", 6e-10),
                       ("loss", 1e-15)):
        np.testing.assert_allclose(getattr(numerical, name), getattr(closed, name), rtol=rtol)
    # the generic (user-form) path, one law evaluation per parameter row, agrees too
    # (measured 2.7e-10)
    generic = X.compute_optimal(law(ChinchillaByHand(), **params), budgets)
    assert generic.method == "numerical"
    np.testing.assert_allclose(generic.N, closed.N, rtol=3e-10)


def test_besiroglu_tokens_per_parameter(published, besiroglu):
    sheet = published["besiroglu2024"]
    fit = law(Chinchilla(), **{n: sheet[n]["value"] for n in ("E", "A", "B", "alpha", "beta")})
    expected = sheet["derived_allocation"]["value"]
    assert X.chinchilla_frontier(fit).G == pytest.approx(expected["G"], abs=1e-4)
    assert X.chinchilla_frontier(fit).a == pytest.approx(expected["a"], abs=1e-4)
    result = X.compute_optimal(fit, [1e21, CHINCHILLA_FLOPS, 1e25])
    np.testing.assert_allclose(result.tokens_per_parameter,
                               [expected["tokens_per_param_at_1e21"],
                                expected["tokens_per_param_at_5.88e23"],
                                expected["tokens_per_param_at_1e25"]], atol=0.05)
    assert result.N[1] == pytest.approx(expected["N_opt_at_5.88e23"], rel=5e-3)
    assert result.D[1] == pytest.approx(expected["D_opt_at_5.88e23"], rel=5e-3)
    # D/N = G^-2 (C/6)^(b - a), by hand
    G, a, b = frontier_by_hand(**BESIROGLU)
    assert result.tokens_per_parameter[1] == pytest.approx(G ** -2 * (CHINCHILLA_FLOPS / 6) ** (b - a))


def test_frontier_intervals(besiroglu):
    result = X.chinchilla_frontier(besiroglu, draws=perturbed_draws(BESIROGLU, 0.01))
    for name in ("G", "a", "b", "gamma", "K"):
        low, high = result.interval(name)
        assert low < getattr(result, name) < high
    assert result.to_frame().shape[0] == 1
    assert result.a + result.b == pytest.approx(1)


# =========================================================================== other laws
def test_kaplan_allocation_matches_brute_force_grid(kaplan):
    budgets = np.array([1e19, 1e21, 1e24])
    result = X.compute_optimal(kaplan, budgets)
    assert result.method == "numerical"
    for budget, n_opt in zip(budgets, result.N):
        # dense grid: 2e5 sizes over 6 decades around the answer (step 7e-5 in log N)
        sizes = np.geomspace(n_opt / 1e3, n_opt * 1e3, 200_001)
        losses = KaplanND().predict(KAPLAN, N=sizes, D=budget / (6 * sizes))
        best = sizes[np.argmin(losses)]
        assert n_opt == pytest.approx(best, rel=2e-4)
        assert KaplanND().predict(KAPLAN, N=n_opt, D=budget / (6 * n_opt)) <= losses.min() + 1e-12
    # by hand: minimise (N_c/N)^r + 6 D_c N / C, r = alpha_N/alpha_D  =>
    # N^(1+r) = r N_c^r C / (6 D_c)
    r = KAPLAN["alpha_N"] / KAPLAN["alpha_D"]
    by_hand = (r * KAPLAN["N_c"] ** r * budgets / (6 * KAPLAN["D_c"])) ** (1 / (1 + r))
    np.testing.assert_allclose(result.N, by_hand, rtol=1e-7)


def test_kaplan_compute_for_loss_and_diagnosis(kaplan):
    inverse = X.compute_for_loss(kaplan, [2.5, 2.2])
    again = X.compute_optimal(kaplan, inverse.C)
    np.testing.assert_allclose(again.loss, [2.5, 2.2], rtol=1e-9)
    diagnosis = X.diagnose(kaplan, 1e9, 2e10)
    # C*(N) is the budget whose optimum is N
    assert X.compute_optimal(kaplan, diagnosis.optimal_C_for_N).N == \
        pytest.approx(1e9, rel=1e-7)
    assert diagnosis.compute_saving_factor >= 1.0


def test_user_flops_function(rounded):
    # C = 6 N D written as a function reproduces the closed form
    plain = X.compute_optimal(rounded, [1e21, 1e23], flops=lambda N, D: 6 * N * D)
    closed = X.compute_optimal(rounded, [1e21, 1e23])
    assert plain.method == "numerical"
    np.testing.assert_allclose(plain.N, closed.N, rtol=5e-10)
    np.testing.assert_allclose(plain.D, closed.D, rtol=5e-10)

    # a count with a fixed 1B-parameter cost outside N (e.g. embeddings): the constraint
    # holds and no nearby size on the constraint does better
    def flops(N, D):
        return 6 * (N + 1e9) * D

    budget = 1e22
    result = X.compute_optimal(rounded, budget, flops=flops)
    assert flops(result.N, result.D) == pytest.approx(budget, rel=1e-12)
    sizes = result.N * np.geomspace(0.9, 1.1, 2001)
    losses = rounded.predict(N=sizes, D=budget / (6 * (sizes + 1e9)))
    assert result.loss <= losses.min() + 1e-12
    assert result.N < closed.N[0] * 10  # sanity: same order as 6ND


def test_search_edge_is_flagged(rounded):
    # the optimum at 1e21 is ~50 tokens per parameter: outside (1e3, 1e4)
    with pytest.warns(ConvergenceWarning, match="edge"):
        result = X.compute_optimal(rounded, [1e21, 1e22], method="numerical",
                                   tokens_per_parameter_bounds=(1e3, 1e4))
    assert np.all(result.at_search_edge)
    assert result.tokens_per_parameter == pytest.approx([1e3, 1e3], rel=1e-3)
    # draws whose optimum lands on the edge count as failed
    draws = perturbed_draws(ROUNDED, 0.01, n=20)
    with pytest.warns(ConvergenceWarning):
        edge = X.compute_optimal(rounded, 1e21, method="numerical",
                                 tokens_per_parameter_bounds=(1e3, 1e4), draws=draws)
    assert edge.n_failed_draws == 20


# =========================================================================== compute for a loss
@pytest.mark.parametrize("params", [ROUNDED, TEX, BESIROGLU], ids=["rounded", "tex", "besiroglu"])
def test_compute_for_loss_inverts_the_frontier(params):
    fit = law(Chinchilla(), **params)
    targets = np.array([2.4, 2.0, params["E"] + 0.05])
    closed = X.compute_for_loss(fit, targets)
    numerical = X.compute_for_loss(fit, targets, method="numerical")
    np.testing.assert_allclose(numerical.C, closed.C, rtol=5e-10)
    np.testing.assert_allclose(closed.loss, targets, rtol=1e-12)
    np.testing.assert_allclose(X.compute_optimal(fit, closed.C).loss, targets, rtol=1e-12)
    # by hand: L*(C) = E + K (C/6)^-gamma
    G, a, b = frontier_by_hand(**params)
    alpha, beta = params["alpha"], params["beta"]
    K = params["A"] * G ** -alpha + params["B"] * G ** beta
    gamma = alpha * beta / (alpha + beta)
    np.testing.assert_allclose(closed.C, 6 * (K / (targets - params["E"])) ** (1 / gamma),
                               rtol=1e-10)


def test_compute_for_loss_rejects_irreducible_target(rounded, kaplan):
    with pytest.raises(InputError, match="irreducible loss E = 1.69"):
        X.compute_for_loss(rounded, 1.69)
    with pytest.raises(InputError, match="target_loss"):
        X.compute_for_loss(rounded, [2.0, 1.5])
    with pytest.raises(InputError, match="positive"):
        X.compute_for_loss(kaplan, 0.0)
    assert X.irreducible_loss(rounded) == 1.69
    assert 0 < X.irreducible_loss(kaplan) < 1e-4


def test_compute_for_loss_draws_out_of_reach_give_infinite_bound(besiroglu):
    # a target just above E: draws with a larger E can never reach it
    draws = perturbed_draws(BESIROGLU, 0.01, n=200)
    result = X.compute_for_loss(besiroglu, BESIROGLU["E"] + 0.01, draws=draws)
    unreachable = int(np.sum(draws[:, 0] >= BESIROGLU["E"] + 0.01))
    assert unreachable > 10 and result.n_failed_draws == unreachable
    assert result.interval("C")[1] == np.inf
    assert np.isfinite(result.C)


# =========================================================================== diagnosis
@pytest.mark.parametrize("params, expected_ratio", [(ROUNDED, 77.68), (TEX, 45.46)],
                         ids=["rounded", "tex"])
def test_gpt3_is_under_trained(published, params, expected_ratio):
    table1 = published["hoffmann2022_models"]["table1_other_models"]["value"]
    models = {m["model"]: m for m in table1}
    N, D = models["GPT-3"]["params"], models["GPT-3"]["tokens"]
    fit = law(Chinchilla(), **params)
    result = X.diagnose(fit, N, D)
    # by hand: N = G (C/6)^a  =>  C*(N) = 6 (N/G)^(1/a)
    G, a, _ = frontier_by_hand(**params)
    c_star = 6 * (N / G) ** (1 / a)
    assert result.C == pytest.approx(6 * N * D)
    assert result.optimal_C_for_N == pytest.approx(c_star, rel=1e-12)
    assert result.optimal_D_for_N == pytest.approx(c_star / (6 * N), rel=1e-12)
    assert result.compute_ratio == pytest.approx(result.tokens_ratio, rel=1e-12)
    assert result.compute_ratio == pytest.approx(expected_ratio, abs=0.01)
    assert result.compute_ratio > 10 and result.tokens_ratio > 10
    # The seed's 4.4e24 FLOP / 4.2T tokens are Hoffmann's Sec 3.4 text (Approach 1,
    # ratio ~14). Approach 3's law asks far more: TeX 1.43e25 / 13.6T (ratio 45),
    # rounded 2.45e25 / 23.3T (ratio 78). Table A3's Approach-3 175B row (12.0T tokens)
    # sits within ~15% of the TeX value, as the sheet says (§2.4).
    text = published["hoffmann2022_table3"]["text_examples_sec_3_4"]["value"]["175B"]
    assert result.optimal_C_for_N > 3 * text["flops"]
    assert text["flops"] / (6 * N * D) == pytest.approx(14.0, abs=0.1)
    if params is TEX:
        table_a3 = {r["params"]: r for r in published["hoffmann2022_table_a3"]["rows"]}
        assert result.optimal_D_for_N == pytest.approx(
            table_a3[175e9]["approach3_tokens"], rel=0.15)
    # the same loss for less compute with a compute-optimal model
    same = X.compute_for_loss(fit, result.loss)
    assert result.C_for_same_loss == pytest.approx(same.C, rel=1e-12)
    assert result.compute_saving_factor == pytest.approx(6 * N * D / same.C, rel=1e-12)
    assert result.compute_saving_factor > 2
    assert result.optimal_loss < result.loss


def test_diagnosis_report_and_export(rounded):
    result = X.diagnose(rounded, 175e9, 300e9)
    report = str(result)
    for phrase in ("N = 175B parameters", "D = 300B tokens", "3.15e+23 FLOP",
                   "C*(N) = 2.45e+25 FLOP", "D*(N) = 23.3T tokens", "under-trained",
                   "less compute"):
        assert phrase in report
    assert repr(result) == report  # a bare diagnose(...) in a REPL shows the report
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["compute_ratio"] == pytest.approx(result.compute_ratio)
    assert len(result.to_frame()) == 1
    # Chinchilla itself is close to compute-optimal under Besiroglu's law (ratio ~1)
    over = X.diagnose(law(Chinchilla(), **BESIROGLU), 70e9, 1.4e12)
    # by hand from Hoffmann Eq 4: N = G (C/6)^a gives C*/6 = (N/G)^(1/a), D* = (C*/6)^b / G
    p = BESIROGLU
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    a, b = p["beta"] / (p["alpha"] + p["beta"]), p["alpha"] / (p["alpha"] + p["beta"])
    by_hand = (70e9 / G) ** (b / a) / G / 1.4e12
    assert over.tokens_ratio == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.92, abs=0.01)
    assert "over-trained" in str(over)


def test_diagnosis_numerical_matches_closed_form_and_broadcasts(tex):
    sizes, tokens = np.array([175e9, 70e9, 280e9]), np.array([300e9, 1.4e12, 300e9])
    closed = X.diagnose(tex, sizes, tokens)
    numerical = X.diagnose(tex, sizes, tokens, method="numerical")
    for name in ("optimal_N", "optimal_C_for_N", "C_for_same_loss",
                 "compute_saving_factor"):
        np.testing.assert_allclose(getattr(numerical, name), getattr(closed, name), rtol=5e-10)
    assert closed.compute_ratio.shape == (3,) and len(closed.to_frame()) == 3
    assert str(closed).count("Compute-optimality diagnosis") == 3


def test_diagnosis_intervals(besiroglu):
    result = X.diagnose(besiroglu, 175e9, 300e9, draws=perturbed_draws(BESIROGLU, 0.01))
    for name in ("loss", "compute_ratio", "C_for_same_loss", "optimal_N"):
        low, high = result.interval(name)
        assert low < getattr(result, name) < high
    assert "intervals" in str(result) and "[" in str(result)


# =========================================================================== iso-loss
def test_iso_loss_curve(rounded):
    target = 2.0
    curve = X.iso_loss_curve(rounded, target, n_points=40)
    assert curve.N.shape == (40,)
    np.testing.assert_allclose(rounded.predict(N=curve.N, D=curve.D), target,
                               rtol=1e-12)
    # by hand: D = (B / (L - E - A/N^alpha))^(1/beta), above N_inf = (A/(L-E))^(1/alpha)
    E, A, B, alpha, beta = ROUNDED.values()
    np.testing.assert_allclose(curve.D,
                               (B / (target - E - A / curve.N ** alpha)) ** (1 / beta))
    assert curve.N_asymptote == pytest.approx((A / (target - E)) ** (1 / alpha))
    # the cheapest point of the curve is the compute-optimal model for that loss
    optimal = X.compute_for_loss(rounded, target)
    assert curve.optimal_C == pytest.approx(optimal.C)
    assert np.all(curve.C >= curve.optimal_C * (1 - 1e-12))
    assert np.all(np.diff(curve.D) < 0)  # more parameters, fewer tokens
    assert list(curve.to_frame().columns) == ["N", "D", "C", "tokens_per_parameter"]


def test_tokens_for_loss_halving_the_model(rounded):
    optimal = X.compute_for_loss(rounded, 2.0)
    half = X.tokens_for_loss(rounded, 2.0, optimal.N / 2)
    assert half.question == "tokens_for_loss"
    assert rounded.predict(N=half.N, D=half.D) == pytest.approx(2.0, rel=1e-12)
    assert half.D > 2 * optimal.D  # half the model needs more than twice the data
    assert half.C > optimal.C
    broadcast = X.tokens_for_loss(rounded, np.array([[2.0], [2.1]]), [1e10, 2e10, 4e10])
    assert broadcast.D.shape == (2, 3)
    with pytest.raises(InputError, match="cannot reach `target_loss`"):
        X.tokens_for_loss(rounded, 2.0, 1e8)
    with pytest.raises(InputError, match="must all exceed"):
        X.iso_loss_curve(rounded, 2.0, N=[1e8, 1e10])


def test_tokens_for_loss_generic_law_and_infinite_draws(kaplan, besiroglu):
    result = X.tokens_for_loss(kaplan, 2.4, 1e9)
    assert KaplanND().predict(KAPLAN, N=1e9, D=result.D) == pytest.approx(2.4, rel=1e-12)
    curve = X.iso_loss_curve(kaplan, 2.4, n_points=10)
    np.testing.assert_allclose(KaplanND().predict(KAPLAN, N=curve.N, D=curve.D), 2.4,
                               rtol=1e-10)
    # under some draws a small model cannot reach the loss at all: an infinite upper bound
    asymptote = X.iso_loss_curve(besiroglu, 2.0, n_points=2).N_asymptote
    draws = X.tokens_for_loss(besiroglu, 2.0, 1.2 * asymptote,
                              draws=perturbed_draws(BESIROGLU, 0.02, n=200))
    assert draws.n_failed_draws > 0 and draws.interval("D")[1] == np.inf


# =========================================================================== inference-aware
def test_inference_optimal_first_order_condition(rounded):
    E, A, B, alpha, beta = ROUNDED.values()
    demand = np.array([1e11, 1e12, 1e13, 1e14])
    result = X.inference_optimal(rounded, 2.0, demand)
    N, D = result.N, result.D
    np.testing.assert_allclose(rounded.predict(N=N, D=D), 2.0, rtol=1e-12)
    # Sardana et al. 2024 Lagrangian with k = 6, k_inf = 2 (sheet §7):
    # alpha A N^-alpha = beta B D^-beta (1 + D_inf / (3 D))
    np.testing.assert_allclose(alpha * A * N ** -alpha,
                               beta * B * D ** -beta * (1 + demand / (3 * D)), rtol=1e-6)
    assert np.all(np.diff(N) < 0) and np.all(np.diff(D / N) > 0)  # smaller, longer-trained
    assert np.all(result.saving > 0) and np.all(np.diff(result.saving_fraction) > 0)
    np.testing.assert_allclose(result.total_compute,
                               6 * N * D + 2 * N * demand, rtol=1e-12)
    np.testing.assert_allclose(result.chinchilla_total_compute - result.total_compute,
                               result.saving, rtol=1e-9)


def test_inference_optimal_without_inference_is_compute_optimal(rounded, kaplan):
    result = X.inference_optimal(rounded, [2.0, 2.2], 0.0)
    optimal = X.compute_for_loss(rounded, [2.0, 2.2])
    np.testing.assert_allclose(result.N, optimal.N, rtol=1e-6)
    np.testing.assert_allclose(result.D, optimal.D, rtol=1e-6)
    np.testing.assert_allclose(result.saving, 0.0, atol=1e-6 * optimal.C.max())
    # Kaplan's law, solved fully numerically, too
    generic = X.inference_optimal(kaplan, 2.4, 0.0)
    assert generic.N == pytest.approx(X.compute_for_loss(kaplan, 2.4).N, rel=1e-5)


def test_inference_optimal_beats_nearby_models(rounded):
    result = X.inference_optimal(rounded, 2.0, 1e13)
    sizes = result.N * np.geomspace(0.8, 1.25, 1001)
    tokens = X.tokens_for_loss(rounded, 2.0, sizes).D
    assert result.total_compute <= np.min(6 * sizes * tokens + 2 * sizes * 1e13) * (1 + 1e-12)


def test_inference_optimal_intervals(besiroglu):
    result = X.inference_optimal(besiroglu, 2.0, 1e13, draws=perturbed_draws(BESIROGLU, 0.01))
    low, high = result.interval("N")
    assert low < result.N < high
    assert json.dumps(result.to_dict(), allow_nan=False)


# =========================================================================== shapes and export
def test_compute_optimal_keeps_input_shape_and_exports(rounded):
    budgets = np.array([[1e20, 1e21], [1e22, 1e23]])
    result = X.compute_optimal(rounded, budgets, draws=perturbed_draws(ROUNDED, 0.01, n=50))
    assert result.N.shape == (2, 2) and result.interval("N")[0].shape == (2, 2)
    frame = result.to_frame()
    assert len(frame) == 4 and {"N_low", "N_high", "at_search_edge"} <= set(frame)
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["question"] == "compute_optimal" and document["n_draws"] == 50
    assert np.shape(document["intervals"]["D"]["low"]) == (2, 2)
    assert isinstance(X.compute_optimal(rounded, 1e21).N, float)


def test_critical_batch_size_is_reexported():
    from scalinglaws.laws.flops import critical_batch_size

    assert X.critical_batch_size is critical_batch_size


# =========================================================================== bad arguments
def test_bad_fit_and_params(rounded):
    with pytest.raises(InputError, match="`fit` must be a FitResult"):
        X.compute_optimal(object(), 1e21)
    with pytest.raises(InputError, match="must all be finite"):
        X.compute_optimal(law(Chinchilla(), **dict(ROUNDED, A=float("nan"))), 1e21)
    with pytest.raises(InputError, match="alpha, beta > 0"):
        X.compute_optimal(law(Chinchilla(), **dict(ROUNDED, alpha=0.0)), 1e21)
    with pytest.raises(InputError, match="single input|needs a law in both N and D"):
        X.compute_optimal(law(PowerLaw("N"), N_c=8.8e13, alpha_N=0.076), 1e21)
    with pytest.raises(InputError, match="chinchilla form"):
        X.chinchilla_frontier(law(KaplanND(), **KAPLAN))
    # a data-constrained law is pointed at the allocation that takes its U
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023

    constrained = FitResult.from_params("data_constrained", MUENNIGHOFF_2023["params"])
    with pytest.raises(InputError, match="data_constrained_optimal .*--U"):
        X.compute_optimal(constrained, 1e21)


@pytest.mark.parametrize("kwargs, match", [
    (dict(compute=-1.0), "`compute` must be positive"),
    (dict(compute=float("nan")), "`compute` must be finite"),
    (dict(compute="1e21 FLOP"), "`compute` must be a number"),
    (dict(compute=[]), "`compute` must not be empty"),
    (dict(flops_per_token=0.0), "`flops_per_token` must be positive"),
    (dict(flops_per_token=[6.0, 8.0]), "`flops_per_token` must be a single number"),
    (dict(method="newton"), "`method` must be one of"),
    (dict(flops="6ND"), "`flops` must be a callable"),
    (dict(flops=lambda N, D: -N), "`flops\\(N, D\\)` must return"),
    (dict(flops=lambda N, D: 6 * N * D, method="closed_form"), "user `flops` function"),
    (dict(tokens_per_parameter_bounds=(10, 1)), "`tokens_per_parameter_bounds`"),
    (dict(tokens_per_parameter_bounds=5), "`tokens_per_parameter_bounds`"),
    (dict(draws=np.ones((3, 4))), "`draws` must have shape \\(n_draws, 5\\)"),
    (dict(draws=np.ones(5)), "`draws` must have shape"),
    (dict(draws=[["a"] * 5]), "`draws` must be a numeric"),
    (dict(draws=pd.DataFrame({"E": [1.7]})), "`draws` lacks column"),
    (dict(confidence_level=1.0), "`confidence_level` must be in \\(0, 1\\)"),
    (dict(confidence_level="high"), "`confidence_level` must be a number"),
])
def test_compute_optimal_bad_arguments(rounded, kwargs, match):
    kwargs = dict(dict(compute=1e21), **kwargs)
    with pytest.raises(InputError, match=match):
        X.compute_optimal(rounded, **kwargs)


def test_closed_form_unavailable_for_other_laws(kaplan):
    with pytest.raises(InputError, match="closed_form.*kaplan_nd"):
        X.compute_optimal(kaplan, 1e21, method="closed_form")
    with pytest.raises(InputError, match="closed_form"):
        X.compute_for_loss(kaplan, 2.5, method="closed_form")


def test_other_bad_arguments(rounded):
    with pytest.raises(InputError, match="C .FLOP. is used to derive the one of N and D not "
                                         "given"):
        X.predict(rounded, N=1e9, D=1e10, C=1e20)  # C beside both: which one was meant?
    with pytest.raises(InputError, match="missing D"):
        X.predict(rounded, N=1e9)
    with pytest.raises(InputError, match="`N` must be positive"):
        X.diagnose(rounded, -1.0, 1e10)
    with pytest.raises(InputError, match="`D` must be finite"):
        X.diagnose(rounded, 1e9, float("inf"))
    with pytest.raises(InputError, match="do not broadcast"):
        X.diagnose(rounded, [1e9, 2e9], [1e10, 2e10, 3e10])
    with pytest.raises(InputError, match="`n_points` must be an integer"):
        X.iso_loss_curve(rounded, 2.0, n_points=1)
    with pytest.raises(InputError, match="single number for one curve"):
        X.iso_loss_curve(rounded, [2.0, 2.1])
    with pytest.raises(InputError, match="`inference_tokens` must be non-negative"):
        X.inference_optimal(rounded, 2.0, -1.0)
    with pytest.raises(InputError, match="`inference_flops_per_token` must be positive"):
        X.inference_optimal(rounded, 2.0, 1e12, inference_flops_per_token=0)
    with pytest.raises(InputError, match="irreducible"):
        X.inference_optimal(rounded, 1.6, 1e12)
    with pytest.raises(InputError, match="irreducible"):
        X.tokens_for_loss(rounded, 1.69, 1e10)
    with pytest.raises(InputError, match="pass `draws`"):
        X.compute_optimal(rounded, 1e21).interval("N")


def test_former_names_still_work_and_warn(rounded):
    result = X.compute_optimal(rounded, 1e21)
    with pytest.warns(FutureWarning, match="`n_params` is now `N`"):
        assert result.n_params == result.N
    with pytest.warns(ScalingLawsDeprecationWarning, match="tokens_per_param_bounds"):
        X.compute_optimal(rounded, 1e21, tokens_per_param_bounds=(1, 1e4))
    with pytest.warns(ScalingLawsDeprecationWarning, match="`n_params` is now `N`"):
        assert X.diagnose(rounded, n_params=1e9, D=2e10).N == 1e9
    with pytest.raises(InputError, match="not also"):
        X.tokens_for_loss(rounded, 2.0, 1e9, n_params=1e9)
