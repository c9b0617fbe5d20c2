"""Tests of uncertainty/bootstrap_result.py: the methods of a BootstrapResult check
their arguments up front and give what a hand calculation over the draws gives.

The results here are built from given draws (no fit), so every expected value is a
formula evaluated by hand on those draws: Hoffmann et al. (2022) Eq. 2 for the loss and
Eq. 4 for the compute-optimal ratio D_opt/N_opt.
"""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.published import HOFFMANN_2022_ROUNDED
from scalinglaws.uncertainty.bootstrap_result import BootstrapResult

NAMES = ("E", "A", "B", "alpha", "beta")


@pytest.fixture(scope="module")
def boot():
    form = get_form("chinchilla")
    assert tuple(form.param_names) == NAMES
    rng = np.random.default_rng(0)
    centre = np.array([HOFFMANN_2022_ROUNDED[n] for n in NAMES])
    draws = centre * np.exp(rng.normal(0.0, [0.02, 0.1, 0.1, 0.02, 0.02], size=(200, 5)))
    return BootstrapResult(form=form, point=dict(HOFFMANN_2022_ROUNDED), draws=draws,
                           objectives=np.zeros(len(draws)), n_resamples=200, n_failed=0,
                           n_best_start_changed=0, confidence_level=0.9)


def _quantiles(values, level=0.9):
    return tuple(np.quantile(values, [(1 - level) / 2, (1 + level) / 2]))


def _loss(p, N, D):  # Hoffmann et al. (2022) Eq. 2
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


def _ratio(p, C, k=6.0):  # Eq. 4: D_opt/N_opt = G^-2 (C/k)^(b - a)
    a = p["beta"] / (p["alpha"] + p["beta"])
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    return G ** -2 * (C / k) ** (1 - 2 * a)


def _columns(boot):
    return {n: boot.draws[:, i] for i, n in enumerate(NAMES)}


# --------------------------------------------------------------------------- interval
def test_interval_takes_a_parameter_name(boot):
    """A reviewer's D3: ``boot.interval("E")`` raised "'str' object is not callable"."""
    for name in NAMES:
        estimate, low, high = boot.interval(name)
        assert estimate == HOFFMANN_2022_ROUNDED[name]
        assert (low, high) == boot.intervals[name]
        assert (low, high) == pytest.approx(_quantiles(boot.draws[:, NAMES.index(name)]),
                                            rel=1e-12)
    assert boot.interval("alpha") == boot.interval(lambda p: p["alpha"])
    assert boot.interval("E", confidence_level=0.5)[1] > boot.interval("E")[1]


@pytest.mark.parametrize("statistic, match", [
    ("G", r"`statistic` must be a parameter of form 'chinchilla' \(E, A, B, alpha, beta\)"),
    (3, "`statistic` must be a parameter name or a callable"),
    (None, "`statistic` must be a parameter name or a callable"),
    (["E"], "`statistic` must be a parameter name or a callable"),
])
def test_interval_refuses_anything_else_naming_the_argument(boot, statistic, match):
    with pytest.raises(InputError, match=match):
        boot.interval(statistic)


# --------------------------------------------------------------------------- predict
def test_predict_is_the_loss_law_over_the_draws(boot):
    prediction = boot.predict(N=7e10, D=1.4e12)
    assert prediction.loss == pytest.approx(_loss(HOFFMANN_2022_ROUNDED, 7e10, 1.4e12),
                                            rel=1e-12)
    assert (prediction.low, prediction.high) == pytest.approx(
        _quantiles(_loss(_columns(boot), 7e10, 1.4e12)), rel=1e-12)
    assert all(type(v) is float for v in (prediction.loss, prediction.low, prediction.high))
    # text quantities and one-element arrays are one point too
    again = boot.predict(N="70B", D=np.array([1.4e12]))
    assert (again.loss, again.low, again.high) == (prediction.loss, prediction.low,
                                                   prediction.high)
    assert again.inputs == {"N": 7e10, "D": 1.4e12}


def _law():
    from scalinglaws import FitResult

    return FitResult.from_params("chinchilla", HOFFMANN_2022_ROUNDED)


