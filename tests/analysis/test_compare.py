"""Comparisons between groups (scalinglaws.analysis.compare, compare_isoflop, _compare_stats).

Checked against independent truths: statsmodels' Holm correction, the two-group z test,
synthetic groups with a known effective-compute multiplier (noise-free exactly; with
noise, the coverage of the 95% interval in simulation), the false-positive rate of the
shared-exponent test in simulation, a brute-force allocation with scipy, and Porian et
al.'s settings (the Kaplan-style and the tuned setting's published exponents, 0.835 and
0.497, differ)."""

import json
from pathlib import Path
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize as sopt
from scipy import stats

import scalinglaws as sl
from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.analysis._compare_stats import (compared_pairs, difference, holm,
                                                 wald_heterogeneity)
from scalinglaws.analysis.compare import (Comparison, _shared_test, compare,
                                          effective_compute_multiplier)
from scalinglaws.fitting.isoflop import isoflop_fit
from scalinglaws.laws.synthetic import DEFAULT_TRUTH, generate_sweep
from scalinglaws.uncertainty.grouped import bootstrap_groups
from coverage_checks import band, check_readme_counts, readme_words

TRUTH = DEFAULT_TRUTH["chinchilla"]
KAPLAN = "rw/base/long/kaplan/kaplan/train"
TUNED = "rw/tuned/short/const/standard/val"


def doubled(truth=TRUTH, factor=2.0):
    """The law of a recipe worth ``factor`` times the compute: L*_B(C) = L*_A(factor C).

    Scaling A and B by s keeps G (the allocation) and scales K by s, and
    L* = E + K (C/6)^-gamma, so s = factor^-gamma."""
    gamma = truth["alpha"] * truth["beta"] / (truth["alpha"] + truth["beta"])
    s = factor ** -gamma
    return dict(truth, A=truth["A"] * s, B=truth["B"] * s)


def two_recipes(rng, noise=0.01, better=None):
    return pd.concat([generate_sweep(params=TRUTH, noise=noise, rng=rng).to_frame()
                      .assign(recipe="A"),
                      generate_sweep(params=better or doubled(), noise=noise, rng=rng)
                      .to_frame().assign(recipe="B")], ignore_index=True)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        return function(*args, **kwargs)


# ----------------------------------------------------------------------------- statistics
def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(0, 0.2, 30) ** 2
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    assert np.isnan(holm([0.01, np.nan])[1]) and holm([0.01, np.nan])[0] == 0.01


