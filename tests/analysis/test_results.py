"""Tests of analysis/results.py: the under-training verdict and the Diagnosis that
carries it; every result deeply frozen (through pickle and ``dataclasses.replace``);
``bounds(name)``, the interval lookup that does not clash with ``Prediction.interval``."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.analysis.results import Diagnosis, training_verdict


@pytest.mark.parametrize("ratio, interval, verdict", [
    (1.58, None, "under-trained"),
    (0.6, None, "over-trained"),
    (1.0, None, "compute-optimal"),
    (1.58, (0.421, 4.7), "undetermined"),        # the reviewer's GPT-like case
    (1.58, (1.2, 4.7), "under-trained"),
    (1.58, (1.2, np.inf), "under-trained"),      # a draw needing unlimited data still says so
    (0.6, (0.3, 0.9), "over-trained"),
    (0.6, (0.3, 1.0), "undetermined"),           # a bound on 1 is not excluded
    (1.58, (np.nan, 4.7), "undetermined"),       # no interval could be computed
    (1.58, (0.5, 0.9), "undetermined"),          # point and interval disagree
    (1.0, (0.5, 1.5), "undetermined"),
])
def test_training_verdict(ratio, interval, verdict):
    assert training_verdict(ratio, interval) == verdict


def test_training_verdict_is_element_wise():
    ratios = np.array([[2.0, 0.5], [1.5, 0.8]])
    low, high = np.array([[1.5, 0.4], [0.9, 0.7]]), np.array([[3.0, 0.6], [2.0, 0.9]])
    assert training_verdict(ratios, (low, high)).tolist() == [
        ["under-trained", "over-trained"], ["undetermined", "over-trained"]]


def _diagnosis(**extra):
    numbers = dict(N=7e9, D=1.4e11, C=5.88e21, loss=2.17, optimal_N=5e9, optimal_D=2e11,
                   optimal_loss=2.16, optimal_C_for_N=9.3e21, optimal_D_for_N=2.2e11,
                   compute_ratio=1.58, tokens_ratio=1.58, C_for_same_loss=5e21,
                   N_for_same_loss=5e9, D_for_same_loss=1.7e11, compute_saving_factor=1.2)
    return Diagnosis(**numbers, flops_per_token=6.0, method="closed_form", **extra)


def test_a_diagnosis_computes_its_verdict_from_its_ratio_and_interval():
    """The verdict is never given apart from the numbers it rests on."""
    assert _diagnosis().verdict == "under-trained"
    spanning = _diagnosis(intervals={"tokens_ratio": (0.421, 4.7)}, n_draws=200,
                          confidence_level=0.9)
    assert spanning.verdict == "undetermined"
    assert "but the 90% interval includes 1" in str(spanning)
    with pytest.raises(TypeError):  # it cannot be given
        _diagnosis(verdict="over-trained")
    unknown = _diagnosis(intervals={"tokens_ratio": (np.nan, np.nan)}, n_draws=10)
    assert unknown.verdict == "undetermined"
    assert "interval could not be computed" in str(unknown)


# --------------------------------------------------------------------------- deeply frozen
def _results():
    """One of each result dataclass, with arrays, intervals and (Prediction) inputs."""
    from scalinglaws.analysis.results import (Allocation, FrontierCoefficients,
                                              InferenceAllocation, IsoLossCurve, Prediction)

    two = np.array([1.0, 2.0])
    band = {"N": (np.array([0.5, 1.5]), np.array([1.5, 2.5]))}
    return [
        Prediction(inputs={"N": two, "D": np.array([2e10, 2e10])}, loss=two, low=two - 0.1,
                   high=two + 0.1, intervals={"loss": (two - 0.1, two + 0.1)},
                   interval="confidence", confidence_low=two - 0.1, confidence_high=two + 0.1,
                   beyond_calibration=np.array([False, True]), method="bootstrap"),
        FrontierCoefficients(G=1.0, a=0.5, b=0.5, gamma=0.1, K=2.0,
                             intervals={"a": (0.4, 0.6)}, n_draws=10),
        Allocation(question="compute_optimal", C=two, N=two, D=two, loss=two,
                   tokens_per_parameter=two, method="closed_form", flops_per_token=6.0,
                   at_search_edge=np.array([False, True]), intervals=band, n_draws=10),
        IsoLossCurve(target_loss=2.0, N=two, D=two, C=two, tokens_per_parameter=two,
                     N_asymptote=0.1, optimal_N=1.0, optimal_D=1.0, optimal_C=6.0,
                     flops_per_token=6.0, intervals=band, n_draws=10),
        _diagnosis(intervals={"tokens_ratio": (np.array([0.4, 1.2]), np.array([4.7, 2.0]))},
                   n_draws=10),
        InferenceAllocation(target_loss=two, inference_tokens=two, N=two, D=two,
                            training_compute=two, inference_compute=two, total_compute=two,
                            chinchilla_N=two, chinchilla_D=two, chinchilla_total_compute=two,
                            saving=two, saving_fraction=two, flops_per_token=6.0,
                            inference_flops_per_token=2.0, intervals=band, n_draws=10),
    ]


def _arrays_and_mappings(value):
    """Every ndarray and mapping inside ``value`` (through mappings, lists and tuples)."""
    from collections.abc import Mapping

    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from _arrays_and_mappings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays_and_mappings(item)


def _assert_deeply_frozen(result):
    import dataclasses

    from scalinglaws._validation import FrozenDict

    seen = 0
    for f in dataclasses.fields(result):
        for inner in _arrays_and_mappings(getattr(result, f.name)):
            seen += 1
            if isinstance(inner, np.ndarray):
                assert not inner.flags.writeable, f"{type(result).__name__}.{f.name}"
            else:
                assert isinstance(inner, FrozenDict), f"{type(result).__name__}.{f.name}"
    assert seen, "nothing to check"


@pytest.mark.parametrize("result", _results(), ids=lambda r: type(r).__name__)
def test_every_result_is_deeply_frozen(result):
    """A reviewer's D2: ``al.intervals["junk"] = 0`` broke ``to_frame`` and ``al.N[0] = 1``
    changed the allocation in place; only the Diagnosis verdict was read-only."""
    _assert_deeply_frozen(result)
    with pytest.raises(TypeError, match="frozen result"):
        result.intervals["junk"] = 0
    if result.intervals:
        name = next(iter(result.intervals))
        low = result.intervals[name][0]
        if isinstance(low, np.ndarray):
            with pytest.raises(ValueError, match="read-only"):
                low[0] = 0.0
    for name in getattr(result, "_ELEMENT_FIELDS", ()):
        value = getattr(result, name)
        if isinstance(value, np.ndarray):
            with pytest.raises(ValueError, match="read-only"):
                value[0] = value[-1]
    result.to_frame()  # still works
    result.to_dict()


def test_a_prediction_keeps_its_inputs():
    prediction = _results()[0]
    with pytest.raises(TypeError, match="frozen result"):
        prediction.inputs["N"] = "oops"
    with pytest.raises(ValueError, match="read-only"):
        prediction.inputs["N"][0] = 7.0
    with pytest.raises(ValueError, match="read-only"):
        prediction.loss[0] = 99.0


def test_freezing_copies_the_callers_arrays_and_keeps_scalars_and_dtypes():
    from scalinglaws.analysis.results import Allocation

    n = np.array([1.0, 2.0])
    edge = np.array([False, True])
    allocation = Allocation(question="compute_optimal", C=6.0, N=n, D=n, loss=2.0,
                            tokens_per_parameter=n, method="closed_form", flops_per_token=6.0,
                            at_search_edge=edge, intervals={"C": (5.0, 7.0)})
    n[0] = 9.0  # the caller's array stays theirs; the result holds its own copy
    assert allocation.N.tolist() == [1.0, 2.0] and n.flags.writeable
    assert allocation.at_search_edge.dtype == bool
    assert type(allocation.C) is float and type(allocation.loss) is float
    assert allocation.interval("C") == (5.0, 7.0)


@pytest.mark.parametrize("result", _results(), ids=lambda r: type(r).__name__)
def test_frozen_through_pickle_and_replace(result):
    import dataclasses
    import pickle

    again = pickle.loads(pickle.dumps(result))
    _assert_deeply_frozen(again)
    assert again.to_dict() == result.to_dict()
    copied = dataclasses.replace(result, intervals=dict(result.intervals), n_draws=3)
    _assert_deeply_frozen(copied)
    assert copied.n_draws == 3 and copied.to_dict()["intervals"] == result.to_dict()["intervals"]


# --------------------------------------------------------------------------- bounds
def test_a_prediction_gives_its_bounds_under_a_name_that_does_not_clash():
    """A reviewer's D3: ``Prediction.interval`` is the kind of interval (a str field), so
    ``p.interval("loss")`` raised "'str' object is not callable"; the lookup every other
    result has as ``interval(name)`` is ``bounds(name)`` on all of them."""
    from scalinglaws.analysis.results import Prediction

    prediction, allocation = _results()[0], _results()[2]
    assert prediction.interval == "confidence"
    low, high = prediction.bounds()
    assert low.tolist() == prediction.low.tolist() and high.tolist() == prediction.high.tolist()
    assert prediction.bounds("loss") == prediction.intervals["loss"]
    with pytest.raises(InputError, match="no interval for 'N'; available: loss"):
        prediction.bounds("N")
    with pytest.raises(InputError, match="`name` must be the name of a quantity"):
        prediction.bounds(0)
    without = Prediction(inputs={"N": 1e9, "D": 2e10}, loss=2.5)
    assert without.interval is None
    with pytest.raises(InputError, match="pass `draws` to get intervals"):
        without.bounds()
    # the other results: bounds(name) is interval(name), the former names included
    assert allocation.bounds("N") == allocation.interval("N") == allocation.intervals["N"]
    with pytest.warns(FutureWarning):
        assert allocation.n_params is allocation.N
    assert allocation.bounds("n_params") == allocation.intervals["N"]


def test_calling_a_predictions_interval_says_where_the_bounds_are():
    """``p.interval("loss")``, the other results' spelling, raised Python's "'str' object is
    not callable"; the field stays the kind (a str in equality, JSON, pickle and frames) and
    calling it raises a TypeError that names ``bounds``."""
    import dataclasses
    import json
    import pickle

    from scalinglaws.analysis.results import Prediction

    prediction = _results()[0]
    with pytest.raises(TypeError, match=r"Prediction.interval is the kind of the interval "
                                        r"\('confidence'\), not a method: its bounds are "
                                        r"prediction.bounds\('loss'\)"):
        prediction.interval("loss")
    kind = prediction.interval
    assert isinstance(kind, str) and kind == "confidence" and hash(kind) == hash("confidence")
    assert repr(kind) == "'confidence'" and f"{kind}" == "confidence"
    assert {"confidence": 1}[kind] == 1
    document = prediction.to_dict()
    assert type(document["interval"]) is str and json.loads(json.dumps(document))["interval"] \
        == "confidence"
    assert type(prediction.to_frame().attrs["interval"]) is str
    again = pickle.loads(pickle.dumps(prediction))
    assert again.interval == "confidence"
    with pytest.raises(TypeError, match="bounds"):
        again.interval("loss")
    replaced = dataclasses.replace(prediction, interval="prediction")
    assert replaced.interval == "prediction"
    with pytest.raises(TypeError, match=r"\('prediction'\)"):
        replaced.interval("loss")
    assert Prediction(inputs={"N": 1e9, "D": 2e10}, loss=2.5).interval is None


def test_a_prediction_from_predict_says_where_its_bounds_are():
    from scalinglaws import FitResult, predict

    law = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7, alpha=0.34,
                                                   beta=0.28))
    draws = law.form.params_vector(law.params) * np.array([[1.0], [0.99], [1.01]])
    p = predict(law, N=70e9, D=1.4e12, draws=draws)
    assert p.interval == "confidence" and p.bounds() == (p.low, p.high)
    with pytest.raises(TypeError, match=r"prediction.bounds\('loss'\)"):
        p.interval("loss")


# --------------------------------------------------------------------------- where it lives
def test_prediction_is_made_in_the_uncertainty_stage_and_kept_at_its_old_path():
    """``BootstrapResult.predict`` (uncertainty stage) returns a ``Prediction``, so the class
    lives in ``uncertainty/prediction.py`` (a stage may not import a later one); the old
    import path gives the same class, and a Prediction pickled under the old path (before
    the move) loads, frozen."""
    import pickle

    from scalinglaws.analysis import results
    from scalinglaws.uncertainty import prediction as moved

    assert results.Prediction is moved.Prediction
    assert results.IntervalKind is moved.IntervalKind
    assert results.Allocation.__mro__[1] is moved._ResultMixin
    before = _results()[0]
    # protocol 2 names a class by 'module\nname\n': the bytes a pickle from before the move
    # held (the class was scalinglaws.analysis.results.Prediction)
    old = pickle.dumps(before, protocol=2).replace(b"scalinglaws.uncertainty.prediction\n",
                                                   b"scalinglaws.analysis.results\n")
    assert b"scalinglaws.analysis.results\nPrediction\n" in old
    again = pickle.loads(old)
    assert type(again) is results.Prediction and again.to_dict() == before.to_dict()
    _assert_deeply_frozen(again)
    with pytest.raises(TypeError, match=r"prediction.bounds\('loss'\)"):
        again.interval("loss")