def test_predict_returns_the_prediction_that_sl_predict_returns(boot):
    """A reviewer's finding: ``boot.predict`` gave a bare tuple where ``sl.predict`` gives a
    ``Prediction`` (``loss``, ``low``, ``high``, ``bounds``, the interval's kind and level,
    ``to_frame``). For the percentile method both are the percentiles of the loss over
    the same draws, so they agree to the last digit."""
    import pandas as pd

    import scalinglaws as sl
    from scalinglaws.analysis.results import Prediction

    mine = boot.predict(N=7e10, D=1.4e12)
    theirs = sl.predict(_law().with_bootstrap(boot), N=7e10, D=1.4e12)
    assert isinstance(mine, Prediction) and isinstance(theirs, Prediction)
    for name in ("loss", "low", "high", "confidence_low", "confidence_high"):
        assert getattr(mine, name) == pytest.approx(getattr(theirs, name), rel=1e-12), name
    for name in ("interval", "method", "confidence_level", "n_draws", "n_failed_draws"):
        assert getattr(mine, name) == getattr(theirs, name), name
    assert mine.interval == "confidence" and mine.method == "bootstrap percentile"
    assert mine.confidence_level == 0.9 and mine.n_draws == 200
    assert mine.bounds("loss") == mine.bounds() == (mine.low, mine.high)
    assert mine.intervals == {"loss": (mine.low, mine.high)}
    pd.testing.assert_frame_equal(mine.to_frame(), theirs.to_frame(), rtol=1e-12)
    assert mine.to_frame().attrs == theirs.to_frame().attrs
    assert mine.to_dict()["interval"] == "confidence"


def test_predict_says_the_bootstraps_own_method_and_level(boot):
    """``boot.predict`` keeps its own interval method (``sl.predict`` always takes
    percentiles): the basic interval is ``2 * estimate - (q_high, q_low)`` by hand."""
    import dataclasses

    basic = dataclasses.replace(boot, method="basic", confidence_level=0.8)
    prediction = basic.predict(N=7e10, D=1.4e12)
    estimate = _loss(HOFFMANN_2022_ROUNDED, 7e10, 1.4e12)
    q_low, q_high = _quantiles(_loss(_columns(boot), 7e10, 1.4e12), level=0.8)
    assert (prediction.low, prediction.high) == pytest.approx(
        (2 * estimate - q_high, 2 * estimate - q_low), rel=1e-12)
    assert prediction.method == "bootstrap basic" == basic.interval_method
    assert prediction.confidence_level == 0.8
    assert prediction.to_frame().attrs["method"] == "bootstrap basic"
    assert dataclasses.replace(boot, method="bca").interval_method == "bootstrap BCa"
    assert boot.interval_method == "bootstrap percentile"


def test_predict_counts_the_draws_whose_loss_is_not_finite(boot):
    import dataclasses

    draws = np.array(boot.draws)
    draws[:3, NAMES.index("E")] = np.nan
    prediction = dataclasses.replace(boot, draws=draws).predict(N=7e10, D=1.4e12)
    assert prediction.n_draws == 200 and prediction.n_failed_draws == 3
    finite = _loss(_columns(boot), 7e10, 1.4e12)[3:]
    assert (prediction.low, prediction.high) == pytest.approx(_quantiles(finite), rel=1e-12)


def test_unpacking_the_former_tuple_still_works_and_says_it_is_deprecated(boot):
    """Code written for the tuple ``(estimate, low, high)`` keeps its numbers, with a
    ``ScalingLawsDeprecationWarning`` naming what to read instead; using the
    ``Prediction`` as one warns of nothing."""
    import pickle
    import warnings

    from scalinglaws import ScalingLawsDeprecationWarning

    prediction = boot.predict(N=7e10, D=1.4e12)
    expected = (prediction.loss, prediction.low, prediction.high)
    match = (r"BootstrapResult.predict returns a Prediction.*prediction.loss, prediction.low "
             r"and prediction.high")
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        estimate, low, high = prediction
    assert (estimate, low, high) == expected
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert prediction[0] == expected[0] and prediction[-1] == expected[2]
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert prediction[1:] == expected[1:]
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert prediction == expected
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert prediction != (0.0, 0.0, 0.0)
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert tuple(prediction) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert prediction == prediction  # noqa: PLR0124 (identity, as for any Prediction)
        assert prediction != boot.predict(N=7e10, D=1.4e12)
        assert bool(prediction) and hash(prediction) == hash(prediction)
        prediction.to_frame(), prediction.to_dict(), repr(prediction)
        again = pickle.loads(pickle.dumps(prediction))
    assert (again.loss, again.low, again.high) == expected
    assert type(again) is type(prediction) and again.method == "bootstrap percentile"
    with pytest.warns(ScalingLawsDeprecationWarning, match=match):
        assert tuple(again) == expected


