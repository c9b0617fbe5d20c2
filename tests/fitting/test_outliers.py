"""Runs far off a fitted law (fitting/outliers.py): the robust rule checked by hand, a plain
fit naming diverged runs by their rows in the file, and ordinary sweeps left alone."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.fitting.outliers import (DIVERGED, SET_ASIDE, gross_outliers,
                                          robust_deviations)

BUNDLED = "datasets/synthetic_chinchilla_sweep.csv"


def _fit_quietly(runs, form="chinchilla"):
    """A fit whose other warnings (a Porian setting's flat E, say) are not the question
    here; its diagnostics are what the outlier warning is made from."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(runs, form)


def test_robust_deviations_by_hand():
    z = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 100.0])
    # median 2.5; |z - 2.5| = 2.5, 1.5, 0.5, 0.5, 1.5, 97.5, whose median is 1.5
    robust_sd = 1.482602218505602 * 1.5
    np.testing.assert_allclose(robust_deviations(z), np.abs(z - 2.5) / robust_sd)
    assert robust_deviations(z)[-1] == pytest.approx(97.5 / 2.2239, rel=1e-4)
    assert gross_outliers(z).tolist() == [False] * 5 + [True]
    assert gross_outliers(z, 50.0).tolist() == [False] * 6  # 43.8 sd
    assert not gross_outliers(np.zeros(5)).any()  # no spread: nobody is an outlier
    assert (SET_ASIDE, DIVERGED) == (5.0, 25.0)  # the README's numbers


def _m3(tmp_path):
    """The audit's m3.csv: the bundled sweep with row 5's loss missing, rows 20 and 30
    diverged (losses 9.5 and 7.2) and rows 10-11 repeated at the end."""
    frame = pd.read_csv(BUNDLED)
    frame.loc[5, "loss"] = np.nan
    frame.loc[20, "loss"], frame.loc[30, "loss"] = 9.5, 7.2
    frame = pd.concat([frame, frame.iloc[10:12]], ignore_index=True)
    path = tmp_path / "m3.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(dropped|repeat)", category=sl.ScalingLawsWarning)
        return sl.load_runs(path, nan_policy="omit", duplicates="drop")


def test_a_fit_names_diverged_runs_by_their_row_and_line_in_the_file(tmp_path):
    runs = _m3(tmp_path)  # rows 5, 108, 109 dropped: positions and rows differ past 5
    with pytest.warns(sl.ScalingLawsWarning, match="2 runs lie more than 25 robust") as caught:
        result = sl.fit(runs)
    message = str(caught[0].message)
    assert "row 20 (line 22)" in message and "row 30 (line 32)" in message
    assert caught[0].filename == __file__
    outliers = result.diagnostics["outliers"]
    assert list(outliers["rows"]) == [20, 30] and list(outliers["lines"]) == [22, 32]
    # the loss over the law's: 9.5 and 7.2 against the law at those runs
    law = result.predict(N=runs.N, D=runs.D)
    where = [int(np.flatnonzero(np.asarray(runs.row_numbers) == row)[0]) for row in (20, 30)]
    np.testing.assert_allclose(outliers["log_residuals"], np.log(law[where] / [9.5, 7.2]))
    assert all(sd > DIVERGED for sd in outliers["robust_sd"])
    assert "outliers   row 20 (line 22): loss" in result.summary()


def test_the_file_keeps_them_and_its_summary_says_them(tmp_path):
    runs = _m3(tmp_path)
    with pytest.warns(sl.ScalingLawsWarning, match="robust standard deviations"):
        result = sl.fit(runs)
    sl.save(result, tmp_path / "fit.json")
    back = sl.load(tmp_path / "fit.json")
    assert list(back.diagnostics["outliers"]["rows"]) == [20, 30]
    assert "row 30 (line 32)" in back.summary()


def test_a_dataframe_names_its_rows_without_lines():
    frame = pd.read_csv(BUNDLED)
    frame.loc[7, "loss"] *= 3.0
    with pytest.warns(sl.ScalingLawsWarning, match=r"<DataFrame>: 1 run lies .*\(row 7: loss "
                                                   r"3\.\d+x the law's"):
        result = sl.fit(frame)
    assert list(result.diagnostics["outliers"]["rows"]) == [7]
    assert "lines" not in result.diagnostics["outliers"]


def test_ordinary_synthetic_sweeps_name_no_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error", sl.ScalingLawsWarning)  # not a word from these
        assert "outliers" not in sl.fit(sl.load_runs(BUNDLED)).diagnostics
        for noise in (0.0, 0.005, 0.02):  # noise-free: every residual near 0, none named
            for seed in range(3):
                result = sl.fit(sl.generate_sweep(noise=noise, rng=seed))
                assert "outliers" not in result.diagnostics


def test_public_sweeps_name_no_run_but_the_two_epoch_drops(shared_dir):
    """Beyond 5 robust sd (the scatter's threshold) a plain fit would name runs in every
    real sweep (5 of Epoch's 240, 1 to 10 in each Porian setting); none reaches 25. Of
    Epoch's full 245 it names the two highest-loss runs, which the replication drops."""
    from scalinglaws.data import public

    data = shared_dir / "datasets"
    csv = data / "chinchilla_epoch" / "svg_extracted_data.csv"
    assert "outliers" not in _fit_quietly(public.epoch_chinchilla(csv)).diagnostics
    every = public.epoch_chinchilla(csv, exclude_top_loss=0)
    # the five highest-loss runs kept pull the law off the others: 0.7% below the runs of
    # largest D (fitting/lack_of_fit.py), which the 240 runs alone do not show
    with pytest.warns(sl.ScalingLawsWarning, match="2 runs lie more than 25"), \
            pytest.warns(sl.LackOfFitWarning, match="trend with D"):
        result = sl.fit(every)
    highest = np.argsort(-pd.read_csv(csv)["loss"].to_numpy())[:2]
    assert sorted(result.diagnostics["outliers"]["rows"]) == sorted(highest.tolist())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=sl.ScalingLawsWarning,
                                message=".*(column 'setting'|with no loss)")
        porian = public.porian2024(data / "porian2024" / "porian2024_isoflop.csv")
        muennighoff = public.muennighoff2023(
            data / "muennighoff2023_datablations" / "datablations_c4_runs.csv",
            fit_set_only=True)
    for setting, part in porian.groupby("setting"):
        assert "outliers" not in _fit_quietly(part).diagnostics, setting
    assert "outliers" not in _fit_quietly(muennighoff, "data_constrained").diagnostics
