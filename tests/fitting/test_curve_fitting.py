"""Fitting curve laws: Luo et al.'s train/test protocol, the papers' objective, options."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import ConvergenceWarning, InputError
from scalinglaws.analysis.curves import curve_scores
from scalinglaws.data.curves import load_curves
from scalinglaws.fitting.curves import CurveFitResult, curve_objective, fit_curves, fit_size_scaled
from scalinglaws.laws.curve_synthetic import LUO_2025_MPL, default_schedules, synthetic_curves
from luo_curves import split as _split

SIZES = ("25M", "100M", "400M")
# Luo et al. (2025), repository README: test-set PredE of their fit
AUTHORS_PREDE = {"25M": 0.00110, "100M": 0.00142, "400M": 0.00168}
# Luo et al. (2025) Table 1, the momentum law of Tissue et al. on the same split:
# R2, MAE, RMSE, PredE, WorstE (printed to 4 digits)
TABLE1_MOMENTUM = {"25M": (0.9904, 0.0047, 0.0060, 0.0014, 0.0047),
                   "100M": (0.9959, 0.0068, 0.0095, 0.0022, 0.0094),
                   "400M": (0.9962, 0.0071, 0.0094, 0.0025, 0.0100)}


@pytest.fixture(scope="module")
def luo(luo_curves):
    return luo_curves


@pytest.fixture(scope="module")
def mpl_fits(luo):
    return {size: fit_curves(_split(luo, size)[0], "mpl") for size in SIZES}


@pytest.mark.parametrize("size", SIZES)
def test_mpl_fit_reaches_a_lower_objective_than_the_authors_parameters(luo, mpl_fits, size):
    train, _ = _split(luo, size)
    fit = mpl_fits[size]
    assert fit.status == 0 and fit.success
    authors = curve_objective("mpl", LUO_2025_MPL[size], train)
    assert fit.objective <= authors
    # the reported objective is the objective of the reported parameters
    assert curve_objective("mpl", fit.params, train) == pytest.approx(fit.objective, rel=1e-9)


@pytest.mark.parametrize("size", SIZES)
def test_mpl_fit_predicts_held_out_schedules_within_30_percent_of_the_authors(luo, mpl_fits,
                                                                           size):
    # The optimum of the papers' objective predicts the held-out WSD curves better than the
    # authors' parameters and the 72k-step cosine worse; on average within 30% (README).
    _, test = _split(luo, size)
    ours = curve_scores(mpl_fits[size], test).set_index("run_id")["PredE"]
    theirs = curve_scores(CurveFitResult.from_params("mpl", LUO_2025_MPL[size]),
                          test).set_index("run_id")["PredE"]
    assert theirs.mean() == pytest.approx(AUTHORS_PREDE[size], abs=1e-5)
    assert ours.mean() <= 1.3 * AUTHORS_PREDE[size]
    wsd = [run for run in ours.index if "wsd_" in run or "wsdld" in run]
    assert all(ours[run] < theirs[run] for run in wsd)


@pytest.mark.parametrize("size", SIZES)
def test_the_authors_parameters_are_in_the_basin_of_our_optimum(luo, mpl_fits, size):
    # Started from Luo et al.'s parameters, the engine descends to the optimum it finds from
    # its own starts (measured: objective equal to 5e-14, the README's "1e-13", parameters
    # to 8e-7): their point,
    # where their AdamW run stopped early (bench/study_mpl_authors.py re-runs it), is on
    # the slope of the same basin, not a second local optimum of the objective.
    train, _ = _split(luo, size)
    ours = mpl_fits[size]
    start = np.array([[LUO_2025_MPL[size][name] for name in ours.law.param_names]])
    from_theirs = fit_curves(train, "mpl", starts=start)
    assert from_theirs.status == 0
    assert from_theirs.objective == pytest.approx(ours.objective, rel=1e-13)
    for name, value in ours.params.items():
        assert from_theirs.params[name] == pytest.approx(value, rel=2e-6)


@pytest.mark.xfail(strict=True, reason="Luo et al.'s parameters are where their AdamW run "
                   "(lr 5e-2/5e-3, weight decay 0.01, 20 steps' patience) stopped after "
                   "91-108 steps, not an optimum: bench/study_mpl_authors.py re-runs their code "
                   "and gets their parameters to every digit. The optimum of the same data, "
                   "objective and law, reached from their parameters too, has a 2-13x lower "
                   "objective and PredE 1.16-1.29x theirs (README). Their own recipe, "
                   "fit_curves(method='luo2025'), meets it: tests/fitting/test_curves_luo.py")
def test_mpl_fit_predicts_within_10_percent_of_the_authors(luo, mpl_fits):
    for size in SIZES:
        _, test = _split(luo, size)
        assert curve_scores(mpl_fits[size], test)["PredE"].mean() <= 1.1 * AUTHORS_PREDE[size]


@pytest.mark.parametrize("size", SIZES)
def test_momentum_law_matches_the_papers_table_1(luo, size):
    # Fitted on the 3 train curves (lambda free, the paper grid-searched it), scored on the
    # 6 test curves: at or better than Table 1 on every score, at the 4 decimals it prints
    # (the README's claim).
    train, test = _split(luo, size)
    fit = fit_curves(train, "momentum")
    assert fit.status == 0
    scores = curve_scores(fit, test)[["R2", "MAE", "RMSE", "PredE", "WorstE"]].mean()
    r2, *errors = TABLE1_MOMENTUM[size]
    assert round(scores["R2"], 4) >= r2
    for ours, table in zip(scores.iloc[1:], errors):
        assert round(ours, 4) <= table


def test_fixed_tied_and_bounded_parameters():
    curves, _ = synthetic_curves("momentum", rng=3, noise=0.001)
    fixed = fit_curves(curves, "momentum", fixed={"lambda": 0.998})
    assert fixed.params["lambda"] == 0.998 and "lambda" not in fixed.free_params
    tied = fit_curves(synthetic_curves("mpl", rng=3, noise=0.0)[0], "mpl",
                      tied={"gamma": "beta"})
    assert tied.params["gamma"] == tied.params["beta"]
    with pytest.warns(ConvergenceWarning, match="optimum on a bound for alpha"):
        bounded = fit_curves(curves, "momentum", bounds={"alpha": (0.0, 0.4)})
    assert bounded.status == 1 and bounded.at_bounds == ("alpha",)
    assert bounded.params["alpha"] == pytest.approx(0.4)
    with pytest.raises(InputError, match="`fixed` names unknown.*'gamma'"):
        fit_curves(curves, "momentum", fixed={"gamma": 1.0})


def test_curve_weights_give_every_curve_the_same_total_weight():
    curves, _ = synthetic_curves("momentum", rng=4, noise=0.002)
    plain = fit_curves(curves, "momentum")
    weighted = fit_curves(curves, "momentum", weights="curve")
    assert weighted.options["weights"] == "curve"
    assert weighted.params != plain.params
    with pytest.raises(InputError, match="one value per point"):
        fit_curves(curves, "momentum", weights=[1.0, 2.0])


def test_size_scaled_fit_starts_from_per_size_fits():
    law_truth = {**LUO_2025_MPL["100M"], "L0_N": -0.07, "A_N": 0.04}
    parts = []
    for tag, size in (("s", 3e7), ("m", 1e8), ("l", 3e8)):
        schedules = {f"{tag}_{k}": v for k, v in default_schedules().items()}
        from scalinglaws.laws.curve_laws import SizeScaled

        law = SizeScaled("mpl", scaled=("L0", "A"), reference_N=1e8)
        parts.append(synthetic_curves(law, law_truth, schedules=schedules, N=size, noise=0.0,
                                      every=512, rng=0)[0])
    joined = load_curves({col: np.concatenate([p.frame[col].to_numpy() for p in parts])
                          for col in ("run_id", "step", "loss", "N")})
    joined = joined.with_schedules({r: a for p in parts for r, a in p.schedules.items()})
    fit = fit_size_scaled(joined, "mpl", scaled=("L0", "A"), reference_N=1e8)
    assert fit.params["L0_N"] == pytest.approx(-0.07, abs=1e-5)
    assert fit.params["A_N"] == pytest.approx(0.04, abs=1e-5)
    with pytest.raises(InputError, match="at least 2 sizes"):
        fit_size_scaled(parts[0], "mpl")


def test_fit_from_a_path_and_bad_input(tmp_path):
    curves, _ = synthetic_curves("momentum", rng=0, noise=0.0)
    path = tmp_path / "curves.csv"
    curves.frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="logs the LR at"):
        fit_curves(path, "momentum")  # the LR was logged every 128 steps only
    with pytest.raises(InputError, match="apply when loading"):
        fit_curves(curves, "momentum", load={"format": "csv"})
    with pytest.raises(InputError, match="`law` must be one of"):
        fit_curves(curves, "chinchilla")
