"""Synthetic data from a known law (scalinglaws.laws.synthetic): IsoFLOP sweeps and
per-checkpoint training curves."""

import numpy as np
import pandas as pd
import pytest

from scalinglaws import InputError, generate_sweep
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import (
    DEFAULT_BUDGETS,
    DEFAULT_CURVE_SIZES,
    DEFAULT_HORIZONS,
    DEFAULT_TRUTH,
    isoflop_grid,
    synthetic_training_curves,
)


def test_isoflop_layout():
    grid = isoflop_grid(n_sizes=5)
    assert len(grid) == 5 * len(DEFAULT_BUDGETS)
    np.testing.assert_allclose(6 * grid.N * grid.D, grid.C, rtol=1e-12)
    first = grid[grid.budget == 0]
    assert first.N.max() / first.N.min() == pytest.approx(100)


def test_same_seed_same_sweep_and_noise_level():
    a, b = generate_sweep(rng=3), generate_sweep(rng=3)
    assert np.array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, generate_sweep(rng=4).loss)
    clean = generate_sweep(noise=0.0)
    log_noise = np.log(generate_sweep(noise=0.01, rng=0).loss / clean.loss)
    # 108 draws: the SD estimate has a relative Monte-Carlo SE of 1/sqrt(2*107) = 6.8%
    assert np.std(log_noise, ddof=1) == pytest.approx(0.01, rel=3 * 0.068)


def test_generator_validates():
    with pytest.raises(InputError, match="`noise`"):
        generate_sweep(noise=-1)
    with pytest.raises(InputError, match="`budgets`"):
        generate_sweep(budgets=[])
    with pytest.raises(InputError, match="`n_sizes`"):
        isoflop_grid(n_sizes=1)


def test_isoflop_grid_former_ratio_name_is_deprecated():
    new = isoflop_grid(n_sizes=3, tokens_per_parameter=40.0)
    with pytest.warns(FutureWarning, match="`tokens_per_param` is now `tokens_per_parameter`"):
        old = isoflop_grid(n_sizes=3, tokens_per_param=40.0)
    pd.testing.assert_frame_equal(new, old)
    centre = new[new.budget == 0].N.iloc[1]  # the middle of three sizes is N0
    assert new[new.budget == 0].D.iloc[1] / centre == pytest.approx(40.0)


# ----------------------------------------------------------------------------- training curves
def test_synthetic_training_curves_layout():
    runs = synthetic_training_curves(sizes=[1e8, 4e8, 1.6e9], horizons=[10, 40],
                                     n_checkpoints=5, noise=0.0)
    frame = runs.frame
    assert len(runs) == 3 * 2 * 5
    assert {"run_id", "step", "horizon"} <= set(frame.columns)
    assert frame.groupby("run_id")["N"].nunique().eq(1).all()
    np.testing.assert_allclose(frame.groupby("run_id")["D"].max(),
                               frame.groupby("run_id")["horizon"].first())
    np.testing.assert_allclose(frame.groupby("run_id")["D"].min(),
                               0.01 * frame.groupby("run_id")["horizon"].first())
    np.testing.assert_allclose(runs.C, 6 * runs.N * runs.D)
    expected = get_form("chinchilla").predict(DEFAULT_TRUTH["chinchilla"], N=runs.N, D=runs.D)
    np.testing.assert_allclose(runs.loss, expected)
    assert np.all(frame.groupby("run_id")["loss"].apply(lambda s: np.all(np.diff(s) < 0)))
    assert len(synthetic_training_curves()) == len(DEFAULT_CURVE_SIZES) * len(DEFAULT_HORIZONS) * 40


def test_synthetic_training_curves_noise_and_seed():
    clean = synthetic_training_curves(noise=0.0)
    a, b = synthetic_training_curves(rng=5), synthetic_training_curves(rng=5)
    assert np.array_equal(a.loss, b.loss)
    log_noise = np.log(synthetic_training_curves(noise=0.01, rng=0).loss / clean.loss)
    # 1,920 draws: the SD estimate has a relative Monte-Carlo SE of 1/sqrt(2*1919) = 1.6%
    assert np.std(log_noise, ddof=1) == pytest.approx(0.01, rel=3 * 0.016)


@pytest.mark.parametrize("options, message", [
    ({"form": "kaplan_n"}, "training curves need a law of N and D"),
    ({"sizes": []}, "`sizes` must be a non-empty list"),
    ({"horizons": [10, -1]}, "`horizons` must be a non-empty list"),
    ({"n_checkpoints": 1}, "`n_checkpoints` must be an integer >= 2"),
    ({"first_fraction": 1.0}, r"`first_fraction` must be in \(0, 1\)"),
    ({"noise": -0.1}, "`noise` must be a finite number >= 0"),
    ({"flops_per_token": 0}, "`flops_per_token` must be a finite positive number"),
])
def test_synthetic_training_curves_bad_arguments(options, message):
    with pytest.raises(InputError, match=message):
        synthetic_training_curves(**options)
