"""Run-to-run scatter: recovered from synthetic sweeps whose noise is known."""

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_TRUTH, isoflop_grid
from scalinglaws.uncertainty.scatter import Scatter, estimate_scatter, log_residuals

TRUTH = DEFAULT_TRUTH["chinchilla"]


def _law(N, D):
    return TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]


def _runs(sd, rng, grid=None, **extra):
    grid = isoflop_grid() if grid is None else grid
    N, D, C = (grid[c].to_numpy() for c in ("N", "D", "C"))
    sd = np.broadcast_to(sd(N, D, C) if callable(sd) else sd, N.shape)
    loss = _law(N, D) * np.exp(sd * rng.standard_normal(N.size))
    return sl.Runs.from_arrays(N=N, D=D, C=C, loss=loss, **extra)


def test_constant_scatter_recovers_the_noise():
    # 30 sweeps of 108 runs with 1% noise: sigma's relative sampling sd is about
    # 1/sqrt(2 * 103) = 7% per sweep, 1.3% for the mean over 30 sweeps
    rng = np.random.default_rng(0)
    sigmas = []
    for _ in range(30):
        runs = _runs(0.01, rng)
        sigmas.append(estimate_scatter(sl.fit(runs), runs, model="constant").sigma)
    assert np.mean(sigmas) == pytest.approx(0.01, rel=0.04)  # 3 Monte-Carlo sd


def test_ratio_model_sees_scatter_growing_away_from_the_typical_ratio():
    rng = np.random.default_rng(1)

    def sd(N, D, C):  # 0.5% at the sweep's centre, 4x larger two e-folds of D/N away
        x = np.log(D / N) - np.log(D / N).mean()
        return 0.005 * np.exp(0.35 * x**2)

    runs = _runs(sd, rng, grid=isoflop_grid(n_sizes=24))
    # the ends' losses are far off any law (sd of log loss up to 8.4), and the fit says so
    with pytest.warns(sl.ScalingLawsWarning, match="runs lie more than 25 robust"):
        result = sl.fit(runs)
    scatter = estimate_scatter(result, runs, model="ratio")
    assert scatter.coefficient == pytest.approx(0.35, abs=0.1)  # regression of log|r|, 216 runs
    frame = runs.frame
    inputs = {c: frame[c].to_numpy() for c in ("N", "D")}
    ratio = scatter.sd(inputs) / sd(inputs["N"], inputs["D"], None)
    assert np.median(ratio) == pytest.approx(1.0, rel=0.15)


def test_ratio_model_stays_constant_on_constant_noise():
    rng = np.random.default_rng(2)
    runs = _runs(0.01, rng)
    scatter = estimate_scatter(sl.fit(runs), runs, model="ratio")
    assert scatter.coefficient < 0.05  # clipped at 0 from below; small when nothing grows
    assert scatter.sigma == pytest.approx(0.01, rel=0.2)


def test_power_model_recovers_a_slope_in_compute():
    rng = np.random.default_rng(3)
    runs = _runs(lambda N, D, C: 0.01 * (C / 1e20) ** -0.15, rng, grid=isoflop_grid(n_sizes=30))
    scatter = estimate_scatter(sl.fit(runs), runs, model="power", axis="C")
    assert scatter.coefficient == pytest.approx(-0.15, abs=0.06)


def test_replicates_pool_the_within_seed_spread():
    rng = np.random.default_rng(4)
    grid = isoflop_grid(n_sizes=6)
    frames = []
    for seed in range(3):
        runs = _runs(0.02, rng, grid=grid)
        frame = runs.frame.copy()
        frame["seed"] = seed
        frames.append(frame)
    runs = sl.load_runs(pd.concat(frames, ignore_index=True))
    scatter = estimate_scatter(sl.fit(runs), runs, replicates="seed")
    assert scatter.source == "replicates"
    assert scatter.dof == 2 * len(grid)
    assert scatter.sigma == pytest.approx(0.02, rel=0.15)  # 108 dof: relative sd ~7%


def test_gross_outliers_are_set_aside():
    rng = np.random.default_rng(5)
    runs = _runs(0.01, rng)
    frame = runs.frame.copy()
    frame.loc[[3, 50], "loss"] *= 1.5  # two diverged runs
    bad = sl.load_runs(frame)
    with pytest.warns(sl.ScalingLawsWarning, match=r"\(row 3: loss 1\.5\dx the law's"):
        result = sl.fit(bad)  # 40 robust sd off: the fit names them too
    scatter = estimate_scatter(result, bad)
    assert scatter.n_outliers == 2
    assert scatter.sigma < 0.015


def test_log_residuals_are_log_prediction_minus_log_loss():
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    expected = np.log(result.predict(N=runs.N, D=runs.D)) - np.log(runs.loss)
    np.testing.assert_allclose(log_residuals(result, runs), expected)


def test_bad_arguments_name_themselves():
    runs = sl.generate_sweep(rng=0)
    result = sl.fit(runs)
    with pytest.raises(sl.InputError, match="`model`"):
        estimate_scatter(result, runs, model="quadratic")
    with pytest.raises(sl.InputError, match="`axis`"):
        estimate_scatter(result, runs, axis="T")
    with pytest.raises(sl.InputError, match="replicates"):
        estimate_scatter(result, runs, replicates="seed")
    with pytest.raises(sl.InputError, match="no two runs"):
        frame = runs.frame.copy()
        frame["seed"] = np.arange(len(frame))
        estimate_scatter(result, sl.load_runs(frame), replicates="seed")


def test_sd_needs_the_inputs_its_shape_uses():
    with pytest.raises(sl.InputError, match="N and D"):
        Scatter(sigma=0.01, model="ratio", coefficient=0.1).sd({"C": np.ones(2)})
    assert Scatter(sigma=0.01).sd({"N": np.ones(3)}).tolist() == [0.01] * 3
