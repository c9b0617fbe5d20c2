"""A confidence level asked for where there are no draws to make an interval from
(analysis/_common.rows_and_level)."""

from __future__ import annotations

import warnings

import pytest

import scalinglaws as sl


def test_a_level_without_draws_warns():
    # audit: the result reported confidence_level=0.8 beside no interval, without a word
    fit = sl.fit(sl.generate_sweep(rng=0))
    with pytest.warns(sl.ScalingLawsWarning, match="confidence_level=0.8 was given, but there are no draws"):
        p = sl.predict(fit, N=2e9, D=4e10, confidence_level=0.8)
    assert p.low is None
    with pytest.warns(sl.ScalingLawsWarning, match="no interval is made"):
        sl.compute_optimal(fit, 1e21, draws=False, confidence_level=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.compute_optimal(fit, 1e21)  # no level asked for: nothing to say