# --------------------------------------------------------------------------- to_frame
def test_to_frame_is_one_row_per_parameter_with_its_interval(boot):
    """A reviewer's finding: the other results had ``to_frame()``, the bootstrap not."""
    frame = boot.to_frame()
    assert list(frame.columns) == ["name", "value", "low", "high", "standard_error"]
    assert frame["name"].tolist() == list(NAMES)
    assert frame["value"].tolist() == [boot.point[n] for n in NAMES]
    # level 0.9: the 5th and 95th percentiles of each column of draws
    expected = np.percentile(boot.draws, [5.0, 95.0], axis=0)
    np.testing.assert_allclose(frame["low"], expected[0], rtol=1e-12)
    np.testing.assert_allclose(frame["high"], expected[1], rtol=1e-12)
    np.testing.assert_allclose(frame["standard_error"], np.std(boot.draws, axis=0, ddof=1),
                               rtol=1e-12)
    assert frame.attrs == {"interval": "confidence", "method": "bootstrap percentile",
                           "confidence_level": 0.9, "n_resamples": 200, "n_draws": 200,
                           "n_failed": 0, "groups": None, "clusters": None}
    frame.loc[0, "value"] = -1.0  # the table is the caller's; the result stays as it was
    assert boot.point["E"] == HOFFMANN_2022_ROUNDED["E"]


def test_to_frame_intervals_are_the_bootstraps_own_method(boot):
    import dataclasses

    basic = dataclasses.replace(boot, method="basic", n_failed=4, groups="budget")
    frame = basic.to_frame()
    q_low, q_high = np.percentile(boot.draws, [5.0, 95.0], axis=0)
    point = np.array([boot.point[n] for n in NAMES])
    np.testing.assert_allclose(frame["low"], 2 * point - q_high, rtol=1e-12)
    np.testing.assert_allclose(frame["high"], 2 * point - q_low, rtol=1e-12)
    assert frame.attrs["method"] == "bootstrap basic"
    assert frame.attrs["n_failed"] == 4 and frame.attrs["groups"] == "budget"


@pytest.mark.parametrize("inputs, match", [
    (dict(N=[7e9, 7e10], D=1.4e12), "`N` must be a single number here.*scalinglaws.predict"),
    (dict(N=7e10, D=np.full((2, 2), 1.4e12)), "`D` must be a single number here"),
    (dict(N=7e10), "needs inputs N, D; missing D"),
    (dict(n=7e10, D=1.4e12), "unknown input n"),
    (dict(N=7e10, D=1.4e12, C=5.88e23), "C .FLOP. is used to derive the one of N and D"),
    (dict(N=-7e10, D=1.4e12), "`N` must be positive"),
    (dict(N=7e10, D="lots"), "`D` must be a number"),
    (dict(N=np.nan, D=1.4e12), "`N` must be finite"),
])
def test_predict_validates_its_inputs_up_front(boot, inputs, match):
    """A reviewer's D4: an array for N gave a raw TypeError, a missing input a KeyError."""
    with pytest.raises(InputError, match=match):
        boot.predict(**inputs)


# --------------------------------------------------------------------------- tokens_per_parameter
def test_tokens_per_parameter_is_eq_4_over_the_draws(boot):
    estimate, low, high = boot.tokens_per_parameter(1e24)
    assert estimate == pytest.approx(_ratio(HOFFMANN_2022_ROUNDED, 1e24), rel=1e-12)
    assert (low, high) == pytest.approx(_quantiles(_ratio(_columns(boot), 1e24)), rel=1e-12)
    assert boot.tokens_per_parameter("1e24") == (estimate, low, high)
    eight = boot.tokens_per_parameter(1e24, flops_per_token=8)
    assert eight[0] == pytest.approx(_ratio(HOFFMANN_2022_ROUNDED, 1e24, 8.0), rel=1e-12)


