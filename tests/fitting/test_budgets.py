"""IsoFLOP budgets (scalinglaws.fitting._budgets, through isoflop_fit): which runs share a
budget, and the tokens D* of a budget's optimum.

Checks: grouping by equal C within a relative tolerance, by bins of log C and by a budget
column, exactly; logged budgets that differ by 1e-5 relative form one budget (issue 10,
item 6: they used to split into one-run budgets); an error lists identical lines once
with their count; D* follows the runs' own FLOP count when it is not 6ND, or the user's
FLOP model, and the result says which (issue 10, item 6).
"""

import math

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.fitting.isoflop import isoflop_fit
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

TRUTH = DEFAULT_TRUTH["chinchilla"]
A_TRUE = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
CONTEXT_SIZE = 1e7  # N at which attention FLOPs equal the 6N of the weights, below


def optimum(c):
    """The true compute-optimal N at budget ``c`` when C = 6ND (Hoffmann Eq 4)."""
    G = (TRUTH["alpha"] * TRUTH["A"] / (TRUTH["beta"] * TRUTH["B"])) ** (
        1 / (TRUTH["alpha"] + TRUTH["beta"]))
    return G * (np.asarray(c, float) / 6) ** A_TRUE


def exact_frame(budgets=(1e18, 1e19, 1e20, 1e21), n_sizes=9):
    """Runs at exact budgets, sizes optimum/10 to optimum*10, Chinchilla losses."""
    rows = [(n, c) for c in budgets for n in optimum(c) * np.geomspace(0.1, 10, n_sizes)]
    frame = pd.DataFrame(rows, columns=["N", "C"])
    frame["D"] = frame.C / (6 * frame.N)
    frame["loss"] = get_form("chinchilla").predict(TRUTH, N=frame.N.to_numpy(),
                                                   D=frame.D.to_numpy())
    return frame[["N", "D", "C", "loss"]]


def flops_with_attention(N, D):
    """Training FLOP with an attention term: 6 N D (1 + (N0/N)^(1/3)), N0 = 1e7.

    The attention share is 73% at 2.6e7 parameters, 22% at 1e9 and 7% at 2.8e10, a smooth
    stand-in for 6 n_layer n_ctx d_attn per token (Kaplan et al. 2020, Table 1)."""
    N = np.asarray(N, float)
    return 6 * N * np.asarray(D, float) * (1 + (CONTEXT_SIZE / N) ** (1 / 3))


def attention_runs(budgets=(1e19, 1e20, 1e21), n_sizes=9):
    """Runs whose logged C counts attention FLOPs: D = C / flops_with_attention(N, 1)."""
    rows = [(n, c) for c in budgets for n in optimum(c) * np.geomspace(0.1, 10, n_sizes)]
    frame = pd.DataFrame(rows, columns=["N", "C"])
    frame["D"] = frame.C / flops_with_attention(frame.N, 1.0)
    frame["loss"] = get_form("chinchilla").predict(TRUTH, N=frame.N.to_numpy(),
                                                   D=frame.D.to_numpy())
    return frame[["N", "D", "C", "loss"]]


