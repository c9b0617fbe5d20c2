"""A curve bootstrap with too few draws for its level's tails says so (as the run bootstrap
does, ``draws_caveats.warn_few_draws``), under the rule its interval ends follow: numpy's
interpolated ends for blocks, curves and points, the ``(B + 1) a``-th ordered draws for the
AR(1) sieve (``CurveBootstrap.percentile_ends``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalinglaws import CurveResamplingWarning
from scalinglaws.fitting.curves import fit_curves
from scalinglaws.laws.curve_synthetic import synthetic_curves
from scalinglaws.uncertainty.curves import bootstrap_curves
from scalinglaws.uncertainty.draws_caveats import order_statistic_ends_note


@pytest.fixture(scope="module")
def fitted():
    curves, _ = synthetic_curves("momentum", rng=5, noise=0.001, autocorrelation=0.7, every=256)
    return curves, fit_curves(curves, "momentum")


def test_blocks_need_151_draws_at_95_percent(fitted):
    curves, fit = fitted
    # numpy's ends hold level (B - 1)/(B + 1) on average: 95% x 39/41 = 90.4% with 40 draws
    with pytest.warns(CurveResamplingWarning, match=r"40 draws are too few .* only 90\.4% .* "
                                                    r"at least 151 draws"):
        boot = bootstrap_curves(fit, curves, 40, method="blocks", rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 31 draws are enough at 80% (8 x 0.8 / 0.2 - 1), so nothing is said
        bootstrap_curves(fit, curves, 40, method="blocks", rng=1, confidence_level=0.8)
    # a level asked of the draws later is judged too
    with pytest.warns(CurveResamplingWarning, match=r"too few for a 99% percentile"):
        boot.interval(lambda p: p["L0"], confidence_level=0.99)


def test_the_sieve_needs_39_draws_at_95_percent(fitted):
    curves, fit = fitted
    with pytest.warns(CurveResamplingWarning, match=r"38 draws are too few .* \(B \+ 1\) a "
                                                    r"ends.* only 94\.9% .* at least 39 draws"):
        bootstrap_curves(fit, curves, 38, method="ar1", rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bootstrap_curves(fit, curves, 39, method="ar1", rng=1)


@pytest.mark.parametrize("n_draws, level", [(10, 0.9), (38, 0.95), (39, 0.95)])
def test_what_the_sieve_note_says_is_what_its_ends_hold(n_draws, level):
    # independent of the package: the ends numpy's "weibull" rule takes from n uniform draws,
    # averaged over many samples, hold the share of the distribution the note states, and
    # the level itself once there are enough draws ((B + 1) a >= 1)
    draws = np.sort(np.random.default_rng(0).uniform(size=(40_000, n_draws)), axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=1, method="weibull")
    held = float(np.mean(high - low))  # the uniform's distribution function is the identity
    note = order_statistic_ends_note(n_draws, level)
    if note is None:
        assert held == pytest.approx(level, abs=0.003)
    else:
        stated = float(note.split("only ")[1].split("%")[0]) / 100
        assert held == pytest.approx(stated, abs=0.003) and held < level