@pytest.mark.parametrize("args, match", [
    (([1e24, 1e25],), "`compute` must be a single number here.*compute_optimal"),
    (("a lot",), "`compute` must be a number"),
    ((0.0,), "`compute` must be positive"),
    ((np.inf,), "`compute` must be finite"),
    ((1e24, -6), "`flops_per_token` must be a finite positive number"),
    ((1e24, 0), "`flops_per_token` must be a finite positive number"),
    ((1e24, "6"), "`flops_per_token` must be a finite positive number"),
])
def test_tokens_per_parameter_validates_up_front(boot, args, match):
    """A reviewer's D4: ``"1e24"`` and arrays gave raw numpy errors, and
    ``flops_per_token=-6`` a silent (nan, nan, nan)."""
    with pytest.raises(InputError, match=match):
        boot.tokens_per_parameter(*args)


# --------------------------------------------------------------------------- described tuples
def test_interval_is_the_former_tuple_and_says_what_it_is(boot):
    """A reviewer's finding: ``interval``, ``tokens_per_parameter``,
    ``allocation_exponents`` and ``intervals`` gave bare tuples a reader could not place
    without the docs. They are ``Estimate`` / ``Interval`` now: the same tuples (unpack,
    index, slice, compare, hash, JSON), which also name their kind, method and level."""
    import json

    from scalinglaws.uncertainty.prediction import Estimate

    expected = _quantiles(boot.draws[:, NAMES.index("alpha")])
    e = boot.interval("alpha")
    assert isinstance(e, Estimate) and isinstance(e, tuple) and len(e) == 3
    estimate, low, high = e
    assert estimate == HOFFMANN_2022_ROUNDED["alpha"]
    assert (low, high) == pytest.approx(expected, rel=1e-12)
    assert e == (estimate, low, high) and hash(e) == hash((estimate, low, high))
    assert (e[0], e[-1], e[1:]) == (estimate, high, (low, high))
    assert type(e[1:]) is tuple and e + (1,) == (estimate, low, high, 1)
    assert json.dumps(e) == json.dumps([estimate, low, high])
    assert all(type(v) is float for v in e)
    assert (e.estimate, e.low, e.high) == (estimate, low, high)
    assert (e.kind, e.method, e.confidence_level) == ("confidence", "bootstrap percentile", 0.9)
    assert e.describe() == "90% bootstrap percentile confidence interval"
    assert repr(e) == (f"Estimate(estimate={estimate!r}, low={low!r}, high={high!r}; "
                       "90% bootstrap percentile confidence interval)")
    assert e.to_dict() == {"estimate": estimate, "low": low, "high": high,
                           "confidence_level": 0.9, "method": "bootstrap percentile",
                           "kind": "confidence"}
    assert e.bounds() == (low, high) and e.bounds().describe() == e.describe()


def test_interval_names_the_level_and_method_asked_for(boot):
    """Overriding ``confidence_level`` and ``method`` is what the tuple says: the basic
    interval ``2 * estimate - (q_high, q_low)`` by hand at level 0.5."""
    e = boot.interval("E", confidence_level=0.5, method="basic")
    q_low, q_high = _quantiles(boot.draws[:, 0], level=0.5)
    point = HOFFMANN_2022_ROUNDED["E"]
    assert (e.low, e.high) == pytest.approx((2 * point - q_high, 2 * point - q_low), rel=1e-12)
    assert (e.confidence_level, e.method) == (0.5, "bootstrap basic")
    assert "50% bootstrap basic confidence interval" in repr(e)
    import dataclasses

    bca = dataclasses.replace(boot, method="bca", jackknife=boot.draws[:40])
    assert bca.interval("E").method == "bootstrap BCa"
    assert bca.interval("E", method="percentile").method == "bootstrap percentile"


def test_described_tuples_are_read_only_and_survive_pickle(boot):
    import copy
    import pickle

    e = boot.tokens_per_parameter(1e24)
    for name, value in (("confidence_level", 0.5), ("method", "x"), ("kind", "prediction"),
                        ("low", 0.0), ("anything", 1)):
        with pytest.raises(AttributeError):
            setattr(e, name, value)
    with pytest.raises(AttributeError):
        del e.method
    for again in (pickle.loads(pickle.dumps(e)), pickle.loads(pickle.dumps(e, protocol=0)),
                  copy.deepcopy(e), e._replace()):
        assert type(again) is type(e) and again == e and repr(again) == repr(e)
    intervals = pickle.loads(pickle.dumps(boot.intervals))
    assert intervals == boot.intervals
    assert intervals["E"].describe() == "90% bootstrap percentile confidence interval"
    moved = e._replace(low=0.0)
    assert moved == (e[0], 0.0, e[2]) and moved.method == e.method


