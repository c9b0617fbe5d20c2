"""Tests of scalinglaws.data.compute: C = k·N·D derived or checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws._exceptions import InputError, ScalingLawsWarning
from scalinglaws.data import compute, runs


def test_the_runs_module_keeps_its_names():
    assert runs.COMPUTE_TOLERANCE is compute.COMPUTE_TOLERANCE == 2.0


@pytest.mark.parametrize("given, derived, expected", [
    ({"N": [1e8], "D": [2e9]}, "C", 8 * 1e8 * 2e9),
    ({"N": [1e8], "C": [1.6e18]}, "D", 1.6e18 / (8 * 1e8)),
    ({"C": [1.6e18], "D": [2e9]}, "N", 1.6e18 / (8 * 2e9)),
])
def test_the_missing_member_is_derived_with_k(given, derived, expected):
    frame = pd.DataFrame(given)
    assert compute.derive_compute(frame, 8.0, "<t>", None, np.arange(1)) == (derived,)
    assert frame[derived].tolist() == pytest.approx([expected])


def test_nothing_is_derived_from_one_column_or_all_three():
    frame = pd.DataFrame({"N": [1e8]})
    assert compute.derive_compute(frame, 6.0, "<t>", None, np.arange(1)) == ()
    frame = pd.DataFrame({"N": [1e8], "D": [2e9], "C": [1.2e18]})
    assert compute.derive_compute(frame, 6.0, "<t>", None, np.arange(1)) == ()


def test_an_overflowing_derivation_names_the_row_and_line():
    frame = pd.DataFrame({"N": [1e8, 1e300], "D": [2e9, 1e300]})
    with pytest.raises(InputError, match=r"runs.csv: row 5 \(line 7\): derived C = 6·N·D"):
        compute.derive_compute(frame, 6.0, "runs.csv", np.arange(2, 10), np.array([0, 5]))


def test_a_gap_beyond_the_tolerance_warns():
    frame = pd.DataFrame({"N": [1e8, 1e8], "D": [2e9, 2e9], "C": [1.2e18, 1.2e19]})
    with pytest.warns(ScalingLawsWarning, match=r"in 1 of 2 rows \(row 1; the largest gap"):
        compute.warn_compute_mismatch(frame, 6.0, "<t>", None, np.arange(2))


@pytest.mark.parametrize("bad", [0, -6, float("nan"), "six"])
def test_flops_per_token_must_be_positive(bad):
    with pytest.raises(InputError, match="flops_per_token"):
        compute.check_flops_per_token(bad)
