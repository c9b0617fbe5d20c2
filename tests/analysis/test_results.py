"""Tests of analysis/results.py: the under-training verdict and the Diagnosis that
carries it."""

from __future__ import annotations

import numpy as np
import pytest

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