def test_intervals_are_described_pairs_and_the_outputs_keep_their_shape(boot):
    """``intervals`` values are ``Interval`` pairs; ``to_dict`` (JSON) and ``to_frame`` give
    the same numbers and layout as with plain tuples."""
    import json

    from scalinglaws.uncertainty.prediction import Interval

    expected = np.percentile(boot.draws, [5.0, 95.0], axis=0)
    for i, name in enumerate(NAMES):
        pair = boot.intervals[name]
        assert isinstance(pair, Interval) and len(pair) == 2
        low, high = pair
        assert (low, high) == pytest.approx((expected[0, i], expected[1, i]), rel=1e-12)
        assert (pair.kind, pair.method, pair.confidence_level) == (
            "confidence", "bootstrap percentile", 0.9)
        assert repr(pair) == (f"Interval(low={low!r}, high={high!r}; "
                              "90% bootstrap percentile confidence interval)")
    doc = json.loads(json.dumps(boot.to_dict(include_draws=False)))
    assert list(doc["intervals"]) == list(NAMES)
    for i, name in enumerate(NAMES):  # a plain [low, high] list, as before: no kind or level
        assert doc["intervals"][name] == pytest.approx([expected[0, i], expected[1, i]],
                                                       rel=1e-12)
    assert doc["method"] == "percentile" and doc["confidence_level"] == 0.9
    assert boot.summary().splitlines()[1].split()[-2:] == [
        f"[{expected[0, 0]:.6g},", f"{expected[1, 0]:.6g}]"]


def test_allocation_exponents_are_described_and_are_eq_4_over_the_draws(boot):
    cols = _columns(boot)
    exponents = boot.allocation_exponents()
    a_draws = cols["beta"] / (cols["alpha"] + cols["beta"])
    point = HOFFMANN_2022_ROUNDED
    a, low, high = exponents["a"]
    assert a == pytest.approx(point["beta"] / (point["alpha"] + point["beta"]), rel=1e-12)
    assert (low, high) == pytest.approx(_quantiles(a_draws), rel=1e-12)
    assert exponents["b"][1:] == pytest.approx(_quantiles(1 - a_draws), rel=1e-12)
    for value in exponents.values():
        assert value.describe() == "90% bootstrap percentile confidence interval"
    ratio = boot.tokens_per_parameter(1e24)
    assert (ratio.kind, ratio.method, ratio.confidence_level) == (
        "confidence", "bootstrap percentile", 0.9)


def test_a_statistic_of_several_values_gets_one_interval_each_as_read_only_arrays(boot):
    """The ratio D_opt/N_opt at three budgets at once is, value by value, Eq. 4's ratio at
    each budget: the estimate by hand and the bounds equal the one-budget intervals."""
    budgets = np.array([1e22, 1e24, 1e26])

    def ratios(p):
        return _ratio({k: np.asarray(v)[..., None] for k, v in p.items()}, budgets)

    e = boot.interval(ratios)
    assert all(isinstance(v, np.ndarray) and v.shape == (3,) and not v.flags.writeable
               for v in e)
    np.testing.assert_allclose(e.estimate, _ratio(HOFFMANN_2022_ROUNDED, budgets), rtol=1e-12)
    by_hand = np.quantile(_ratio({k: v[:, None] for k, v in _columns(boot).items()}, budgets),
                          [0.05, 0.95], axis=0)
    np.testing.assert_allclose(e.low, by_hand[0], rtol=1e-12)
    np.testing.assert_allclose(e.high, by_hand[1], rtol=1e-12)
    for j, budget in enumerate(budgets):
        one = boot.tokens_per_parameter(budget)
        assert (e.estimate[j], e.low[j], e.high[j]) == pytest.approx(tuple(one), rel=1e-12)
    assert e.to_dict()["low"] == pytest.approx(by_hand[0].tolist(), rel=1e-12)
    with pytest.raises(ValueError, match="read-only"):
        e.low[0] = 0.0
    import pickle

    again = pickle.loads(pickle.dumps(e))
    assert not again.low.flags.writeable and again.describe() == e.describe()
    np.testing.assert_array_equal(again.high, e.high)


