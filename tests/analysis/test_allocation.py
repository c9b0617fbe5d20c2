"""Tests of analysis/allocation.py (and chinchilla_frontier): every question about a fitted
law takes its intervals from the bootstrap saved with the fit, at that bootstrap's level,
unless told otherwise. The allocations themselves are checked against Hoffmann's closed
form and brute force in test_extrapolate.py."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import extrapolate as ex

# Each question, called on a fit with the keyword arguments it needs.
QUESTIONS = {
    "compute_optimal": lambda fit, **kw: ex.compute_optimal(fit, [1e22, 1e23], **kw),
    "compute_for_loss": lambda fit, **kw: ex.compute_for_loss(fit, 2.1, **kw),
    "tokens_for_loss": lambda fit, **kw: ex.tokens_for_loss(fit, 2.1, 2e10, **kw),
    "iso_loss_curve": lambda fit, **kw: ex.iso_loss_curve(fit, 2.1, n_points=5, **kw),
    "inference_optimal": lambda fit, **kw: ex.inference_optimal(fit, 2.1, 1e12, **kw),
    "diagnose": lambda fit, **kw: ex.diagnose(fit, 7e9, 1.4e11, **kw),
    "chinchilla_frontier": lambda fit, **kw: ex.chinchilla_frontier(fit, **kw),
    "predict": lambda fit, **kw: ex.predict(fit, N=7e9, D=1.4e11, **kw),
}


@pytest.fixture(scope="module")
def sweep():
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    boot = sl.bootstrap(result, runs, 60, rng=0, confidence_level=0.8, progress=False)
    return result, boot


def _same_intervals(a, b):
    assert a.intervals.keys() == b.intervals.keys() and a.intervals
    for name in a.intervals:
        np.testing.assert_array_equal(np.asarray(a.intervals[name]),
                                      np.asarray(b.intervals[name]))


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_the_fits_own_bootstrap_at_its_level_by_default(sweep, question, tmp_path):
    """Without `draws=`, a fit carrying a bootstrap (in memory or loaded from its JSON)
    gives the intervals the same draws give when passed by hand, at the bootstrap's level
    (0.8), and says so; draws=False gives none; an explicit level wins."""
    result, boot = sweep
    ask = QUESTIONS[question]
    path = tmp_path / "fit.json"
    sl.save(result.with_bootstrap(boot), path)
    by_hand = ask(result, draws=boot.draws, confidence_level=0.8)
    for fit in (result.with_bootstrap(boot), sl.load(path)):
        own = ask(fit)
        assert own.confidence_level == 0.8 and own.n_draws == 60
        _same_intervals(own, by_hand)
    none = ask(result.with_bootstrap(boot), draws=False)
    assert none.intervals == {} and none.n_draws == 0 and none.confidence_level == 0.95
    wider = ask(result.with_bootstrap(boot), confidence_level=0.95)
    assert wider.confidence_level == 0.95
    _same_intervals(wider, ask(result, draws=boot.draws, confidence_level=0.95))
    assert ask(result).intervals == {}  # no bootstrap, no draws: no intervals


def test_the_level_changes_the_interval(sweep):
    result, boot = sweep
    attached = result.with_bootstrap(boot)
    narrow = ex.compute_optimal(attached, 1e23)
    wide = ex.compute_optimal(attached, 1e23, confidence_level=0.95)
    low80, high80 = narrow.interval("N")
    low95, high95 = wide.interval("N")
    assert low95 < low80 < narrow.N < high80 < high95
    # 10th and 90th percentiles of the draws' optimal N, computed apart (closed form)
    draws = boot.draws
    E, A, B, alpha, beta = draws.T
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    n_opt = G * (1e23 / 6) ** (beta / (alpha + beta))
    np.testing.assert_allclose([low80, high80], np.percentile(n_opt, [10, 90]), rtol=1e-9)


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_draws_true_is_refused_up_front(sweep, question):
    result, _ = sweep
    with pytest.raises(sl.InputError, match="`draws` must be None .*got True"):
        QUESTIONS[question](result, draws=True)
    with pytest.raises(sl.InputError, match="`confidence_level`"):
        QUESTIONS[question](result, draws=False, confidence_level=0)