# ----------------------------------------------------------------------------- grouping
def test_grouping_by_bins_and_by_a_budget_column_is_exact():
    generator = np.random.default_rng(0)
    exact = exact_frame()
    by_c = isoflop_fit(exact)
    assert by_c.options["budget"] == "C (equal within 0.001 relative)"
    assert isoflop_fit(exact, budget="C").a == by_c.a
    frame = exact.copy()
    jitter = np.exp(0.02 * generator.standard_normal(len(frame)))  # ±2% in C
    frame["C"] *= jitter
    frame["D"] = frame["C"] / (6 * frame["N"])
    with pytest.raises(InputError, match="`budget`: column 'C' takes 32 distinct values"):
        isoflop_fit(frame)
    # budgets 1 dex apart; bins anchored at the smallest C, edges away from the budgets. The
    # losses are those of the exact budgets, so every minimum is the exact one, and a
    # budget's C is the geometric mean of its runs' jittered C.
    centres = np.exp(pd.Series(np.log(frame["C"])).groupby(np.repeat(np.arange(4), 9)).mean())
    for options in ({"bin_width_dex": 0.35}, {"n_bins": 4}, {"budget": "bin", "n_bins": 4}):
        binned = isoflop_fit(frame, **options)
        assert len(binned.budgets) == 4 and binned.n_budgets_used == 4, options
        assert (binned.budgets["C_spread_dex"] > 0).all()
        np.testing.assert_allclose(binned.budgets["N_opt"], by_c.budgets["N_opt"], rtol=1e-12)
        np.testing.assert_allclose(binned.budgets["C"], centres, rtol=1e-12)
    frame["sweep"] = np.repeat(["a", "b", "c", "d"], 9)
    labelled = isoflop_fit(frame, budget="sweep")
    assert list(labelled.budgets["budget"]) == ["a", "b", "c", "d"]
    assert labelled.options["budget"] == "column 'sweep'"


def test_logged_budgets_differing_by_1e_5_relative_are_one_budget():
    # Issue 10, item 6: logged FLOP counts of the runs of one budget differ slightly (here
    # by up to 1e-5 relative); they used to split into 36 one-run "budgets" and fail.
    exact = exact_frame()
    frame = exact.copy()
    frame["C"] *= 1 + 1e-5 * np.random.default_rng(1).uniform(-1, 1, len(frame))
    assert frame["C"].nunique() == len(frame)
    reference = isoflop_fit(exact)
    for budget in (None, "C"):
        result = isoflop_fit(frame, budget=budget)
        assert len(result.budgets) == 4 and result.n_budgets_used == 4
        assert (result.budgets["n_points"] == 9).all()
        assert (result.budgets["C_spread_dex"] < 1e-5).all()
        # the budgets' C move by under 1e-5 relative: a by under 1e-5 / (spread of ln C)
        assert result.a == pytest.approx(reference.a, abs=1e-5 / np.log(1e3))


def test_budget_rtol_bounds_a_budget_however_dense_its_values():
    # values 0.06% apart chain across 1.2%; a budget spans at most budget_rtol from its
    # smallest C, so they are not merged into one wide "budget"
    frame = exact_frame(budgets=(1e20,), n_sizes=21)
    frame["C"] *= 1 + 6e-4 * np.arange(len(frame))
    frame["D"] = frame["C"] / (6 * frame["N"])
    with pytest.raises(InputError, match="found 0 of 11"):
        isoflop_fit(frame, budget="C")


def test_error_lists_identical_budgets_once_with_their_count():
    # Issue 10, item 6: 20 one-run budgets at the same C used to be listed 20 times.
    frame = exact_frame(budgets=(1e20,), n_sizes=20)
    frame["sweep"] = np.arange(20)
    with pytest.raises(InputError) as error:
        isoflop_fit(frame, budget="sweep")
    message = str(error.value)
    line = ("C=1e+20: too_few_points (1 run (1 distinct size); a budget needs 5 runs and 3 "
            "distinct sizes (min_points= in Python, --min-points on the command line))")
    assert f"found 0 of 20: {line} (x20)" in message
    assert message.count("too_few_points") == 1


def test_excluded_budget_warning_merges_identical_lines():
    frame = pd.concat([exact_frame(budgets=(1e19, 1e20, 1e21)).assign(sweep=-1),
                       exact_frame(budgets=(1e20,), n_sizes=3).assign(sweep=[7, 8, 9])],
                      ignore_index=True)
    frame["sweep"] = np.where(frame["sweep"] < 0, np.log10(frame["C"]).round(), frame["sweep"])
    with pytest.warns(ScalingLawsWarning, match=r"excluded 3 of 6 budgets: C=1e\+20 "
                                                r"\(too_few_points: .*\) \(x3\)$"):
        isoflop_fit(frame, budget="sweep")


