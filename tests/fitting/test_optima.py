"""Power laws through compute-optimal points (scalinglaws.fitting._optima), shared by
Approaches 1 and 2: ``predict_optimal`` in the package's vocabulary, its former column
names as deprecated aliases (issue 10, item 6), and the regression's line intervals.
The regression itself is checked against Porian et al.'s own fit in test_isoflop.py."""

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.fitting._optima import DEPRECATED_COLUMNS, AllocationFrame
from scalinglaws.fitting.isoflop import isoflop_fit

COLUMNS = ["C", "N", "N_low", "N_high", "D", "D_low", "D_high", "tokens_per_parameter"]


@pytest.fixture(scope="module")
def result():
    return isoflop_fit(sl.generate_sweep(rng=0), weighted=True)


def test_predict_optimal_speaks_the_package_vocabulary(result):
    table = result.predict_optimal([1e20, 5.76e23])
    assert list(table.columns) == COLUMNS
    np.testing.assert_allclose(6 * table.N * table.D, table.C, rtol=1e-10)
    np.testing.assert_allclose(table.tokens_per_parameter, table.D / table.N, rtol=1e-12)
    np.testing.assert_allclose(table.N, result.N_coef * table.C ** result.a, rtol=1e-10)
    np.testing.assert_allclose(table.D, result.D_coef * table.C ** result.b, rtol=1e-10)
    assert np.all(table.N_low < table.N) and np.all(table.N < table.N_high)
    assert np.all(table.D_low < table.D) and np.all(table.D < table.D_high)


def test_line_interval_is_the_t_interval_of_the_regression(result):
    # independent reference: statsmodels' own confidence interval of the mean prediction
    import statsmodels.api as sm

    used = result.budgets.loc[result.budgets["used"]]
    x = sm.add_constant(np.log(used["C"].to_numpy()))
    fit = sm.WLS(np.log(used["N_opt"].to_numpy()), x,
                 weights=1 / used["ln_N_opt_se"].to_numpy() ** 2).fit()
    compute = np.array([1e19, 1e22, 1e25])
    frame = fit.get_prediction(sm.add_constant(np.log(compute))).summary_frame(alpha=0.05)
    table = result.predict_optimal(compute)
    np.testing.assert_allclose(np.log(table.N_low), frame["mean_ci_lower"], rtol=1e-10)
    np.testing.assert_allclose(np.log(table.N_high), frame["mean_ci_upper"], rtol=1e-10)
    width = np.log(table.N_high / table.N_low)
    assert width[0] < width[2]  # the interval widens away from the fitted budgets


def test_former_column_names_still_work_with_a_future_warning(result):
    table = result.predict_optimal([1e20, 1e22])
    for old, new in DEPRECATED_COLUMNS.items():
        with pytest.warns(FutureWarning, match=f"column '{old}' of predict_optimal\\(\\) is "
                                               f"now '{new}'"):
            pd.testing.assert_series_equal(table[old], table[new], check_names=False)
        with pytest.warns(FutureWarning):
            np.testing.assert_array_equal(getattr(table, old), table[new])
    with pytest.warns(FutureWarning):
        both = table[["C", "N_opt"]]
    assert list(both.columns) == ["C", "N"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table["N"], table.D, table[["C", "D"]]  # current names: no warning
    with pytest.raises(AttributeError):
        table.not_a_column  # noqa: B018
    derived = table.head(1)
    assert type(derived) is pd.DataFrame and isinstance(table, AllocationFrame)


def test_isoflop_result_pickles_with_its_mappings_read_only(result):
    """Parallel backends pickle results: the mappings are FrozenDicts (MappingProxyType,
    used before, cannot be pickled), a copy gives the same document and stays read-only."""
    import copy
    import json
    import pickle

    for twin in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert json.dumps(twin.to_dict()) == json.dumps(result.to_dict())
        assert str(twin) == str(result)
        with pytest.raises(TypeError):
            twin.options["weighted"] = False
        with pytest.raises(TypeError):
            twin.regression["N"]["exponent"] = 0.0
    assert dict(result.options)["weighted"] is True  # a plain dict of it, as FrozenDict allows


def test_predict_optimal_validates(result):
    from scalinglaws import InputError

    for bad in ([], [1e20, np.inf], "big", [0.0]):
        with pytest.raises(InputError, match="`compute` must be finite positive FLOP counts"):
            result.predict_optimal(bad)


def test_predict_optimal_says_its_interval_kind_and_method_as_other_allocations(result):
    # compute_optimal's table (and a prediction's) says interval="confidence", and how
    # it was made in attrs["method"]; Approaches 1 and 2 said the method in "interval"
    table = result.predict_optimal([1e22, 1e24])
    assert table.attrs["interval"] == "confidence"
    assert table.attrs["method"].startswith("t interval")
    assert table.attrs["confidence_level"] == 0.95 and table.attrs["flops_per_token"] == 6.0
    resampled = isoflop_fit(sl.generate_sweep(rng=0), curve="parabola", n_resamples=20, rng=1)
    table = resampled.predict_optimal([1e22, 1e24], interval="bootstrap")
    assert (table.attrs["interval"], table.attrs["n_draws"]) == ("confidence", 20)
    assert table.attrs["method"].startswith("bootstrap percentile")
    law = sl.fit(sl.generate_sweep(rng=0))
    assert sl.compute_optimal(law.with_bootstrap(sl.bootstrap(law, sl.generate_sweep(rng=0), 5,
                                                              rng=0)),
                              [1e22]).to_frame().attrs["interval"] == "confidence"


def test_one_finite_draw_is_no_interval():
    # a single resampled draw gave a zero-width "percentile interval" beside the estimate
    from scalinglaws.fitting._optima import percentile_interval

    assert np.isnan(percentile_interval(np.array([0.52, np.nan, np.nan]), 0.95)).all()
    assert percentile_interval(np.array([0.50, 0.54]), 0.95) == pytest.approx((0.501, 0.539))
    resampled = isoflop_fit(sl.generate_sweep(rng=0), n_resamples=2, rng=0)
    lines = np.array(resampled.N_line_bootstrap)
    lines[1] = np.nan  # one of the two resampled lines failed
    import dataclasses

    one = dataclasses.replace(resampled, N_line_bootstrap=lines)
    table = one.predict_optimal([1e22], interval="bootstrap")
    assert table[["N_low", "N_high"]].isna().all(axis=None) and table.attrs["n_draws"] == 1
    assert table[["D_low", "D_high"]].notna().all(axis=None)