def test_several_values_with_bca_and_non_finite_draws_are_column_by_column(boot):
    import dataclasses

    rng = np.random.default_rng(1)
    bca = dataclasses.replace(boot, method="bca",
                              jackknife=boot.draws[:40] * np.exp(rng.normal(0, 0.001, (40, 5))))
    together = bca.interval(lambda p: np.stack([np.asarray(p["alpha"]),
                                                np.asarray(p["beta"])], axis=-1))
    for j, name in enumerate(("alpha", "beta")):
        alone = bca.interval(name)
        assert (together.estimate[j], together.low[j], together.high[j]) == pytest.approx(
            tuple(alone), rel=1e-12)
    assert together.method == "bootstrap BCa"
    draws = np.array(boot.draws)
    draws[:5, NAMES.index("E")] = np.nan
    holed = dataclasses.replace(boot, draws=draws)
    both = holed.interval(lambda p: np.stack([np.asarray(p["E"]), np.asarray(p["A"])], -1))
    assert (both.low[0], both.high[0]) == pytest.approx(_quantiles(draws[5:, 0]), rel=1e-12)
    assert (both.low[1], both.high[1]) == pytest.approx(_quantiles(draws[:, 1]), rel=1e-12)


def test_a_statistic_of_several_values_must_give_one_row_per_draw(boot):
    with pytest.raises(InputError, match=r"`statistic` gives \(2,\) values at the estimate but "
                                         r"shape \(400,\) over the 200 draws"):
        boot.interval(lambda p: np.concatenate([np.atleast_1d(p["E"]),
                                                np.atleast_1d(p["A"])]))


# --- degenerate resamples (too few distinct runs to identify the parameters) ---

def _with_degenerate(boot, n_degenerate):
    import dataclasses

    # the degenerate resamples are resamples too (a loader refuses counts that exceed it)
    return dataclasses.replace(boot, n_degenerate=n_degenerate,
                               n_resamples=boot.n_resamples + n_degenerate)


def test_n_degenerate_defaults_to_none_set_aside(boot):
    assert boot.n_degenerate == 0
    assert "degenerate" not in boot.summary()
    assert boot.to_dict()["n_degenerate"] == 0


def test_n_degenerate_is_said_and_travels_through_the_document(boot):
    counted = _with_degenerate(boot, 37)
    assert counted.summary().splitlines()[0].endswith(
        ", 37 degenerate (too few distinct runs; left out)")
    assert counted.to_frame().attrs["n_draws"] == len(counted.draws)
    doc = counted.to_dict()
    assert doc["n_degenerate"] == 37
    again = BootstrapResult.from_dict(doc, counted.form, counted.point)
    assert again.n_degenerate == 37
    np.testing.assert_array_equal(again.draws, counted.draws)


def test_a_document_written_before_n_degenerate_loads_with_none(boot):
    doc = boot.to_dict()
    del doc["n_degenerate"]
    assert BootstrapResult.from_dict(doc, boot.form, boot.point).n_degenerate == 0


@pytest.mark.parametrize("value", [-1, 2.5, "3", True, None])
def test_a_bad_n_degenerate_in_a_document_is_refused(boot, value):
    doc = {**boot.to_dict(), "n_degenerate": value}
    with pytest.raises(InputError, match="^fit.json: field bootstrap.n_degenerate must be an integer >= 0"):
        BootstrapResult.from_dict(doc, boot.form, boot.point, source="fit.json")


def test_a_result_pickled_before_n_degenerate_reads_back_with_none(boot):
    state = dict(boot.__dict__)
    del state["n_degenerate"]
    old = BootstrapResult.__new__(BootstrapResult)
    old.__setstate__(state)
    assert old.n_degenerate == 0 and old.to_dict()["n_degenerate"] == 0


# --------------------------------------------------------------------------- restriction
def _tied(boot):
    """Draws of a fit with beta tied to alpha: beta equals alpha in every draw."""
    import dataclasses

    draws = np.array(boot.draws)
    draws[:, NAMES.index("beta")] = draws[:, NAMES.index("alpha")]
    point = {**boot.point, "beta": boot.point["alpha"]}
    return dataclasses.replace(boot, draws=draws, point=point, restriction="tie")


def test_a_free_fit_exponents_are_plain_percentiles(boot, recwarn):
    a = boot.allocation_exponents()["a"]
    assert boot.restriction == "" and a.method == "bootstrap percentile"
    assert a.low < a.estimate < a.high
    assert not recwarn.list


