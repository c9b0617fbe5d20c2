"""Whether a fitted law fits its runs (fitting/lack_of_fit.py): the residuals' size and the
binned-means test checked by hand, its false-alarm rate on sweeps of the correct law
measured, and its verdict on Porian et al.'s tuned setting (whose law converged and
misfits), on sweeps from another law, and on the public sweeps that fit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scalinglaws as sl
from scalinglaws.fitting.lack_of_fit import (MIN_SHIFT, P_VALUE, binned_trend, lack_of_fit,
                                             misfit_text, residual_size)
from scalinglaws.laws.misspecified import misspecified_sweep

SWEEP_CSV = Path(__file__).resolve().parents[2] / "datasets" / "synthetic_chinchilla_sweep.csv"

TUNED = "rw/tuned/short/const/standard/val"


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        return function(*args, **kwargs)


def _porian(shared_dir):
    frame = pd.read_csv(shared_dir / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    return frame[frame["setting"] == TUNED][["N", "D", "C", "loss"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- by hand


def test_residual_size_by_hand():
    z = np.array([0.03, -0.04, 0.0, np.nan])
    size = residual_size(z)
    assert size["rms"] == pytest.approx(np.sqrt((0.03 ** 2 + 0.04 ** 2) / 3))
    assert size["max"] == pytest.approx(0.04)
    assert residual_size([np.nan]) is None


def test_binned_trend_by_hand():
    # three budgets of four runs: the means are 0.02, 0 and -0.02 around an overall 0
    values = np.repeat([1e18, 1e19, 1e20], 4)
    noise = np.array([0.01, -0.01, 0.005, -0.005])
    z = np.concatenate([0.02 + noise, noise, -0.02 + noise])
    out = binned_trend(z, values, "C")
    sd = np.std(noise, ddof=1)
    t = np.array([0.02, 0.0, -0.02]) / (sd / 2.0)
    # each bin's t through t(3) to a two-sided p, back to a normal score, summed: chi2(3)
    scores = stats.norm.isf(stats.t.sf(np.abs(t), 3)) ** 2
    assert out["p_value"] == pytest.approx(stats.chi2.sf(scores.sum(), 3), rel=1e-9)
    assert [b["n"] for b in out["bins"]] == [4, 4, 4]
    assert [b["low"] for b in out["bins"]] == [1e18, 1e19, 1e20]
    np.testing.assert_allclose([b["mean"] for b in out["bins"]], [0.02, 0.0, -0.02], atol=1e-15)
    assert out["shift"] == pytest.approx(0.02)


def test_quantile_bins_when_values_do_not_repeat():
    values = np.geomspace(1e18, 1e21, 40)  # 40 distinct values: 4 bins of 10
    z = np.where(values < 1e19, 0.03, 0.0) + 0.002 * np.sin(np.arange(40))
    out = binned_trend(z, values, "C")
    assert [b["n"] for b in out["bins"]] == [10, 10, 10, 10]
    assert out["bins"][0]["low"] == values[0] and out["bins"][-1]["high"] == values[-1]


def test_a_trend_too_small_or_too_noisy_is_not_named():
    values = np.repeat([1e18, 1e19, 1e20], 30)
    rng = np.random.default_rng(0)
    noise = 1e-4 * rng.standard_normal(90)
    tiny = np.repeat([0.002, 0.0, -0.002], 30) + noise  # p tiny, but 0.2% < MIN_SHIFT
    assert binned_trend(tiny, values, "C")["p_value"] < 1e-30
    assert lack_of_fit(tiny, {"C": values}) is None
    strong = np.repeat([0.02, 0.0, -0.02], 30) + noise
    found = lack_of_fit(strong, {"C": values, "N": np.arange(1, 91.0)})
    assert found["axis"] == "C" and found["threshold"] == pytest.approx(P_VALUE / 2)
    assert found["shift"] >= MIN_SHIFT
    # too few runs per bin for a scatter: no test
    assert binned_trend(strong[:6], values[:6], "C") is None


def test_the_words_name_the_bins_below_and_above_and_the_largest():
    trend = {"axis": "C", "p_value": 1.8e-11, "also": [], "bins": [
        {"low": 1.25e16, "high": 1.25e16, "n": 8, "mean": 0.13},
        {"low": 4e17, "high": 4e17, "n": 13, "mean": -0.078},
        {"low": 2.56e19, "high": 2.56e19, "n": 6, "mean": 0.045}]}
    text = misfit_text(trend)
    # runs / law = exp(-mean): 0.878 (12% below), 1.081 (8.1% above), 0.956 (4.4% below)
    assert ("runs at C = 1.25e+16 lie 12% below the law (8 runs), at C = 4e+17 8.1% above "
            "(13 runs), at the largest, C = 2.56e+19, 4.4% below (6 runs)") in text
    assert "p = 1.8e-11" in text


# ----------------------------------------------------------------------------- calibration


def _correct_law_sweeps(seeds, noises=(0.0025, 0.01, 0.05)):
    """Sweeps of the Chinchilla law (sl.generate_sweep) in four layouts, Gaussian noise and
    t(3) noise of the same sd (heavy tails, as real sweeps have)."""
    layouts = [dict(), dict(budgets=np.geomspace(1e18, 1e21, 4), n_sizes=8),
               dict(budgets=np.geomspace(1e17, 1e22, 12), n_sizes=5),
               dict(budgets=np.geomspace(1e19, 3e21, 6), n_sizes=10)]
    for k, layout in enumerate(layouts):
        for noise in noises:
            for seed in seeds:
                yield sl.generate_sweep(noise=noise, rng=[k, seed], **layout)
                clean = sl.generate_sweep(noise=0.0, **layout).to_frame()
                draw = np.random.default_rng([k, seed, 3]).standard_t(3, len(clean))
                yield clean.assign(loss=clean["loss"] * np.exp(noise * draw / np.sqrt(3.0)))


def _false_alarms(seeds) -> tuple[int, int]:
    fired = total = 0
    with warnings.catch_warnings():
        # t(3) noise has runs far out (a diverged-run warning): the rate is this test's only
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)
        warnings.simplefilter("error", sl.LackOfFitWarning)  # counted, not raised
        for runs in _correct_law_sweeps(seeds):
            total += 1
            try:
                result = sl.fit(runs)
            except sl.LackOfFitWarning:
                fired += 1
                continue
            assert "lack_of_fit" not in result.diagnostics
    return fired, total


def test_sweeps_of_the_correct_law_are_not_called_misfits():
    """24 sweeps of the correct law: none named. The slow test below measures the rate."""
    fired, total = _false_alarms(seeds=range(1))
    assert total == 24 and fired == 0


@pytest.mark.slow
def test_the_false_alarm_rate_is_below_one_in_a_thousand():
    """The false-alarm rate on 1,200 sweeps of the correct law (4 layouts of 4-12 budgets
    and 5-12 sizes, noise 0.25%, 1% and 5%, Gaussian and t(3)): at most 1% asked, 0 of
    1,200 measured (README machine, 2026-12-03). A wider run of 3,600 sweeps (noise 0.25%,
    0.5%, 1%, 2%, 5%) named one, a 5% t(3) sweep whose smallest p-value, 3.26e-4, fell
    just under the threshold (3.33e-4 per axis): a rate of 0.03%."""
    fired, total = _false_alarms(seeds=range(50))
    assert total == 1200
    assert fired / total <= 0.01
    assert fired <= 3  # what was measured (0), with room for a platform's last digits


# ----------------------------------------------------------------------------- verdicts


def test_a_fit_with_a_nonzero_status_that_misfits_reads_as_a_sentence(tmp_path):
    # two runs' N written in millions: the fit ends on a bound (status 1) and misfits; the
    # warning read "the fit the law's form misfits the runs"
    frame = pd.read_csv(SWEEP_CSV)
    frame.loc[[5, 50], "N"] /= 1e6
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sl.fit(path)
    assert result.status != 0
    said = [str(w.message) for w in caught if issubclass(w.category, sl.LackOfFitWarning)]
    assert len(said) == 1 and said[0].startswith(
        f"{path}: the law's form misfits the runs: the residuals trend with N (binned means "
        "against their within-bin scatter, p = "), said[0]


def test_porian_tuned_setting_converges_and_misfits(shared_dir, tmp_path):
    """The audit's case: 121 runs, status 0, residuals that trend across budgets (+13% at
    1.25e16, -8% at 4e17, +5% at 2.56e19 in log f - log L), the law at the largest budget
    3.28 where the runs reach 3.10, and before, only a perplexity hint."""
    frame = _porian(shared_dir)
    path = tmp_path / "tuned.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(sl.LackOfFitWarning) as caught:
        result = sl.fit(path)
    assert result.status == 0
    said = [str(w.message) for w in caught]
    assert not [w for w in caught if issubclass(w.category, sl.UnitsWarning)]  # no perplexity
    assert len(said) == 1 and "the fit converged, but the law's form misfits the runs" in said[0]
    assert ("runs at C = 1.25e+16 lie 12% below the law (8 runs), at C = 4e+17 8.1% above "
            "(13 runs), at the largest, C = 2.56e+19, 4.4% below (6 runs)") in said[0]
    assert "floor E = 3.131 lies above the lowest loss of the runs (3.097)" in said[0]
    # the numbers from the runs themselves
    law = result.predict(N=frame["N"], D=frame["D"])
    z = np.log(law) - np.log(frame["loss"])
    size = result.diagnostics["residuals"]
    assert size["rms"] == pytest.approx(np.sqrt(np.mean(z ** 2)))
    assert size["max"] == pytest.approx(np.max(np.abs(z)))
    assert round(100 * size["rms"], 1) == 8.6 and round(100 * size["max"]) == 31
    by_budget = z.groupby(frame["C"]).mean()
    bins = result.diagnostics["lack_of_fit"]["bins"]
    np.testing.assert_allclose([b["mean"] for b in bins], by_budget.to_numpy())
    assert by_budget[1.25e16] == pytest.approx(0.130, abs=5e-4)  # +13%
    assert by_budget[4e17] == pytest.approx(-0.078, abs=5e-4)  # -8%
    text = result.summary()
    assert "residuals  RMS 8.6%, largest 31%" in text and "misfit     the residuals trend" in text
    sl.save(result, tmp_path / "fit.json")  # kept in the file, and said again on loading
    back = sl.load(tmp_path / "fit.json")
    assert back.diagnostics["lack_of_fit"]["axis"] == "C"
    assert "residuals  RMS 8.6%" in back.summary() and "misfit" in back.summary()


def test_a_perplexity_column_still_gets_the_units_hint():
    # the form fits a column of perplexities (no trend), so E's size points at the units
    frame = sl.generate_sweep(rng=0).to_frame()[["N", "D", "loss"]]
    frame = frame[np.exp(frame["loss"]) < 14.4].reset_index(drop=True)
    with pytest.warns(sl.UnitsWarning, match="perplexity"):
        result = sl.fit(frame.assign(loss=np.exp(frame["loss"])))
    assert "lack_of_fit" not in result.diagnostics


@pytest.mark.parametrize("seed", range(3))
def test_a_sweep_of_another_law_is_called_a_misfit(seed):
    # Kaplan et al.'s L(N, D) as the truth, 1% noise: the Chinchilla form misfits along C
    runs = sl.generate_sweep("kaplan_nd", rng=seed)
    with pytest.warns(sl.LackOfFitWarning, match="the residuals trend with C"):
        result = sl.fit(runs)
    assert result.diagnostics["lack_of_fit"]["shift"] > 0.015


def test_embedding_heavy_small_models_are_called_a_misfit():
    # the law holds in non-embedding parameters, the table counts all: the smallest models
    # lie up to 7% above the fitted law; at 0.25% noise that is plain to see
    runs = misspecified_sweep("embeddings", noise=0.0025, rng=0)
    with pytest.warns(sl.LackOfFitWarning, match="trend with N"):
        result = sl.fit(runs)
    first = result.diagnostics["lack_of_fit"]["bins"][0]
    assert first["low"] == pytest.approx(np.min(runs.N)) and first["mean"] < -0.01


def test_sweeps_that_fit_say_how_well(shared_dir):
    from scalinglaws.data import public

    with warnings.catch_warnings():
        warnings.simplefilter("error", sl.LackOfFitWarning)
        bundled = sl.fit(sl.load_runs("datasets/synthetic_chinchilla_sweep.csv"))
        epoch = _quiet(sl.fit, public.epoch_chinchilla(
            shared_dir / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"))
    # 1% noise: an RMS of about 1%; Epoch's 240 runs 0.75%, and no trend
    assert 0.008 < bundled.diagnostics["residuals"]["rms"] < 0.011
    assert "lack_of_fit" not in bundled.diagnostics and "misfit" not in bundled.summary()
    assert epoch.diagnostics["residuals"]["rms"] == pytest.approx(0.0075, abs=5e-4)
    assert "lack_of_fit" not in epoch.diagnostics


def test_a_grouped_fit_names_the_groups_that_misfit(shared_dir):
    tuned = _porian(shared_dir).assign(recipe="tuned")
    synthetic = sl.generate_sweep(rng=0).to_frame()[["N", "D", "C", "loss"]].assign(
        recipe="synthetic")
    frame = pd.concat([tuned, synthetic], ignore_index=True)
    with pytest.warns(sl.LackOfFitWarning, match=r"group recipe='tuned': the fit converged, "
                                                 r"but the law's form misfits") as caught:
        joint = sl.fit(frame, groups="recipe")
    assert len([w for w in caught if issubclass(w.category, sl.LackOfFitWarning)]) == 1
    assert "lack_of_fit" in joint["tuned"].diagnostics
    assert "lack_of_fit" not in joint["synthetic"].diagnostics
    # the group's diagnostics are the single fit's
    alone = _quiet(sl.fit, tuned[["N", "D", "C", "loss"]])
    assert joint["tuned"].diagnostics["residuals"]["rms"] == pytest.approx(
        alone.diagnostics["residuals"]["rms"], rel=1e-6)
    text = joint.summary()
    assert "misfit along C" in text and "misfit: the residuals of 1 of 2 groups" in text


def test_clusters_make_each_run_one_unit_of_its_bin():
    # the by-hand case above, each row now seen twice (two seeds sharing the run's
    # deviation, a seed-to-seed spread of 0.001): as runs, the bins are the same four runs
    values = np.repeat([1e18, 1e19, 1e20], 4)
    noise = np.array([0.01, -0.01, 0.005, -0.005])
    z = np.concatenate([0.02 + noise, noise, -0.02 + noise])
    seeds = np.concatenate([z - 0.001, z + 0.001])
    runs = np.tile(np.arange(12), 2)
    out = binned_trend(seeds, np.tile(values, 2), "C", clusters=runs)
    alone = binned_trend(z, values, "C")
    assert out["p_value"] == pytest.approx(alone["p_value"], rel=1e-9)
    assert [b["n"] for b in out["bins"]] == [4, 4, 4]
    # as rows, the eight rows of a bin looked like eight independent runs: 1e-3 to 1e-4
    assert binned_trend(seeds, np.tile(values, 2), "C")["p_value"] < alone["p_value"] / 10


def test_seeds_of_a_law_that_fits_are_no_misfit_and_of_one_that_does_not_are():
    """Two seeds of every configuration (run_id repeats at the same inputs; the seeds
    share the configuration's deviation, 1%, and differ by 0.5%): counted as rows, a
    correct law's residuals trended (p = 8.7e-6 on the larger runs of the bundled sweep);
    counted as runs they do not, while Kaplan's L(N, D) as the truth is still a misfit."""
    def seeds(runs):
        rng = np.random.default_rng(0)
        rows = [dict(run_id=i, N=r.N, D=r.D, C=r.C, loss=r.loss * np.exp(rng.normal(0, 0.005)))
                for i, r in runs.to_frame().iterrows() for _ in range(2)]
        frame = pd.DataFrame(rows)
        return frame[np.exp(frame["loss"]) < 14.4].reset_index(drop=True)  # larger runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # the seeds' own warning
        warnings.simplefilter("error", sl.LackOfFitWarning)
        right = sl.fit(seeds(sl.generate_sweep(rng=0)))
    assert "lack_of_fit" not in right.diagnostics
    with pytest.warns(sl.LackOfFitWarning, match="the residuals trend with C"), \
            pytest.warns(sl.ScalingLawsWarning, match="share their run_id"):
        sl.fit(seeds(sl.generate_sweep("kaplan_nd", rng=0)))
