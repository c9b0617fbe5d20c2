"""A confidence level asked for where there are no draws to make an interval from
(analysis/_common.rows_and_level)."""

from __future__ import annotations

import warnings

import pytest

import scalinglaws as sl
from scalinglaws import extrapolate as ex


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


@pytest.fixture(scope="module")
def booted():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    fit = sl.fit(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.BootstrapResamplingWarning)  # 20 draws: few
        return fit.with_bootstrap(sl.bootstrap(fit, runs, 20, rng=0))


@pytest.mark.parametrize("call", [
    lambda fit, d: ex.compute_optimal(fit, 1e22, draws=d),
    lambda fit, d: ex.compute_for_loss(fit, 2.5, draws=d),
    lambda fit, d: ex.tokens_for_loss(fit, 2.5, 1e9, draws=d),
    lambda fit, d: ex.iso_loss_curve(fit, 2.5, draws=d),
    lambda fit, d: ex.inference_optimal(fit, 2.5, 1e12, draws=d),
    lambda fit, d: sl.predict(fit, N=1e9, D=2e10, draws=d),
    lambda fit, d: ex.chinchilla_frontier(fit, draws=d),
    lambda fit, d: ex.diagnose(fit, 1e9, 2e10, draws=d),
], ids=["compute_optimal", "compute_for_loss", "tokens_for_loss", "iso_loss_curve",
        "inference_optimal", "predict", "chinchilla_frontier", "diagnose"])
def test_draws_false_leaves_the_attached_bootstrap_out_everywhere(booted, call):
    # draws=False is "no intervals" in every function taking draws= (the curve functions,
    # the multiplier and CalibratedFit.interval are tested beside their modules)
    assert call(booted, None).n_draws == 20
    off = call(booted, False)
    assert off.n_draws == 0 and not off.intervals
    with pytest.raises(sl.InputError, match=r"`draws` must be None .*got True"):
        call(booted, True)
