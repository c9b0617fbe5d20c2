"""Tests of scalinglaws.uncertainty.interval_hooks (the rollout and back-test hooks)."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.uncertainty.interval_hooks import (check_intervals, check_same_description,
                                                    described_interval_bounds)
from scalinglaws.uncertainty.prediction import Interval


def _call(returned, n=3):
    return described_interval_bounds(lambda fit, train, inputs: returned, None, None, {}, n,
                                     "1 (C > 1e20)")


def test_bare_pairs_broadcast_and_have_no_description():
    low, high, described = _call((1.0, np.array([2.0, 3.0, 4.0])))
    np.testing.assert_array_equal(low, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(high, [2.0, 3.0, 4.0])
    assert described is None


def test_a_described_tuple_keeps_its_kind_and_level():
    low, high, described = _call(Interval(1.0, 2.0, confidence_level=0.9,
                                          method="bootstrap percentile", kind="confidence"))
    assert dict(described) == {"interval": "confidence", "confidence_level": 0.9,
                               "method": "bootstrap percentile"}
    assert (low[0], high[0]) == (1.0, 2.0)


def test_bad_returns_are_named():
    with pytest.raises(InputError, match="low > high for fold 1"):
        _call((2.0, 1.0))
    with pytest.raises(InputError, match="must return a \\(low, high\\) pair"):
        _call((1.0, 2.0, 3.0))
    with pytest.raises(InputError, match="shapes"):
        _call((np.zeros(2), np.ones(2)))
    with pytest.raises(InputError, match="keys must be non-empty strings"):
        check_intervals({"": lambda *a: (0, 1)})


def test_a_hook_that_changes_its_kind_is_refused():
    check_same_description(None, None, "interval", "2")
    with pytest.raises(InputError, match="returned bare bounds for fold 2 but interval "
                                         "'confidence' before"):
        check_same_description(None, {"interval": "confidence"}, "interval", "2")
