"""Predictions far outside the fitted runs, and fits their runs did not determine, warn on
every use (review s27, F3): each input's own range is checked below and above, not only
the compute N*D, and a fit file whose status or diagnostics say it was not determined
warns when it predicts in another session."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.analysis._common import FAR_ABOVE_INPUT, FAR_BELOW_INPUT
from scalinglaws.laws.forms import get_form
from scalinglaws.laws.synthetic import DEFAULT_TRUTH

TRUTH = DEFAULT_TRUTH["chinchilla"]
# the bundled sweep's ranges (datasets/synthetic_chinchilla_sweep.csv, its Runs line)
RANGE = {"N": (2.2e7, 5e10), "D": (4.5e8, 1e12), "N*D": (1e18, 5e20)}


def law_with_range():
    given = sl.FitResult.from_params("chinchilla", TRUTH)
    return dataclasses.replace(given, fitted_range=RANGE)


def quiet_predict(fit, **inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return sl.predict(fit, **inputs)


def test_an_input_far_below_its_range_warns_though_the_compute_is_inside():
    law = law_with_range()
    # 1M parameters at 1.4T tokens: N*D = 1.4e18 is inside the runs' compute
    with pytest.warns(sl.ExtrapolationWarning,
                      match=r"at N = 1e\+06, 22x below the smallest \(the fitted runs' N "
                            r"spans 2\.2e\+07 to 5e\+10\)") as caught:
        sl.predict(law, N=1e6, D=1.4e12)
    assert caught[0].filename == __file__
    assert FAR_BELOW_INPUT == 10.0  # the README's factor
    quiet_predict(law, N=2.2e7 / 9.9, D=1e11)  # 9.9x below: inside the allowance


def test_an_input_far_above_its_range_warns_though_the_compute_is_inside():
    law = law_with_range()
    # 100x the largest D with the smallest N: N*D = 2.2e21 is 4.4x the runs' compute
    with pytest.warns(sl.ExtrapolationWarning, match=r"at D = 1e\+14, 100x above the largest"):
        sl.predict(law, N=2.2e7, D=1e14)
    assert FAR_ABOVE_INPUT == 30.0
    quiet_predict(law, N=2.2e7, D=1e12 * 29)  # 29x: quiet
    # both the compute and an input: one warning naming both
    with pytest.warns(sl.ExtrapolationWarning) as caught:
        sl.predict(law, N=5e10 * 40, D=1e12)
    assert len(caught) == 1
    assert "4e+03x the largest compute" in str(caught[0].message)
    assert "N = 2e+12, 40x above the largest" in str(caught[0].message)


def test_a_compute_optimal_allocation_within_100x_stays_quiet():
    # the per-input factor must not undercut the compute one: at 100x the largest run's
    # compute the optimal N and D of the sweep's own fit stay inside 30x of their ranges
    runs = sl.generate_sweep(rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sl.fit(runs)
        sl.compute_optimal(result, 99 * float(np.max(runs.C)), draws=False)


def _one_token_count(seed=3):
    # the reviewer's oneD.csv: ten sizes, every run at 20B tokens
    n = np.logspace(7, 9, 10)
    d = np.full(10, 2e10)
    loss = get_form("chinchilla").predict(TRUTH, N=n, D=d)
    return sl.Runs.from_arrays(N=n, D=d, loss=loss * np.exp(
        np.random.default_rng(seed).normal(0, 0.01, n.size)))


def test_a_saved_fit_its_runs_did_not_determine_warns_when_it_predicts(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # the fit's own warnings
        result = sl.fit(_one_token_count())
    assert result.status == 1 and result.fitted_range["D"] == (2e10, 2e10)
    path = tmp_path / "oneD.json"
    sl.save(result, path)
    loaded = sl.load(path)
    # at the runs' own D and N: the fit's status and design still warn
    with pytest.warns(sl.IdentifiabilityWarning,
                      match=r"this chinchilla fit was not determined by its runs \(status 1: "
                            r"optimum on a bound for .*every run has D = 2e\+10") as caught:
        sl.predict(loaded, N=1e8, D=2e10)
    assert caught[0].filename == __file__
    # 1T tokens, 50x the only token count trained: also beyond its range
    with pytest.warns(sl.ExtrapolationWarning, match=r"at D = 1e\+12, 50x above the largest"), \
            pytest.warns(sl.IdentifiabilityWarning):
        sl.predict(loaded, N=1e7, D=1e12)


def test_a_calibrated_law_of_such_a_fit_warns_too(tmp_path):
    """Its prediction intervals do not make the fit determined: before, a calibrated law
    (fit --uncertainty) of an undetermined fit predicted in silence."""
    runs = _one_token_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.ScalingLawsWarning)  # the fit's own warnings
        law = sl.calibrate(sl.fit(runs), runs, n_resamples=0, rollout=False, progress=False)
    with pytest.warns(sl.IdentifiabilityWarning,
                      match=r"this chinchilla fit was not determined by its runs") as caught:
        sl.predict(law, N=1e8, D=2e10)
    assert caught[0].filename == __file__


def test_a_converged_determined_fit_predicts_quietly_after_loading(tmp_path):
    runs = sl.generate_sweep(rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sl.fit(runs)
        sl.save(result, tmp_path / "fit.json")
        sl.predict(sl.load(tmp_path / "fit.json"), N=1e9, D=2e10)


@pytest.fixture(scope="module")
def calibrated_file(tmp_path_factory):
    """`fit --uncertainty` of the bundled sweep: its largest run has C = 3e21 FLOP, so
    N*D = 5e20 (C = 6 N D)."""
    from scalinglaws.outputs.cli import main

    out = tmp_path_factory.mktemp("law") / "law.json"
    assert main(["fit", "datasets/synthetic_chinchilla_sweep.csv", "--uncertainty",
                 "--bootstrap", "20", "--out", str(out)]) == 0
    return out


def test_a_calibrated_law_warns_far_beyond_its_runs_at_every_entry_point(calibrated_file,
                                                                        tmp_path, capsys):
    """Its fitted_range lacked N*D, which measures how far out a prediction is: optimal,
    diagnose, compute_optimal and report were silent 333x beyond the runs where the plain
    fit warns. 1e24 FLOP is 1e24 / 6 / 5e20 = 333x the runs' largest N*D; 70B parameters
    on 1.4T tokens 9.8e22 / 5e20 = 196x."""
    from scalinglaws.analysis.extrapolate import diagnose
    from scalinglaws.outputs.cli import main
    from scalinglaws.outputs.report import make_report

    law = sl.load(calibrated_file)
    assert isinstance(law, sl.CalibratedFit)
    assert law.fitted_range["N*D"] == pytest.approx((1e18, 5e20), rel=1e-6)
    far = r"at up to 333x the largest compute \(C = k N D\) of the fitted runs"
    with pytest.warns(sl.ExtrapolationWarning, match=far) as caught:
        sl.compute_optimal(law, 1e24)
    assert "its prediction intervals (scalinglaws.predict" in str(caught[0].message)
    with pytest.warns(sl.ExtrapolationWarning, match=r"at up to 196x the largest compute"):
        diagnose(law, N=70e9, D=1.4e12)
    capsys.readouterr()
    assert main(["optimal", str(calibrated_file), "--C", "1e24"]) == 0
    assert "scalinglaws: warning: predicting at up to 333x" in capsys.readouterr().err
    assert main(["diagnose", str(calibrated_file), "--N", "70B", "--D", "1.4T"]) == 0
    assert "scalinglaws: warning: predicting at up to 196x" in capsys.readouterr().err
    # the report shows its allocation's warnings on the page
    page = make_report(law, None, tmp_path / "r.html", budgets=[1e24], dpi=30)
    assert "333x the largest compute" in page.read_text("utf-8")
    # a calibrated law made in Python has it too (one builder of the ranges)
    runs = sl.load_runs("datasets/synthetic_chinchilla_sweep.csv")
    made = sl.calibrate(sl.fit(runs), runs, n_resamples=0, rollout=False, progress=False)
    assert made.fitted_range["N*D"] == law.fitted_range["N*D"]
    assert "N*D" not in made.uncertainty_dict()["fitted_range"]  # the fit's section has it


# ----------------------------------------------------------------- below, and units (s35)
def test_a_compute_far_below_the_runs_warns_though_each_input_is_inside_10x():
    """The audit's `optimal fit.json --C 1e15`: 1e15 / 6 / 1e18 = 1/6000 of the smallest
    run's N*D; its compute-optimal N and D were each less than 10x below their ranges, and
    the compute was only checked upward, so it answered without a word."""
    from scalinglaws.analysis._common import FAR_BELOW

    law = law_with_range()
    with pytest.warns(sl.ExtrapolationWarning,
                      match=r"at down to 6e\+03x below the smallest compute \(C = k N D\) of "
                            r"the fitted runs") as caught:
        allocation = sl.compute_optimal(law, 1e15)
    assert caught[0].filename == __file__
    # the premise: neither input alone is 10x outside its range (hand check of the answer)
    assert RANGE["N"][0] / float(allocation.N) < FAR_BELOW_INPUT
    assert RANGE["D"][0] / float(allocation.D) < FAR_BELOW_INPUT
    assert FAR_BELOW == 100.0  # as far below as FAR_BEYOND above
    # 99x below (N*D = 1e18 / 99) stays quiet: inside the allowance
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.compute_optimal(law, 6 * 1e18 / 99)


def test_a_typed_value_a_thousand_times_below_asks_about_its_units():
    """`predict --N 7 --D 140` (billions meant) gave 517 nats and `optimal --C 3640`
    (PF-days meant) 3.48 parameters with only the generic warning; the loader's words for
    such columns now come with it."""
    law = law_with_range()
    with pytest.warns(sl.ExtrapolationWarning) as caught:
        sl.predict(law, N=7, D=140)
    text = str(caught[0].message)
    assert ("N = 7, 3.14e+06x below the smallest (the fitted runs' N spans 2.2e+07 to 5e+10) "
            "(is it parameters written in millions or billions (a 70M model as 70)?)") in text
    assert "(is it tokens written in millions or billions (1.4T tokens as 1400)?)" in text
    assert text.count("N, D and C are counts") == 1
    with pytest.warns(sl.ExtrapolationWarning) as caught:
        sl.compute_optimal(law, 3640)
    text = str(caught[0].message)
    # the compute is the value typed: N*D = 3640 / 6 against the runs' smallest 1e18
    assert f"at down to {1e18 / (3640 / 6):.3g}x below the smallest compute" in text
    assert "(is it compute in PF-days (1 PF-day = 8.64e19 FLOP) or in units of 1e18 FLOP?)" \
        in text
    # N and D are the law's answer, not typed: no question about their units
    assert "parameters written in" not in text and "tokens written in" not in text


def test_a_value_below_but_within_a_thousand_times_asks_nothing():
    law = law_with_range()
    with pytest.warns(sl.ExtrapolationWarning) as caught:
        sl.predict(law, N=2.2e7 / 999, D=1e11)  # 999x below: far, but no units slip
    assert "is it" not in str(caught[0].message)


def test_the_command_line_asks_about_units(calibrated_file, capsys):
    from scalinglaws.outputs.cli import main

    capsys.readouterr()
    assert main(["predict", str(calibrated_file), "--N", "7", "--D", "140"]) == 0
    err = capsys.readouterr().err
    assert "is it parameters written in millions or billions" in err


def test_a_calibrated_law_warns_far_below_its_runs_too(calibrated_file):
    """Its prediction interval measures how far above the runs its rollout reached, and
    said nothing of 7 parameters on 140 tokens (an extrapolation factor of 2e-18)."""
    law = sl.load(calibrated_file)
    with pytest.warns(sl.ExtrapolationWarning,
                      match=r"is it parameters written in millions or billions") as caught:
        sl.predict(law, N=7, D=140)
    assert caught[0].filename == __file__
    with warnings.catch_warnings(record=True) as caught:  # above: the law's own interval
        warnings.simplefilter("always")
        sl.predict(law, N=7e10, D=1.4e12)
    said = [str(w.message) for w in caught]
    assert said and not any("the largest compute" in text for text in said)  # once, its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sl.predict(law, N=1e9, D=2e10)  # inside: quiet