def test_wald_test_of_two_groups_is_the_z_test():
    out = wald_heterogeneity(np.array([[0.31], [0.37]]), np.array([[[0.02**2]], [[0.015**2]]]))
    z = 0.06 / math.hypot(0.02, 0.015)
    assert out["statistic"] == pytest.approx(z * z, rel=1e-12) and out["df"] == 1
    assert out["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)
    row = difference(0.06, None, 0.95, se=math.hypot(0.02, 0.015))
    assert row["p_value"] == pytest.approx(out["p_value"], rel=1e-10)
    assert row["high"] - row["low"] == pytest.approx(2 * 1.959964 * math.hypot(0.02, 0.015),
                                                     rel=1e-6)


def test_compared_pairs_are_one_choice_for_both_approaches():
    """The reference and the pairs of compare and compare_isoflop: by hand for three groups."""
    groups = ("a", "b", "c")
    assert compared_pairs(groups, None, "reference", "recipe") == ("a", [("b", "a"), ("c", "a")])
    assert compared_pairs(groups, "b", "reference", "recipe") == ("b", [("a", "b"), ("c", "b")])
    assert compared_pairs(groups, "b", "all", "recipe") == ("b", [("b", "a"), ("c", "a"),
                                                                  ("c", "b")])
    with pytest.raises(InputError, match=r"`reference` 'z' is not a group of column 'recipe'; "
                                         r"groups: \['a', 'b', 'c'\]"):
        compared_pairs(groups, "z", "reference", "recipe")
    with pytest.raises(InputError, match="a comparison needs at least two groups"):
        compared_pairs(("a",), None, "reference", "recipe")


# ----------------------------------------------------------------------------- multipliers
@pytest.fixture(scope="module")
def exact():
    """Two noise-free recipes, B worth twice A's compute."""
    frame = two_recipes(0, noise=0.0)
    return frame, quiet(compare, frame, "A", groups="recipe", budgets=[1e19, 1e21, 1e23],
                        losses=[2.3, 2.0], n_resamples=20, rng=0)


def test_noise_free_multiplier_is_two_everywhere(exact):
    _, result = exact
    table = result.table_multipliers
    assert list(table["group"]) == ["B"] * 5 and list(table["at"]) == ["C"] * 3 + ["loss"] * 2
    np.testing.assert_allclose(table["multiplier"], 2.0, rtol=1e-5)
    np.testing.assert_allclose(table[["multiplier_low", "multiplier_high"]], 2.0, rtol=1e-5)
    differences = result.table_differences
    np.testing.assert_allclose(differences["difference"], 0.0, atol=1e-6)


def test_multiplier_matches_a_brute_force_allocation(exact):
    # C_ref for B's loss, solved with scipy on the fitted laws (not the package's solvers)
    _, result = exact
    fit = result.fit

    def frontier_loss(params, compute):
        law = lambda log_n: (params["E"] + params["A"] * np.exp(-params["alpha"] * log_n)
                             + params["B"] * (compute / (6 * np.exp(log_n))) ** -params["beta"])
        return sopt.minimize_scalar(law, bounds=(5, 40), method="bounded",
                                    options={"xatol": 1e-12}).fun

    budget = 1e21
    target = frontier_loss(fit["B"].params, budget)
    needed = math.exp(sopt.brentq(lambda log_c: frontier_loss(fit["A"].params,
                                                              math.exp(log_c)) - target,
                                  math.log(1e19), math.log(1e24), xtol=1e-12))
    out = effective_compute_multiplier(fit, "B", "A", compute=[budget])
    assert out["multiplier"][0] == pytest.approx(needed / budget, rel=1e-6)


def test_draw_counts_are_per_budget_and_infinite_draws_are_not_failures():
    # B's floor E is 0.1 below A's: at 1e26 FLOP B reaches losses A never does in some
    # draws (an infinite multiplier, kept in the interval); at 1e21 none. One count for
    # every budget once called 1e21's draws failed because 1e26's were infinite.
    rng = np.random.default_rng(5)
    frame = two_recipes(rng, better=dict(TRUTH, E=TRUTH["E"] - 0.1))
    joint = quiet(sl.fit, frame, "chinchilla", groups="recipe")
    draws = quiet(bootstrap_groups, joint, frame, 100, rng=rng)
    # 1e26 FLOP is far beyond the groups' runs (each group's law keeps its runs' range)
    with pytest.warns(sl.ExtrapolationWarning, match="largest compute"):
        both = effective_compute_multiplier(joint, "B", "A", compute=[1e21, 1e26], draws=draws)
    alone = effective_compute_multiplier(joint, "B", "A", compute=[1e21], draws=draws)
    assert both["n_failed_draws"].tolist() == [0, 0]
    assert both["n_infinite_draws"][0] == 0 and both["n_infinite_draws"][1] > 5
    assert np.isinf(both["high"][1]) and np.isfinite(both["high"][0])
    assert both["high"][0] == alone["high"][0] and alone["n_infinite_draws"].tolist() == [0]


def test_shared_exponents_give_one_multiplier_at_every_budget():
    frame = two_recipes(1)
    result = quiet(compare, frame, "A", groups="recipe", shared=["E", "alpha", "beta"],
                   budgets=[1e19, 1e22, 1e25], n_resamples=40, rng=1)
    table = result.table_multipliers
    assert table["multiplier"].nunique() == 1 or np.ptp(table["multiplier"]) < 1e-9
    assert result.fit.shared == ("E", "alpha", "beta") and result.separate.shared == ()
    assert "shared by every group" in result.notes[0]


@pytest.mark.slow
def test_multiplier_interval_covers_the_truth_at_the_nominal_rate():
    # 200 simulated pairs of sweeps (1% noise), B worth 2x A's compute; E, alpha, beta
    # shared; 200 resamples each. README: 195 of 200 (97.5%); Monte Carlo SE of a 95%
    # rate over 200 sets is 1.5 points: 181-199 of 200 lie within 3 of them (band(200)).
    covered = 0
    for i in range(200):
        rng = np.random.default_rng(1000 + i)
        frame = two_recipes(rng)
        joint = quiet(sl.fit, frame, "chinchilla", groups="recipe", shared=["E", "alpha", "beta"])
        draws = quiet(bootstrap_groups, joint, frame, 200, rng=rng)
        out = effective_compute_multiplier(joint, "B", "A", compute=[1e21], draws=draws)
        covered += out["low"][0] <= 2.0 <= out["high"][0]
    low, high = band(200)
    assert low <= covered <= high, covered
    check_readme_counts(
        r"In 200 simulated pairs of sweeps where B is A with twice the compute \(1% noise, E, "
        r"alpha, beta shared, 200 resamples each\) the 95% interval contained 2 in (\d+) "
        r"\(97\.5%; within the (\d+)–(\d+) that 3 Monte Carlo standard errors",
        [covered], (low, high))


#: what B (worth twice A's compute) reaches on its true frontier at about 1e21 and 1.3e24
#: FLOP (2.2488 and 1.9431), where the multiplier at the loss is also 2: C*_A(L) =
#: C*_B(L) * 2 since L*_B(C) = L*_A(2 C) (``doubled``)
SEPARATE_LOSSES = (2.25, 1.95)


def test_the_true_multiplier_at_a_loss_is_two():
    # the truth the separate-fit simulation below checks its intervals against, at a budget
    # and at a loss; noise-free laws, so the multiplier's point value is the truth itself
    frame = two_recipes(0, noise=0.0)
    joint = quiet(sl.fit, frame, "chinchilla", groups="recipe", shared=["E", "alpha", "beta"])
    for kwargs in ({"compute": [1e21, 1e24]}, {"loss": list(SEPARATE_LOSSES)}):
        out = quiet(effective_compute_multiplier, joint, "B", "A", **kwargs)
        np.testing.assert_allclose(out["multiplier"], 2.0, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:recipe '.' \\(effective-compute multiplier\\). predicting at up to"
    ":scalinglaws.ExtrapolationWarning")  # 1e24 FLOP and loss 1.95 lie far beyond the runs
def test_separate_fit_multipliers_cover_the_truth_at_the_nominal_rate():
    """``compare`` as the CLI runs it without ``--shared``: separate fits of each recipe,
    200 resamples (runs within each group), percentile intervals of the multiplier at the
    budgets 1e21 and 1e24 FLOP (the runs reach 3e21) and at the losses 2.25 and 1.95, on
    200 simulated pairs of sweeps (1% noise; data set ``i`` from
    ``default_rng(3000 + i)``, the resampling from ``rng=i``) where B is A with twice the
    compute: the true multiplier is 2 at every budget and loss. Each count must lie
    within 3 Monte Carlo standard errors of 95% (181-199 of 200); the README quotes the
    counts, read back here within ``CPU_ROUNDING`` data sets (fits whose last digits
    differ between numpy's SIMD kernels)."""
    held = np.zeros(4, dtype=int)  # 1e21, 1e24, loss 2.25, loss 1.95
    for i in range(200):
        frame = two_recipes(np.random.default_rng(3000 + i))
        result = compare(frame, "A", groups="recipe", budgets=[1e21, 1e24],
                         losses=list(SEPARATE_LOSSES), n_resamples=200, rng=i)
        table = result.table_multipliers
        assert result.fit.shared == () and len(table) == 4
        held += ((table["multiplier_low"] <= 2.0)
                 & (2.0 <= table["multiplier_high"])).to_numpy()
    low, high = band(200)
    assert all(low <= count <= high for count in held), held.tolist()
    check_readme_counts(
        r"From separate fits \(the default; the CLI without `--shared`\), in 200 "
        r"other simulated pairs .*? it held 2 in (\d+) and (\d+) of 200 at "
        r"1e21 and 1e24 FLOP and in (\d+) and (\d+) at the losses 2\.25 and "
        r"1\.95, each within the (\d+)–(\d+) that 3 Monte Carlo standard errors "
        r"allow", held.tolist(), (low, high))


@pytest.mark.slow
def test_shared_exponent_test_keeps_its_false_positive_rate():
    # 200 pairs of sweeps from one law: the Wald test at level 0.05 rejects 13 (6.5%);
    # binomial(200, 0.05) puts 99% of counts in 3..19.
    rejected = 0
    for i in range(200):
        rng = np.random.default_rng(1000 + i)
        frame = pd.concat([generate_sweep(params=TRUTH, rng=rng).to_frame().assign(recipe=g)
                           for g in "AB"], ignore_index=True)
        separate = quiet(sl.fit, frame, "chinchilla", groups="recipe")
        draws = quiet(bootstrap_groups, separate, frame, 200, rng=rng)
        rejected += _shared_test(separate, draws, ("alpha", "beta"), 0.95, separate)["rejected"]
    assert rejected == 13
    assert 3 <= rejected <= 19


def test_different_exponents_are_told_apart():
    steeper = dict(TRUTH, alpha=0.45)
    frame = two_recipes(2, noise=0.005, better=steeper)
    result = quiet(compare, frame, "A", groups="recipe", n_resamples=100, rng=2)
    row = result.table_differences.query("quantity == 'alpha'").iloc[0]
    assert row["difference_low"] > 0 and row["differs"]
    assert row["difference"] == pytest.approx(0.45 - TRUTH["alpha"], abs=4 * row["se"])
    assert result.test["rejected"] and result.test["df"] == 2


# ----------------------------------------------------------------------------- the result
@pytest.fixture(scope="module")
def three():
    frame = pd.concat([generate_sweep(rng=i).to_frame().assign(recipe=name)
                       for i, name in enumerate(["base", "new", "other"])], ignore_index=True)
    return frame, quiet(compare, frame, "base", groups="recipe", n_resamples=30, rng=5,
                        pairs="all")


def test_tables_json_and_reproducibility(three, tmp_path):
    frame, result = three
    assert isinstance(result, Comparison) and result.groups == ("base", "new", "other")
    differences = result.table_differences
    assert len(differences) == 3 * 4  # three pairs, alpha beta a b
    for name, block in differences.groupby("quantity"):
        np.testing.assert_allclose(block["p_adjusted"], holm(block["p_value"]))
    doc = json.loads(result.to_json())
    assert doc["kind"] == "scalinglaws.comparison" and doc["correction"] == "holm"
    assert doc["fit"]["n_groups"] == 3
    again = quiet(compare, frame, "base", groups="recipe", n_resamples=30, rng=5, pairs="all")
    assert again.to_json() == result.to_json()
    path = tmp_path / "comparison.json"
    result.save(path)
    assert json.loads(path.read_text())["reference"] == "base"
    assert "p-values adjusted by holm" in result.summary()
    with pytest.raises(TypeError):
        result.test["p_value"] = 0.0


def test_tables_say_what_their_intervals_are_as_every_result_table(three):
    """Before, the comparison's tables had no attrs, and its document named the method
    ``options.interval`` with no ``schema_version``."""
    frame, result = three  # 30 resamples of runs within groups, at the default level
    expected = {"interval": "confidence", "method": "bootstrap percentile, runs resampled "
                "within groups", "confidence_level": 0.95, "n_resamples": 30}
    for table in (result.table_estimates, result.table_differences, result.table_multipliers):
        assert table.attrs == expected
    doc = json.loads(result.to_json())
    assert (doc["kind"], doc["schema_version"]) == ("scalinglaws.comparison", 1)
    assert doc["package_version"] == sl.__version__
    assert doc["options"]["method"] == expected["method"] and "interval" not in doc["options"]
    # Approach 2 without resampling: t intervals from the regressions' standard errors
    grouped = quiet(isoflop_fit, frame, groups="recipe", budget="budget")
    isoflop = compare(grouped, "base", budgets=[1e21], confidence_level=0.9)
    attrs = isoflop.table_multipliers.attrs
    assert (attrs["interval"], attrs["confidence_level"], attrs["n_resamples"]) == (
        "confidence", 0.9, 0)
    assert attrs["method"].startswith("t, regression standard errors")


def test_a_grouped_fit_with_its_bootstrap(three):
    frame, _ = three
    separate = quiet(sl.fit, frame, "chinchilla", groups="recipe")
    draws = quiet(bootstrap_groups, separate, frame, 30, rng=3)
    result = compare(separate, "new", bootstrap=draws, budgets=[1e21])
    assert result.draws is draws and result.reference == "new"
    with pytest.raises(InputError, match="`runs` are needed"):
        compare(separate, "new")


@pytest.mark.parametrize("kwargs, message", [
    ({"reference": "nope"}, "`reference` 'nope' is not a group of column 'recipe'"),
    ({"n_resamples": 5}, "`n_resamples` must be"),
    ({"pairs": "some"}, "`pairs` must be one of"),
    ({"groups": None}, "`groups` must name the column"),
])
def test_bad_arguments_are_named(three, kwargs, message):
    frame, _ = three
    options = {"reference": "base", "groups": "recipe", "n_resamples": 20, **kwargs}
    with pytest.raises(InputError, match=message):
        compare(frame, options.pop("reference"), **options)


# ----------------------------------------------------------------------------- Approach 2
@pytest.fixture(scope="module")
def porian(shared_dir):
    runs = sl.load_runs(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv",
                        columns={"N": "N"})
    grouped = quiet(isoflop_fit, runs, groups="setting", curve="akima", n_resamples=200,
                    seed_noise=0.005, rng=0)
    return runs, grouped


def test_porian_kaplan_setting_differs_from_the_tuned_one(porian, shared_dir):
    _, grouped = porian
    fits = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_repo_fits.csv")
    published = fits[fits["fit_variant"] == "bs_median_weighted"].set_index("setting")
    result = compare(grouped, TUNED, budgets=[1e19])
    estimates = result.table_estimates.query("quantity == 'a'").set_index("group")
    for setting in grouped.groups:
        # the grouped analysis reproduces each setting's exponent (README: within 0.02)
        assert estimates.loc[setting, "value"] == grouped[setting].a
        assert abs(grouped[setting].a - published.loc[setting, "a_Nopt_exponent"]) < 0.02
    row = result.table_differences.query("quantity == 'a' and group == @KAPLAN").iloc[0]
    # published: 0.835 - 0.497 = 0.338
    assert row["difference"] == pytest.approx(0.835 - 0.497, abs=0.02)
    assert row["difference_low"] > 0 and row["differs"] and row["p_adjusted"] < 1e-6
    assert result.test["rejected"] and result.test["df"] == 14
    assert result.approach == "isoflop" and "dependent" in result.notes[0]


def test_porian_pairs_that_differ_are_the_readme_table(porian):
    _, grouped = porian
    result = compare(grouped, TUNED, pairs="all")
    table = result.table_differences.query("quantity == 'a'")
    assert len(table) == 15 * 14 // 2
    differing = {frozenset(p) for p in result.differing_pairs("a")}
    assert len(differing) == PORIAN_DIFFERING_COUNT
    for pair in PORIAN_SAME:
        assert frozenset(pair) not in differing, pair
    for pair in PORIAN_DIFFER:
        assert frozenset(pair) in differing, pair


def _readme_table(header: str) -> list[list[str]]:
    """The cells of the README table whose header row starts with ``header``, row by row."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index(header)
    lines = readme[start:].splitlines()[2:]  # past the header and the --- row
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.match(r"^\|(.*)\|\s*$", line).group(1)
                     .split("|")])
    return rows


def test_porian_tables_of_the_readme_are_the_comparison(porian):
    """README, Approach 2 by group: every row of the differences from the tuned setting
    (difference [95% interval] at 3 decimals, Holm p at 2 significant digits, differs) and
    every cell of the all-pairs matrix (a [95% interval]; differs after Holm or not), at the
    printed digits. The difference of the Kaplan setting is checked against Porian et al.'s
    published exponents above; these pin the rest of what the README prints."""
    _, grouped = porian
    against_tuned = compare(grouped, TUNED)
    table = against_tuned.table_differences.query("quantity == 'a'").set_index("group")
    rows = _readme_table("| setting | a − a(tuned) [95% interval] | Holm p | differs |")
    assert len(rows) == len(table) == 14
    assert [row[0].strip("`") for row in rows] == sorted(table.index)
    for name, interval, p_value, differs in rows:
        row = table.loc[name.strip("`")]
        assert interval == (f"{row['difference']:+.3f} [{row['difference_low']:+.3f}, "
                            f"{row['difference_high']:+.3f}]"), name
        assert p_value == f"{row['p_adjusted']:.2g}", name
        assert differs == ("yes" if row["differs"] else "no"), name
    # the prose: 0.337 [0.270, 0.425], Holm-adjusted p = 6e-16; all but three differ
    kaplan = table.loc[KAPLAN]
    readme = readme_words()
    assert (f"exceeds the tuned setting's by {kaplan['difference']:.3f} "
            f"[{kaplan['difference_low']:.3f}, {kaplan['difference_high']:.3f}]") in readme
    assert f"Holm-adjusted p = {kaplan['p_adjusted']:.0e}" in readme
    assert (~table["differs"]).sum() == 3 and "all but three settings differ" in readme

    every = compare(grouped, TUNED, pairs="all")
    estimates = every.table_estimates.query("quantity == 'a'").set_index("group")
    pairs = every.table_differences.query("quantity == 'a'")
    differing = {frozenset((g, v)) for g, v, d in zip(pairs["group"], pairs["versus"],
                                                       pairs["differs"]) if d}
    matrix = _readme_table("| | setting | a [95% interval] | 1 | 2 |")
    names = [row[1].strip("`") for row in matrix]
    assert len(matrix) == 15 and names == sorted(estimates.index)
    for i, (number, name, interval, *cells) in enumerate(matrix):
        assert number == str(i + 1)
        value = estimates.loc[names[i]]
        assert interval == (f"{value['value']:.3f} [{value['value_low']:.3f}, "
                            f"{value['value_high']:.3f}]"), name
        assert cells == ["—" if j == i else ("≠" if frozenset((names[i], other)) in differing
                                             else "·") for j, other in enumerate(names)], name
    assert len(differing) == 53 and f"Over all 105 pairs (`--all-pairs`), {len(differing)} differ" \
        in readme


def test_approach_two_without_resampling_uses_standard_errors(porian):
    runs, _ = porian
    subset = runs.select(runs.frame["setting"].isin([KAPLAN, TUNED]).to_numpy())
    grouped = quiet(isoflop_fit, subset, groups="setting", curve="parabola")
    result = compare(grouped, TUNED, budgets=[1e18, 1e19])
    row = result.table_differences.query("quantity == 'a'").iloc[0]
    assert row["se"] == pytest.approx(math.hypot(grouped[KAPLAN].a_se, grouped[TUNED].a_se))
    assert result.n_resamples == 0 and "standard errors" in result.test["method"]
    assert len(result.table_multipliers) == 2


# The README's table (section "Comparing recipes"): with Holm's correction at 0.05 over
# the 105 pairs of Porian et al.'s 15 settings, 53 differ; among those that do not:
PORIAN_DIFFERING_COUNT = 53
PORIAN_SAME = ((KAPLAN, "owt2/base/long/kaplan/kaplan/train"),
               (TUNED, "rw/tuned/short/const/attention/train"),
               (TUNED, "owt2/tuned/short/const/standard/val"),
               ("rw/base/long/kaplan/standard/val", "rw/tuned/long/const/kaplan/train"))
PORIAN_DIFFER = ((KAPLAN, TUNED), ("owt2/base/long/kaplan/kaplan/train",
                                   "owt2/tuned/short/const/standard/val"),
                 ("rw/base/long/kaplan/standard/val", "rw/base/short/chinchilla/standard/val"))


def test_weights_reach_the_fits_and_the_resamples(three):
    frame, _ = three
    frame = frame.assign(w=1.0 + np.arange(len(frame)) % 3)
    result = quiet(compare, frame, "base", groups="recipe", weights="w", n_resamples=20, rng=0)
    part = frame[frame["recipe"] == "new"]
    single = quiet(sl.fit, part.drop(columns=["recipe", "w"]), "chinchilla",
                   weights=part["w"].to_numpy())
    assert result.separate["new"].objective == pytest.approx(single.objective, rel=1e-8)
    assert result.draws.n_resamples == 20


@pytest.mark.slow
def test_approach_two_without_resampling_covers_near_its_level():
    # 400 pairs of sweeps from one law (parabola profiles, no resampling): the difference
    # in a must hold 0 and the N_opt ratio 1. With normal intervals on ~7 df the
    # difference held 91.3% of 600 (an audit); with t on Welch-Satterthwaite df, 382 of
    # 400. The N_opt ratio at the largest budget held 1 in 368 with each line's regression
    # t error alone; 386 since each line takes the minima's own errors where wider.
    n, held, ratio_held = 400, 0, 0
    for i in range(n):
        frame = pd.concat([generate_sweep(rng=7000 + 2 * i).to_frame().assign(recipe="a"),
                           generate_sweep(rng=7001 + 2 * i).to_frame().assign(recipe="b")])
        grouped = quiet(isoflop_fit, frame, groups="recipe", budget="budget")
        result = quiet(sl.compare, grouped, "a")
        row = result.table_differences.query("quantity == 'a'").iloc[0]
        held += row.difference_low <= 0 <= row.difference_high
        ratio = result.table_multipliers.iloc[-1]
        ratio_held += ratio.multiplier_low <= 1 <= ratio.multiplier_high
    for count in (held, ratio_held):
        assert abs(count / n - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / n), count
    assert (held, ratio_held) == (382, 386)  # as the README states


@pytest.mark.slow
def test_parametric_estimates_and_differences_cover_the_truth():
    """120 pairs of sweeps from one law, separate fits, 200 grouped resamples each: the 95%
    intervals of each group's alpha, beta, a, b hold the truth and those of the
    differences hold 0 (they had no coverage test; an audit measured these counts).
    Monte Carlo SE of a 95% rate over 120 pairs: 2.0 points (240 estimates: 1.4)."""
    a_true = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    truth = {"alpha": TRUTH["alpha"], "beta": TRUTH["beta"], "a": a_true, "b": 1 - a_true}
    n, held, estimated = 120, dict.fromkeys(truth, 0), dict.fromkeys(truth, 0)
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        frame = pd.concat([generate_sweep(params=TRUTH, rng=rng).to_frame().assign(recipe=g)
                           for g in "AB"], ignore_index=True)
        separate = quiet(sl.fit, frame, "chinchilla", groups="recipe")
        draws = quiet(bootstrap_groups, separate, frame, 200, rng=rng)
        result = quiet(compare, separate, "A", runs=frame, bootstrap=draws)
        for row in result.differences:
            held[row["quantity"]] += row["difference_low"] <= 0 <= row["difference_high"]
        for row in result.estimates:
            if row["quantity"] in truth:
                estimated[row["quantity"]] += (row["value_low"] <= truth[row["quantity"]]
                                               <= row["value_high"])
    for name in truth:
        assert abs(held[name] / n - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / n), (name, held)
        assert abs(estimated[name] / (2 * n) - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / (2 * n))
    assert held == {"alpha": 115, "beta": 115, "a": 117, "b": 117}  # as the README states
    assert estimated == {"alpha": 232, "beta": 232, "a": 233, "b": 233}


def test_multipliers_use_the_runs_flop_accounting():
    """Runs made with C = 8 N D: the multipliers' allocation spends C = 8 N D (the k the
    runs were loaded with, which the grouped fit records), as an explicit
    flops_per_token=8 does; it used 6 whatever the runs said."""
    frames = [generate_sweep(rng=i, flops_per_token=8.0).to_frame().assign(recipe=name)
              for i, name in enumerate(["base", "new"])]
    runs = sl.load_runs(pd.concat(frames), flops_per_token=8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = compare(runs, "base", groups="recipe", budgets=[1e21], n_resamples=20, rng=0)
        explicit = compare(runs, "base", groups="recipe", budgets=[1e21], n_resamples=20,
                           rng=0, flops_per_token=8.0)
    assert default.options["flops_per_token"] == 8.0
    assert (default.table_multipliers["multiplier"].to_numpy()
            == explicit.table_multipliers["multiplier"].to_numpy()).all()
    # a table given with k: its C and D are derived with it too, not with 6
    table = pd.concat(frames).drop(columns="C")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_table = compare(table, "base", groups="recipe", n_resamples=20, rng=0,
                             flops_per_token=8.0)
    assert from_table.table_multipliers["C"].iloc[0] == pytest.approx(
        8.0 * (runs.N * runs.D).max(), rel=1e-12)
    with pytest.raises(InputError, match="flops_per_token"):
        compare(runs, "base", groups="recipe", n_resamples=20, flops_per_token=6.0)


def test_a_warning_about_the_runs_is_given_once_with_shared_parameters():
    """With ``shared`` the runs are fitted twice (each group alone, then jointly): a
    table of seeds (run_id repeats at the same inputs) was announced twice."""
    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "datasets"
                        / "synthetic_chinchilla_sweep.csv")
    rng = np.random.default_rng(0)
    seeds = pd.DataFrame([dict(run_id=f"config{i}", N=r.N, D=r.D, C=r.C,
                               loss=r.loss * np.exp(rng.normal(0, 0.005)),
                               recipe="ab"[i % 2])
                          for i, r in frame.iterrows() for _ in range(2)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(seeds, "a", groups="recipe", shared=["alpha", "beta"], n_resamples=20, rng=0)
    replicas = [w for w in caught if "share their run_id" in str(w.message)]
    assert len(replicas) == 1 and replicas[0].filename == __file__


def test_multiplier_with_draws_false_has_no_interval_as_without_draws():
    # draws=False (the package's "no intervals") raised AttributeError: 'bool' object has
    # no attribute 'draws'
    frame = two_recipes(0, noise=0.0)
    joint = quiet(sl.fit, frame, "chinchilla", groups="recipe")
    plain = effective_compute_multiplier(joint, "B", "A", compute=[1e21])
    off = effective_compute_multiplier(joint, "B", "A", compute=[1e21], draws=False)
    assert off["multiplier"] == pytest.approx(plain["multiplier"], rel=1e-12)
    assert np.isnan(off["low"]).all() and np.isnan(off["high"]).all()
    with pytest.raises(InputError, match=r"`draws` must be None .*got True"):
        effective_compute_multiplier(joint, "B", "A", compute=[1e21], draws=True)
