"""Approach 2 by group (scalinglaws.fitting.isoflop_groups): isoflop_fit(runs, groups=...).

Checks on Porian et al.'s 15 settings: each group's result is the fit of that group
alone; the exponents table; the stacked budgets; JSON; independent, reproducible random
streams per group; resampled exponents a comparison can use; errors name the group."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.fitting.isoflop import isoflop_fit
from scalinglaws.fitting.isoflop_groups import EXPONENT_COLUMNS, GroupedIsoFLOPResult

KAPLAN = "rw/base/long/kaplan/kaplan/train"
TUNED = "rw/tuned/short/const/standard/val"


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def porian(shared_dir):
    path = shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv"
    return sl.load_runs(path, columns={"N": "N"})  # `param_count` is also an alias of N


@pytest.fixture(scope="module")
def published(shared_dir):
    fits = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_repo_fits.csv")
    return fits[fits["fit_variant"] == "bs_median_weighted"].set_index("setting")


@pytest.fixture(scope="module")
def grouped(porian):
    return quiet(isoflop_fit, porian, groups="setting", curve="akima")


def test_each_group_is_the_fit_of_that_group_alone(grouped, porian, published):
    assert isinstance(grouped, GroupedIsoFLOPResult) and grouped.group_column == "setting"
    assert len(grouped) == 15 and grouped.groups == tuple(sorted(published.index))
    assert grouped.n_runs == len(porian) == sum(r.n_runs for r in grouped.results.values())
    for setting, runs in porian.groupby("setting"):
        alone = quiet(isoflop_fit, runs, curve="akima")
        assert grouped[setting].a == alone.a and grouped[setting].b == alone.b, setting
        pd.testing.assert_frame_equal(grouped[setting].budgets, alone.budgets)
        # reproduces each setting's published exponent as the single fits do (README: 0.02)
        assert abs(grouped[setting].a - published.loc[setting, "a_Nopt_exponent"]) < 0.02


def test_exponents_table(grouped):
    table = grouped.exponents
    assert list(table.columns) == list(EXPONENT_COLUMNS)
    assert list(table["group"]) == list(grouped.groups)
    for row in table.itertuples():
        result = grouped[row.group]
        assert (row.a, row.a_low, row.a_high, row.a_se) == (result.a, *result.a_interval,
                                                            result.a_se)
        assert (row.b, row.b_low, row.b_high) == (result.b, *result.b_interval)
        assert row.n_budgets_used == result.n_budgets_used
        assert math.isnan(row.a_bootstrap_low)  # no resampling asked
    table.loc[0, "a"] = 0.0
    assert grouped.exponents.loc[0, "a"] != 0.0  # a new table each time
    with pytest.raises(TypeError):
        grouped.results["x"] = None


def test_stacked_budgets_and_json(grouped):
    budgets = grouped.budgets
    assert budgets.columns[0] == "group"
    assert len(budgets) == sum(len(r.budgets) for r in grouped.results.values())
    kaplan = budgets[budgets["group"] == KAPLAN].drop(columns="group").reset_index(drop=True)
    pd.testing.assert_frame_equal(kaplan, grouped[KAPLAN].budgets)
    doc = json.loads(json.dumps(grouped.to_dict(), allow_nan=False))
    assert doc["group_column"] == "setting" and len(doc["groups"]) == 15
    assert doc["groups"][0]["group"] == grouped.groups[0]
    assert doc["exponents"][0]["a"] == pytest.approx(grouped[grouped.groups[0]].a)
    summary = grouped.summary()
    assert "15 groups" in summary and KAPLAN in summary and f"{grouped[KAPLAN].a:.4f}" in summary
    # the summary names its intervals (an audit: '95% interval' for a t interval, and the
    # bootstrap's never shown)
    assert "intervals at 95%: the regression's t interval" in summary
    low, high = grouped[KAPLAN].a_interval
    assert f"[{low:.4f}, {high:.4f}]" in summary
    if grouped[KAPLAN].a_bootstrap_interval is not None:
        low, high = grouped[KAPLAN].a_bootstrap_interval
        assert "bootstrap percentile" in summary and f"[{low:.4f}, {high:.4f}]" in summary


def test_grouped_isoflop_result_pickles(grouped):
    """Its mappings, and its groups' results' mappings, are FrozenDicts (a MappingProxyType
    cannot be pickled): a pickled copy gives the same document and stays read-only."""
    import pickle

    twin = pickle.loads(pickle.dumps(grouped))
    assert json.dumps(twin.to_dict()) == json.dumps(grouped.to_dict())
    pd.testing.assert_frame_equal(twin.exponents, grouped.exponents)
    with pytest.raises(TypeError):
        twin.results["x"] = None
    with pytest.raises(TypeError):
        twin.options["curve"] = "poly"


def test_resampled_exponents_are_independent_per_group_and_reproducible(porian):
    subset = porian.select(porian.frame["setting"].isin([KAPLAN, TUNED]).to_numpy())
    options = {"groups": "setting", "curve": "akima", "n_resamples": 200, "seed_noise": 0.005}
    first = quiet(isoflop_fit, subset, rng=0, **options)
    again = quiet(isoflop_fit, subset, rng=0, **options)
    for setting in (KAPLAN, TUNED):
        np.testing.assert_array_equal(first[setting].a_bootstrap, again[setting].a_bootstrap)
    # the two groups have the same budgets; with a shared stream their noise would coincide
    z_kaplan = first[KAPLAN].log_N_opt_draws - np.log(first[KAPLAN].budgets.loc[
        first[KAPLAN].budgets["used"], "N_opt"].to_numpy())[:, None]
    z_tuned = first[TUNED].log_N_opt_draws - np.log(first[TUNED].budgets.loc[
        first[TUNED].budgets["used"], "N_opt"].to_numpy())[:, None]
    rows = min(len(z_kaplan), len(z_tuned))
    correlation = np.corrcoef(np.nan_to_num(z_kaplan[-rows:]).ravel(),
                              np.nan_to_num(z_tuned[-rows:]).ravel())[0, 1]
    assert abs(correlation) < 4 / math.sqrt(rows * 200)  # 4 SE of a zero correlation
    # what a comparison between groups will use: the difference of resampled exponents
    difference = first[KAPLAN].a_bootstrap - first[TUNED].a_bootstrap
    low, high = np.nanpercentile(difference, [2.5, 97.5])
    assert 0 < low < first[KAPLAN].a - first[TUNED].a < high
    table = first.exponents
    assert table["a_bootstrap_low"].notna().all()


def test_a_group_without_two_usable_budgets_is_named(porian):
    frame = porian.to_frame()
    frame = frame[(frame["setting"] != TUNED) | (frame["C"] == frame["C"].min())]
    with pytest.raises(InputError, match=f"isoflop_fit \\[setting='{TUNED}'\\] needs at "
                                         "least two usable budgets, found"):
        quiet(isoflop_fit, frame, groups="setting", curve="akima")


def test_the_summary_shows_the_bootstrap_intervals_when_resampled():
    frame = pd.concat([sl.generate_sweep(rng=1).to_frame().assign(recipe="a"),
                       sl.generate_sweep(rng=2).to_frame().assign(recipe="b")])
    grouped = quiet(isoflop_fit, frame, groups="recipe", budget="budget", n_resamples=50,
                    rng=0)
    summary = grouped.summary()
    assert "t interval and the bootstrap percentile interval of the resampled minima" in summary
    for group in ("a", "b"):
        low, high = grouped[group].a_bootstrap_interval
        assert f"[{low:.4f}, {high:.4f}]" in summary