def test_a_tied_fit_exponents_are_said_to_hold_the_tie_and_warn(boot):
    """beta = alpha gives a = b = 0.5 in every draw (Hoffmann et al. 2022 Eq. 4): the
    interval has zero width, and its label and a warning say why."""
    from scalinglaws import ScalingLawsWarning

    tied = _tied(boot)
    with pytest.warns(ScalingLawsWarning, match="tie holds a = 0.5 and b in every refit"):
        exponents = tied.allocation_exponents()
    for name in ("a", "b"):
        assert tuple(exponents[name]) == (0.5, 0.5, 0.5)
        assert exponents[name].method == "bootstrap percentile (tie bias excluded)"
    ratio = tied.tokens_per_parameter(5.88e23)
    assert ratio.method == "bootstrap percentile (tie bias excluded)"
    assert ratio.estimate == pytest.approx(_ratio(tied.point, 5.88e23), rel=1e-12)
    # a parameter's own interval is the refits' spread, as for any fit
    assert tied.interval("alpha").method == "bootstrap percentile"


def test_the_restriction_travels_through_the_document(boot):
    tied = _tied(boot)
    doc = tied.to_dict()
    assert doc["restriction"] == "tie"
    assert BootstrapResult.from_dict(doc, tied.form, tied.point).restriction == "tie"
    del doc["restriction"]  # written before it was recorded
    assert BootstrapResult.from_dict(doc, tied.form, tied.point).restriction == ""
    with pytest.raises(InputError, match="field bootstrap.restriction must be one of"):
        BootstrapResult.from_dict({**doc, "restriction": "tied"}, tied.form, tied.point)


def test_bootstrap_records_the_fit_restriction():
    import warnings

    import scalinglaws as sl

    runs = sl.generate_sweep(rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        for options, kind in (({"preset": "extrapolate"}, "tie"), ({"fixed": {"E": 1.8}},
                              "fixed-parameter"), ({}, "")):
            fit = sl.fit(runs, **options)
            assert sl.bootstrap(fit, runs, 20, rng=0, progress=False).restriction == kind


# --------------------------------------------------------------------------- the fit's k
def test_tokens_per_parameter_uses_the_fit_flops_per_token(tmp_path):
    """Runs counted at C = 8 N D: the bootstrap's D_opt/N_opt is the one compute_optimal
    gives with the same draws (both take k from the fit), and Eq. 4 at k = 8 by hand."""
    import warnings

    import scalinglaws as sl

    frame = sl.generate_sweep(rng=0).frame[["N", "D", "loss"]]
    runs = sl.load_runs(frame, flops_per_token=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        fit = sl.fit(runs)
        boot = sl.bootstrap(fit, runs, 30, rng=0, progress=False)
        allocation = sl.compute_optimal(fit.with_bootstrap(boot), 1e22)
    assert boot.flops_per_token == 8.0
    ratio = boot.tokens_per_parameter(1e22)
    assert ratio.estimate == pytest.approx(float(allocation.tokens_per_parameter), rel=1e-12)
    assert ratio.estimate == pytest.approx(_ratio(fit.params, 1e22, k=8.0), rel=1e-12)
    assert boot.tokens_per_parameter(1e22, flops_per_token=6).estimate == pytest.approx(
        _ratio(fit.params, 1e22, k=6.0), rel=1e-12)
    path = tmp_path / "fit.json"
    sl.save(fit.with_bootstrap(boot), path)
    assert sl.load(path).bootstrap.flops_per_token == 8.0
    doc = boot.to_dict()
    del doc["flops_per_token"]  # written before the bootstrap recorded it: the fit's k
    assert BootstrapResult.from_dict(doc, boot.form, boot.point,
                                     flops_per_token=8.0).flops_per_token == 8.0


def test_predict_takes_c_with_one_of_n_and_d(boot):
    """Hoffmann's 70B model at 5.88e23 FLOP: D = C / (6 N) = 1.4e12 tokens, written out."""
    at_c = boot.predict(N=70e9, C=5.88e23)
    at_d = boot.predict(N=70e9, D=5.88e23 / (6 * 70e9))
    assert (at_c.loss, at_c.low, at_c.high) == (at_d.loss, at_d.low, at_d.high)
    import dataclasses

    eight = dataclasses.replace(boot, flops_per_token=8.0)  # the fit's k, not 6
    assert eight.predict(D=1.4e12, C=5.88e23).loss == pytest.approx(
        _loss(boot.point, 5.88e23 / (8 * 1.4e12), 1.4e12), rel=1e-12)
