"""How ``predict_final`` redraws a part-way run's noise (analysis/curve_final.py).

The rest of ``predict_final`` (refits by the fit's objective, ties, bounds, the interval
without a refit, independence from other runs) is tested in test_curve_analysis.py; its
coverage in test_curve_final_coverage.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import CurveResamplingWarning, InputError
from scalinglaws.analysis.curve_final import _final_sums, _RunRefit
from scalinglaws.analysis.curves import predict_final
from scalinglaws.fitting.curves import fit_curves
from scalinglaws.laws.curve_synthetic import default_schedules, synthetic_curves
from scalinglaws.uncertainty.curves import bootstrap_curves

# these tests take few resamples to stay fast; the warning that few draws narrow a
# percentile interval is tested in tests/uncertainty/test_curves_few_draws.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:curve bootstrap.*too few:scalinglaws.CurveResamplingWarning")


@pytest.fixture(scope="module")
def setting():
    """A momentum-law fit with 30 bootstrap draws (the default: AR(1) sieve), and a WSD
    run with L0 0.05 nats higher, with AR(1) noise and without, seen to half its steps."""
    schedules = default_schedules()
    held = schedules.pop("wsd")
    curves, truth = synthetic_curves("momentum", schedules=schedules, rng=1, noise=0.001,
                                     autocorrelation=0.7)
    fit = fit_curves(curves, "momentum")
    draws = bootstrap_curves(fit, curves, 30, rng=1, max_iter=200)
    shifted = {**truth, "L0": truth["L0"] + 0.05}
    noisy, _ = synthetic_curves("momentum", shifted, schedules={"new": held}, rng=7,
                                noise=0.001, autocorrelation=0.7)
    clean, _ = synthetic_curves("momentum", shifted, schedules={"new": held}, noise=0.0)
    return fit, draws, noisy.truncate(0.5), clean.truncate(0.5), shifted


def test_default_is_the_ar1_sieve_and_blocks_stay_available(setting):
    fit, draws, part, _, _ = setting
    table = predict_final(fit, part, draws=draws, rng=0)
    assert table.attrs["run_points"].startswith("studentized AR(1) sieve bootstrap")
    assert table.attrs["method"] == "bootstrap percentile"
    assert table.block_length[0] == 0 and 0.3 < table.noise_ar1[0] < 0.99
    assert table.final_low[0] < table.final_loss[0] < table.final_high[0]
    assert predict_final(fit, part, draws=draws, rng=0).equals(table)  # same seed
    # block_length alone means the moving blocks it sizes, as before
    blocks = predict_final(fit, part, draws=draws, rng=0, block_length=9)
    assert blocks.equals(predict_final(fit, part, draws=draws, rng=0, run_noise="blocks",
                                       block_length=9))
    assert blocks.attrs["run_points"] == "moving blocks" and blocks.block_length[0] == 9
    assert np.isnan(blocks.noise_ar1[0])
    with pytest.raises(InputError, match="`run_noise` must be one of 'ar1', 'blocks'"):
        predict_final(fit, part, draws=draws, run_noise="points")
    with pytest.raises(InputError, match="`block_length` sizes the blocks"):
        predict_final(fit, part, draws=draws, run_noise="ar1", block_length=9)
    unrefit = predict_final(fit, part, draws=draws, refit=())
    assert unrefit.attrs["run_points"] == "" and np.isnan(unrefit.noise_ar1[0])


def test_noise_free_run_gets_the_law_s_interval_alone(setting):
    # a run with no noise around the point law (the truth, here): nothing to redraw, every
    # pseudo-run is the run itself, and the interval is that of the draws refitted on the
    # run (one block as long as the run), another code path. (Around a fitted law the
    # residuals of a clean run are the law's smooth misfit, which the sieve counts as
    # noise with a coefficient near 1.)
    import dataclasses

    from scalinglaws.fitting.curves import CurveFitResult

    fit, draws, _, clean, shifted = setting
    truth = CurveFitResult.from_params("momentum", shifted)
    at_truth = dataclasses.replace(draws, point=dict(truth.params))
    table = predict_final(truth, clean, draws=at_truth, rng=0)
    alone = predict_final(truth, clean, draws=at_truth, block_length=len(clean))
    assert table.final_low[0] == pytest.approx(alone.final_low[0], rel=1e-9)
    assert table.final_high[0] == pytest.approx(alone.final_high[0], rel=1e-9)
    assert table.final_high[0] - table.final_low[0] > 1e-4  # the draws do differ


def test_linear_map_to_the_final_loss_is_the_refit_s_response(setting):
    # the map studentizing the run's part, g (J'J)^-1 J', predicts how the refitted final
    # loss moves when the run's log losses move by a small e (refitted for real here);
    # refitting L0 alone and L0 with A; on the noise-free run, where every residual is in
    # the Huber objective's quadratic part
    fit, _, _, part, _ = setting
    law = fit.law
    for refit in (("L0",), ("L0", "A")):
        refitter = _RunRefit(fit, part, refit)
        params, _ = refitter(dict(fit.params))
        final_sums = _final_sums(fit, part)
        _, target = refitter.linearized(params, final_sums)
        e = 2e-5 * np.sin(np.linspace(0, 3, len(part))) + 1e-5
        moved, _ = refitter(params, target=refitter.target * np.exp(e))

        def final(p):
            return law.predict(p, final_sums)[0]

        assert final(moved) - final(params) == pytest.approx(target @ e, rel=0.02)


def test_a_run_too_short_for_its_noise_says_so(setting):
    # 3 points and L0 refitted: 2 residual degrees of freedom, no AR(1) to estimate; the
    # draws are refitted on the run itself (as one block as long as the run), and it warns
    fit, draws, part, _, _ = setting
    three = part.select(mask=np.arange(len(part)) < 3)
    with pytest.warns(CurveResamplingWarning, match="too few beyond the 1 refitted"):
        table = predict_final(fit, three, draws=draws, rng=0)
    alone = predict_final(fit, three, draws=draws, block_length=3)
    assert table.final_low[0] == alone.final_low[0]
    assert table.final_high[0] == alone.final_high[0]
    assert np.isnan(table.noise_ar1[0])
    four = predict_final(fit, part.select(mask=np.arange(len(part)) < 4), draws=draws, rng=0)
    assert np.isfinite(four.noise_ar1[0])


def test_draws_false_is_no_interval_as_everywhere_else(setting):
    # draws=False was refused ("must be a CurveBootstrap, got bool"); it is the package's
    # "no intervals"
    fit, _, part, _, _ = setting
    off = predict_final(fit, part, draws=False)
    pd.testing.assert_frame_equal(off, predict_final(fit, part))
    assert "final_low" not in off.columns and off.attrs == {}
    with pytest.raises(InputError, match=r"^`draws` must be a CurveBootstrap \(bootstrap_curves\), "
                                         r"or None or False for no intervals; got bool$"):
        predict_final(fit, part, draws=True)
