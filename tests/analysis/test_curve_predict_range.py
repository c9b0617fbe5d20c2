"""``predict_curve`` warns for a schedule far longer, or a peak LR far away, from the
curves the law was fitted on (review s27, F10)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.analysis.curves import FAR_LONGER, FAR_PEAK_LR, predict_curve
from scalinglaws.fitting.curves import fit_curves
from scalinglaws.laws.curve_synthetic import synthetic_curves
from scalinglaws.laws.schedules import Schedule
from scalinglaws.outputs.io.curves import load_curve_fit, save_curve_fit


@pytest.fixture(scope="module")
def fitted():
    curves, _ = synthetic_curves("momentum", rng=0, noise=0.0)
    return curves, fit_curves(curves, "momentum")


def test_the_fit_keeps_its_curves_range_and_a_file_carries_it(fitted, tmp_path):
    curves, result = fitted
    # from the curves themselves: last logged step and peak LR of each
    last = [int(np.max(curves.steps(run))) for run in curves.runs]
    peaks = [float(np.max(curves.lr_array(run))) for run in curves.runs]
    kept = {k: list(v) for k, v in result.diagnostics["fitted_range"].items()}
    assert kept == {"steps": [min(last), max(last)], "peak_lr": [min(peaks), max(peaks)]}
    save_curve_fit(result, tmp_path / "c.json")
    loaded = load_curve_fit(tmp_path / "c.json")
    assert dict(loaded.diagnostics["fitted_range"]) == dict(result.diagnostics["fitted_range"])


def test_inside_the_fitted_schedules_is_quiet(fitted):
    _, result = fitted
    longest = result.diagnostics["fitted_range"]["steps"][1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 3x the length (Luo et al.'s own checks reach a few times) at a 1.5x peak
        predict_curve(result, Schedule.cosine(int(3 * longest), 4.5e-4, final_lr=3e-5,
                                              warmup_steps=500))


def test_a_far_longer_schedule_warns(fitted):
    _, result = fitted
    assert FAR_LONGER == 4.0
    with pytest.warns(sl.ExtrapolationWarning,
                      match=r"predicting a curve with 199999 steps, 8\.36x the longest fitted "
                            r"curve \(23920 steps\) \(warned beyond 4x the length") as caught:
        predict_curve(result, Schedule.cosine(200000, 3e-4, final_lr=3e-5, warmup_steps=500))
    assert caught[0].filename == __file__


def test_a_peak_lr_far_outside_the_fitted_peaks_warns(fitted):
    _, result = fitted
    assert FAR_PEAK_LR == 2.0
    with pytest.warns(sl.ExtrapolationWarning,
                      match=r"a peak LR of 0\.003, outside the fitted curves' peaks \(0\.0003 to "
                            r"0\.0003\) by more than 2x"):
        predict_curve(result, Schedule.constant(24000, 3e-3, warmup_steps=2160))
    with pytest.warns(sl.ExtrapolationWarning, match="by more than 2x"):
        predict_curve(result, Schedule.constant(24000, 1e-4, warmup_steps=2160))  # 3x below


def test_a_rising_predicted_loss_is_named():
    # the README's `curves fit` of Luo et al.'s 100M train curves (warmup="include"),
    # rounded: at 10x its only peak LR the warmup's rise enters the loss-drop sum with a
    # positive sign and the predicted loss climbs as training goes on
    import dataclasses

    from scalinglaws.fitting.curves import CurveFitResult

    params = dict(L0=2.6074, A=0.6303, alpha=0.4492, B=635.72, C=0.001947, beta=0.2463,
                  gamma=1.3564)
    result = dataclasses.replace(
        CurveFitResult.from_params("mpl", params, warmup="include"),
        diagnostics={"fitted_range": {"steps": [15936, 23936], "peak_lr": [3e-4, 3e-4]}})
    schedule = Schedule.constant(24000, 3e-3, warmup_steps=2160)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ExtrapolationWarning)
        loss = predict_curve(result, schedule, steps=[8000, 23999]).loss
    assert loss[1] > loss[0] * 1.001  # the premise: it does rise
    with pytest.warns(sl.ExtrapolationWarning,
                      match=rf"the predicted loss rises during training \({loss[0]:.4g} at "
                            rf"step 8000 to {loss[1]:.4g} at step 23999\)"):
        predict_curve(result, schedule, steps=[8000, 23999])