# ----------------------------------------------------------------------------- tokens D*
def test_tokens_follow_the_runs_own_flop_count_when_it_is_not_6nd():
    # Issue 10, item 6: logged C includes attention; D* used to be C/(6 N*), off by the
    # attention share (7-73% here). Now D* = C/(k(N*) N*) with k(N) = C/(N D) of the
    # budget's own runs, interpolated linearly in ln N.
    runs = sl.load_runs(attention_runs())
    assert runs.compute_mismatch() > 0.2
    result = isoflop_fit(runs, curve="akima")
    table = result.budgets
    exact = table["C"] / flops_with_attention(table["N_opt"], 1.0)
    # Linear interpolation of ln k between sizes h = ln(10^0.25) apart errs by at most
    # h^2/8 max|d^2 ln k / d (ln N)^2| (the interpolation error bound); computed here.
    log_n = np.linspace(np.log(table["N_min"].min()), np.log(table["N_max"].max()), 20001)
    log_k = np.log(flops_with_attention(np.exp(log_n), 1.0) / np.exp(log_n))
    curvature = np.abs(np.gradient(np.gradient(log_k, log_n), log_n)).max()
    bound = math.log(10 ** 0.25) ** 2 / 8 * curvature
    np.testing.assert_allclose(np.log(table["D_opt"] / exact), 0, atol=bound)
    assert bound < 0.01  # and that bound is small: the old D* was 7-73% off
    assert result.flop_model == "runs" and "runs' own C/(N D)" in result.options["tokens"]
    np.testing.assert_allclose(table["flops_per_token"],
                               table["C"] / (table["N_opt"] * table["D_opt"]), rtol=1e-12)
    assert result.b != pytest.approx(1 - result.a, abs=1e-3)  # k varies with N


def test_tokens_follow_a_user_flop_model_exactly():
    runs = sl.load_runs(attention_runs())
    result = isoflop_fit(runs, curve="akima", flops=flops_with_attention)
    assert result.flop_model == "flops" and "user's FLOP model" in result.options["tokens"]
    table = result.budgets
    np.testing.assert_allclose(table["D_opt"],
                               table["C"] / flops_with_attention(table["N_opt"], 1.0), rtol=1e-12)
    # the user's model and the runs' relation agree to within the interpolation error
    from_runs = isoflop_fit(runs, curve="akima")
    np.testing.assert_allclose(from_runs.budgets["N_opt"], table["N_opt"], rtol=0)
    np.testing.assert_allclose(from_runs.budgets["D_opt"], table["D_opt"], rtol=0.01)


def test_resampled_token_exponent_follows_the_flop_model():
    runs = sl.load_runs(attention_runs())
    result = isoflop_fit(runs, n_resamples=50, rng=0, flops=flops_with_attention)
    draws = result.log_N_opt_draws
    log_c = np.log(result.budgets.loc[result.budgets["used"], "C"].to_numpy())
    log_d = log_c[:, None] - np.log(flops_with_attention(np.exp(draws), 1.0))
    for r in range(3):
        assert result.b_bootstrap[r] == pytest.approx(np.polyfit(log_c, log_d[:, r], 1)[0],
                                                      abs=1e-10)


def test_exact_6nd_runs_keep_the_closed_form():
    result = isoflop_fit(exact_frame())
    assert result.flop_model == "flops_per_token"
    table = result.budgets
    np.testing.assert_array_equal(table["D_opt"], table["C"] / (6 * table["N_opt"]))


def test_flop_model_must_be_usable():
    runs = sl.load_runs(attention_runs())
    with pytest.raises(InputError, match="proportional to D"):
        isoflop_fit(runs, flops=lambda N, D: 6 * N * D + 1e15)
    with pytest.raises(InputError, match="one per run"):
        isoflop_fit(runs, flops=lambda N, D: 1e20)
    with pytest.raises(InputError, match="`flops` failed on the runs' N and D: boom"):
        isoflop_fit(runs, flops=lambda N, D: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.warns(ScalingLawsWarning, match="differs from the runs' logged C by up to"):
        isoflop_fit(runs, flops=lambda N, D: 6 * N * D)
